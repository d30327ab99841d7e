"""Whether a model answered: a command writes its output only once the model has answered a request.

A harvest samples its first trace before it creates its store (harvest/harvester.py: `answered_first`); `compile`
sends one short request (`check_answers`) before it claims its folder. Either way a wrong key, a server that is
down or a model the provider does not know leaves nothing behind. A model served in this process (`local`,
`local:PATH`, `hf:DIR`) has answered once it has loaded, and is not asked.
"""

from __future__ import annotations

import dspy

from strawberry_dspy.errors import PROVIDER_FIX, ProviderFailure
from strawberry_dspy.models.resolve import is_embedded

# errors that say the provider did not answer (key, billing, model, server, transport, a spent retry budget); others
# (a request too long for the model, a bug in a program) are the request's own outcome: the provider answered
PROVIDER_ERRORS = frozenset({"ProviderUnavailable", "LMAuthError", "LMBillingError", "LMRateLimitError",
                             "LMUnsupportedModelError", "LMTimeoutError", "LMServerError", "LMTransportError",
                             "LMProviderError", "ConnectionError", "TimeoutError"})
PROBE = "Reply with the word OK."  # sent as one user message
PROBE_TOKENS = 16  # a few tokens: the reply is not read, only that there is one


def provider_failed(error: str | BaseException | None) -> bool:
    """Whether an error (an exception, or a stored trace's error text "Type: message") says the provider did not
    answer, as opposed to answering with a refusal of this one request."""
    if isinstance(error, BaseException):
        return type(error).__name__ in PROVIDER_ERRORS
    return (error or "").split(":", 1)[0] in PROVIDER_ERRORS


def check_answers(lm: dspy.BaseLM, spec: str, command: str) -> None:
    """One short request to a remote model, past DSPy's cache; raise ProviderFailure (one line, exit 1) when the
    provider does not answer it. Nothing is asked of a model served in this process."""
    if is_embedded(spec):
        return
    try:
        lm(PROBE, max_tokens=PROBE_TOKENS, cache=False)
    except Exception as error:  # noqa: BLE001 - a provider's error of any kind is sorted below
        if not provider_failed(error):
            return  # it answered, refusing this request: the command's own requests will say why
        cause = str(getattr(error, "message", None) or error).strip().splitlines()
        raise ProviderFailure(f"model {spec!r} did not answer {command}'s first request ({type(error).__name__}: "
                              f"{(cause[0] if cause else '?')[:200]}); nothing was written: {PROVIDER_FIX}") from None
