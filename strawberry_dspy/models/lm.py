"""`lm_for(config)`: the one place that turns a ProgramSettings into the task LM every stage uses.

run, compile, harvest, bootstrap (through them) and the eval scripts all call it, so the LM's
cache, api_base and its key, engine slots, temperature, token default, request timeout and retries
(the recipe's `retry:` section, applied by `models/retry.py`) are decided here once, and so are the provider
options: the prompt cache (`models/prompt_cache.py`) and the rate gate (`models/rate_limit.py`). A `--batch`
harvest's LM (`models/batch_lm.py`) starts from the same LM, before its rate gate.
"""

from __future__ import annotations

import dspy

from strawberry_dspy.config import ProgramSettings
from strawberry_dspy.models.prompt_cache import check_prompt_cache, prompt_cache_for
from strawberry_dspy.models.rate_limit import RateGate, gated
from strawberry_dspy.models.resolve import resolve_lm

MAX_TOKENS = 256  # the LM's default; every program call sets its own budget
PROMPT_TEMPERATURE = 1.0  # a teacher / proposer model explores
PROMPT_MAX_TOKENS = 4096  # proposed instructions and reflections are long


def lm_for(config: ProgramSettings) -> dspy.LM:
    """The task LM of a config: its model, api_base (with the key api_key_env names), temperature and cache.

    The embedded engine gets as many slots as the config asks for and at least one per problem in flight. Every
    call passes the config's rate gate; the chat's prefix is marked for the provider's prompt cache where it needs it.
    """
    lm = ungated_lm_for(config)
    return gated(lm, RateGate(config.concurrency, config.max_requests_per_minute, config.max_tokens_per_minute))


def ungated_lm_for(config: ProgramSettings) -> dspy.LM:
    """lm_for's LM before the rate gate (a --batch harvest's calls wait for their batch, not for a live rate)."""
    lm = resolve_lm(config.model, temperature=config.temperature, max_tokens=MAX_TOKENS,
                    slots=max(config.slots, config.concurrency), retry=config.retry, cache=config.cache,
                    **_server(config), **prompt_cache_for(config.model, config.prompt_cache_mode))
    check_prompt_cache(lm, config.prompt_cache_mode)
    return lm


def prompt_lm_for(config: ProgramSettings, spec: str) -> dspy.LM:
    """The teacher / proposer / reflection model `spec` of a compile, with the config's cache and retry settings."""
    return resolve_lm(spec, temperature=PROMPT_TEMPERATURE, max_tokens=PROMPT_MAX_TOKENS, retry=config.retry,
                      cache=config.cache)


def _server(config: ProgramSettings) -> dict:
    if not config.api_base:
        return {"api_key_env": config.api_key_env} if config.api_key_env else {}
    return {"api_base": config.api_base, "api_key_env": config.api_key_env}
