"""One LM call of the turn loop, measured: text, tokens (prompt, completion, cache reads and writes), latency."""

from __future__ import annotations

import time
from dataclasses import dataclass

import dspy
from dspy.utils.exceptions import AdapterParseError
from dspy.utils.usage_tracker import track_usage

from strawberry_dspy.program.thinking import THINKING


@dataclass
class Reply:
    """The free-text output of one call and what it cost."""

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    latency_s: float = 0.0
    parse_error: str | None = None
    cache_write_tokens: int = 0
    thinking: str = ""  # the model's own thinking beside the text (program/thinking.py)
    reasoning_tokens: int = 0

    def costs(self) -> dict:
        """The fields of a Turn the call fills beside its text: tokens, latency, the model's thinking."""
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "cached_tokens": self.cached_tokens,
            "latency_s": round(self.latency_s, 4),
            "cache_write_tokens": self.cache_write_tokens,
            "thinking": self.thinking,
            "reasoning_tokens": self.reasoning_tokens,
        }


def sum_usage(usage_by_lm: dict) -> tuple[int, int, int, int]:
    """(prompt, completion, cache read, cache write) tokens of DSPy's usage, whichever engine reported it.

    Prompt tokens include the cache's. DSPy's native engine reports reads and writes under
    `prompt_tokens_details` (`cached_tokens`, `cache_creation_tokens`) for every provider: OpenAI's and vLLM's
    `cached_tokens`, Anthropic's `cache_read_input_tokens` / `cache_creation_input_tokens`, Gemini's
    `cachedContentTokenCount`; litellm keeps Anthropic's two at the top level.
    """
    prompt = completion = cached = written = 0
    for usage in usage_by_lm.values():
        prompt += int(usage.get("prompt_tokens") or 0)
        completion += int(usage.get("completion_tokens") or 0)
        details = usage.get("prompt_tokens_details")
        details = details if isinstance(details, dict) else {}
        cached += int(details.get("cached_tokens") or usage.get("cache_read_input_tokens") or 0)
        written += int(details.get("cache_creation_tokens") or usage.get("cache_creation_input_tokens") or 0)
    return prompt, completion, cached, written


def reasoning_tokens(usage_by_lm: dict) -> int:
    """The completion tokens a provider reports as reasoning (`completion_tokens_details.reasoning_tokens`), or 0."""
    total = 0
    for usage in usage_by_lm.values():
        details = usage.get("completion_tokens_details")
        total += int((details.get("reasoning_tokens") if isinstance(details, dict) else 0) or 0)
    return total


def call_turn(predict: dspy.Predict, conversation: list[dict], prompt: str, config: dict | None = None,
              prefill: str = "") -> Reply:
    """Call a one-output turn predictor; an empty or unparseable reply is recorded, not raised.

    With a prefill the reply always starts with it: llama.cpp returns the prefill with its
    continuation (but streams only the continuation), other servers only the continuation.
    """
    (output_name,) = predict.signature.output_fields
    start = time.perf_counter()
    parse_error, thinking = None, ""
    with track_usage() as tracker:
        try:
            extra = {"prefill": prefill} if prefill else {}
            prediction = predict(conversation=conversation, prompt=prompt, config=dict(config or {}), **extra)
            reply = getattr(prediction, output_name, None) or ""
            text = reply.strip()
            thinking = getattr(prediction, THINKING, None) or ""
            if prefill and not text.startswith(prefill.strip()):
                text = (prefill + reply).strip()  # the continuation as written: "Step 1:" + " Take ..."
        except AdapterParseError as exc:
            text, parse_error = "", str(exc).splitlines()[0][:200]
    latency = time.perf_counter() - start
    prompt_tokens, completion_tokens, cached, written = sum_usage(tracker.get_total_tokens())
    if not text and parse_error is None:
        parse_error = "empty reply"
    usage = tracker.get_total_tokens()
    return Reply(text, prompt_tokens, completion_tokens, cached, latency, parse_error, written, thinking,
                 reasoning_tokens(usage))
