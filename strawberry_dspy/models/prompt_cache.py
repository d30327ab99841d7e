"""The provider-side prompt cache of the task LM: which models get the strawberry chat's prefix marked, and how.

The strawberry chat only grows (system prompt fixed, turns appended), so every request repeats the previous one
as its prefix. Anthropic caches a prefix only where a request marks it (`cache_control` blocks); OpenAI, vLLM,
Gemini and llama.cpp cache prefixes by themselves. DSPy 3.4's `prompt_cache=CacheConfig(...)` places the marks
through its native engine: `prefix="history"` marks the system block and the last message of every request, so
turn N writes the cache up to its end and turn N+1 reads all of it back (Anthropic looks back from a mark for the
longest cached prefix). The reads and writes come back in the usage (`program/turn_call.py` records them).
"""

from __future__ import annotations

import dspy
from dspy.clients.backend_selection import select_backend
from dspy.lm15 import CacheConfig

from strawberry_dspy.errors import UserError

MARKED_PROVIDERS = ("anthropic/",)  # providers whose cache needs marks: `auto` turns the cache on for them
HISTORY = CacheConfig(prefix="history")


def prompt_cache_for(model: str, mode: str) -> dict:
    """The `dspy.LM` keyword for a prompt_cache mode (auto | on | off): {'prompt_cache': ...} or nothing."""
    if mode == "on" or (mode == "auto" and model.startswith(MARKED_PROVIDERS)):
        return {"prompt_cache": HISTORY}
    return {}


def check_prompt_cache(lm: dspy.BaseLM, mode: str) -> None:
    """prompt_cache: on needs DSPy's native engine; say so at start-up instead of failing every call."""
    if not isinstance(lm, dspy.LM) or lm.kwargs.get("prompt_cache") is None:
        return
    try:
        native = select_backend(lm).native
    except Exception as exc:  # noqa: BLE001 - engine="lm15" raises lm15's own error for what it cannot carry
        raise UserError(f"prompt_cache: {mode} cannot be used with '{lm.model}' ({type(exc).__name__}: {exc}); "
                        "set prompt_cache: off") from None
    if not native:
        raise UserError(f"prompt_cache: {mode} needs DSPy's native engine, which '{lm.model}' does not use "
                        "(DSPy reaches it through LiteLLM); set prompt_cache: off (this provider caches by itself "
                        "or not at all)")
