"""The task LM of a `--batch` harvest: the live LM, with each HTTP exchange answered by a provider batch.

`batch_lm_for` starts from the LM a live harvest uses (`lm.ungated_lm_for`: the same model, key, api_base, sampling
settings, prompt cache and retries) and gives it a DSPy engine whose requests are built and whose replies are parsed
by DSPy's own lm15 provider adapter, the code of a live call, over a transport that hands each request to `Waves`
instead of the network. So a batch harvest sends what a live one sends and stores the same traces for the same replies.

Two facts a DSPy custom engine does not get by itself are carried over from the live LM: the model's capabilities
(whether the program sends a seed, for one) and, for Anthropic, prompt tokens that count the cache reads and writes
(what DSPy's native route reports for that provider).

The waves own the retries (a request answered with a transient error goes into the next batch), so the LM tries each
call once: the recipe's `retry:` does not apply. DSPy's cache is refused: a call it answered would not reach the
waves, and the calls after it would be numbered differently in a rerun, which then could not find its batch.
"""

from __future__ import annotations

import dataclasses

import dspy
from dspy.clients.backend_selection import CLIENT_KEYS, select_backend
from dspy.clients.capabilities import capabilities
from dspy.clients.engines.lm15_engine import LM15Engine
from dspy.lm15 import Message, Request, Response, RouterConfig, TextPart, UnsupportedFeatureError

from strawberry_dspy.config import ProgramSettings
from strawberry_dspy.errors import UserError
from strawberry_dspy.models.batch_api import Answer, BatchAPI, batch_api_for
from strawberry_dspy.models.lm import ungated_lm_for
from strawberry_dspy.models.resolve import is_embedded
from strawberry_dspy.models.retry import RetryingLM
from strawberry_dspy.models.waves import Waves

BATCH_PROVIDERS = ("openai", "anthropic")  # the model spec prefixes whose batch APIs `models/batch_api.py` speaks
SUPPORTED = " and ".join(f"{p}/MODEL" for p in BATCH_PROVIDERS)


def check_batch_model(spec: str) -> None:
    """A UserError unless `spec` names a provider whose batch API strawberry speaks."""
    if is_embedded(spec):
        raise UserError(f"--batch sends the harvest to a provider's batch API, and '{spec}' is served on this "
                        f"machine; use {SUPPORTED} (with --api-base for a compatible gateway), or drop --batch")
    provider = spec.partition("/")[0]
    if provider not in BATCH_PROVIDERS:
        raise UserError(f"--batch supports {SUPPORTED} (OpenAI's and Anthropic's batch APIs), got '{spec}'; "
                        "drop --batch to harvest it live")


def batch_lm_for(config: ProgramSettings, waves: Waves) -> dspy.LM:
    """The live task LM of `config` whose every call is answered through `waves` (one batch per wave); its engine
    (`lm.engine`) is a BatchEngine."""
    check_batch_model(config.model)
    if config.cache:
        raise UserError("--batch and the recipe's cache: true do not go together: DSPy's cache would answer some "
                        "calls before they reach the batch, and a rerun could not find its batch in flight; pass "
                        "--cache=false, or drop --batch")
    live = ungated_lm_for(config)  # the key, the server and the prompt cache checked as for a live harvest
    selection = select_backend(live)
    if not selection.native:
        raise UserError(f"--batch needs DSPy's native engine for '{config.model}', which DSPy would reach through "
                        "LiteLLM here (an OPENAI_API_BASE / ANTHROPIC_API_BASE in the environment?); pass the "
                        "server as --api-base instead, or drop --batch")
    provider, clients = selection.resolution.provider, selection.clients
    url = clients.get("api_base") or clients.get("base_url")
    router = RouterConfig(api_keys={provider: clients["api_key"]} if clients.get("api_key") else None,
                          base_urls={provider: url} if url else None, transport=WaveTransport(waves))
    engine = BatchEngine(LM15Engine(router, model_type=live.model_type), live.model, provider, capabilities(live),
                         waves)
    settings = {key: value for key, value in live.kwargs.items() if key not in CLIENT_KEYS}
    return RetryingLM(live.model, model_type=live.model_type, engine=engine, cache=live.cache,
                      retry=dataclasses.replace(live.retry, max_attempts=1), **settings)


class BatchEngine:
    """A DSPy engine: the live route's lm15 adapter (request building, reply parsing) over the waves' transport."""

    def __init__(self, inner: LM15Engine, model: str, provider: str, caps, waves: Waves):
        self.inner, self.model, self.provider, self.waves = inner, model, provider, waves
        # the adapter reads these from a custom engine (dspy.clients.capabilities); the live LM's, unchanged
        self.supports_function_calling, self.supports_reasoning = caps.function_calling, caps.reasoning
        self.supports_response_schema, self.supported_params = caps.response_schema, caps.params

    def complete(self, request: Request) -> Response:
        response = _native_usage(self.inner.complete(request), self.provider)
        usage = response.usage  # the prompt as DSPy's usage counts it: with the cache's reads and writes
        self.waves.count_reply((usage.input_tokens or 0, usage.output_tokens or 0, usage.cache_read_tokens or 0,
                                usage.cache_write_tokens or 0))
        return response

    def batch_api(self) -> BatchAPI:
        """The batch API this engine's calls go to: the URL and headers (the key) its adapter builds for a one-word
        request, which is sent nowhere."""
        capture = _Capture()
        probe = LM15Engine(dataclasses.replace(self.inner.config, transport=capture), model_type=self.inner.model_type)
        try:
            probe.complete(Request(model=self.model, messages=(Message(role="user", parts=(TextPart(text="ping"),)),)))
        except _Captured:
            pass
        finally:
            probe.close()
        return batch_api_for(*capture.seen)

    def stream(self, request: Request):
        raise UnsupportedFeatureError("a batch answers whole replies: a --batch harvest does not stream")

    def close(self) -> None:
        self.inner.close()


def _native_usage(response: Response, provider: str) -> Response:
    """The usage as DSPy's native route reports it: Anthropic's input tokens with the cache reads and writes in them
    (dspy.clients.call_result.usage_dict, which counts them only when it knows the provider)."""
    usage = response.usage
    if "anthropic" not in provider or usage.input_tokens is None:
        return response
    inputs = usage.input_tokens + (usage.cache_read_tokens or 0) + (usage.cache_write_tokens or 0)
    total = inputs + usage.output_tokens if usage.output_tokens is not None else usage.total_tokens
    return dataclasses.replace(response, usage=dataclasses.replace(usage, input_tokens=inputs, total_tokens=total))


class WaveTransport:
    """An lm15 transport whose exchanges `Waves` answers (no socket of its own)."""

    def __init__(self, waves: Waves):
        self.waves = waves

    def stream(self, request) -> _Reply:
        return _Reply(self.waves.exchange(request.url, list(request.headers), request.body))

    def close(self) -> None:
        pass


class _Captured(Exception):
    """A request stopped at the transport by `_Capture`."""


class _Capture:
    """An lm15 transport that keeps the (url, headers) of the request it is handed and sends nothing."""

    seen: tuple[str, list[tuple[str, str]]] = ("", [])

    def stream(self, request) -> _Reply:
        self.seen = (request.url, list(request.headers))
        raise _Captured()

    def close(self) -> None:
        pass


class _Reply:
    """An answer in the shape of an lm15 transport response (read whole, as a non-streaming call reads it)."""

    reason, http_version = "OK", "HTTP/1.1"

    def __init__(self, answer: Answer):
        self.status, self.body = answer.status, answer.body
        self.headers = [("content-type", "application/json")]

    def read(self) -> bytes:
        return self.body

    def __iter__(self):
        yield self.body

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key.lower() == name.lower()), None)

    def close(self) -> None:
        pass

    def __enter__(self) -> _Reply:
        return self

    def __exit__(self, *exc) -> None:
        pass
