"""Test doubles for programs built with strawberry-dspy, as DSPy ships `DummyLM` for its users' tests.

- `scripted_lm(answers)`: a `dspy.utils.DummyLM` whose replies are free text, the format of the project's
  `TextAdapter` (what every program here speaks); `count_tokens=True` reports a token per word, so token budgets
  can be tested. `all_prompt_text(lm)` is everything it was sent.
- `LoopbackOpenAI`: a real OpenAI-compatible server on 127.0.0.1 (chat completions, `/v1/models`) that the real
  DSPy client talks to; it records every request, streams when asked (and can hold a stream half-sent until the
  test releases it), and can inject faults (429, 503, resets, hangs, cut and truncated / empty / HTML bodies) and
  outages. It runs OpenAI's Batch API too (`/v1/files`, `/v1/batches`).
- `LoopbackAnthropic`: a server speaking Anthropic's Messages API with its prompt-cache rules and rate limits, and
  its Message Batches API. The batches of both end after a set number of polls, never on a clock
  (`loopback_batches.BatchQueue`).
- `FastLoopback`: a cheap asyncio OpenAI-compatible server for throughput runs (`python -m
  strawberry_dspy.testing.loopback_fast`).
- `LoopbackHub`: a Hugging Face Hub stand-in (for `HF_ENDPOINT`): what `export --push-to-hub` and
  `datasets.load_dataset` call.

Nothing here touches the network beyond 127.0.0.1, and nothing patches the project's own code: a test that uses a
loopback server exercises the same client, retries and rate gate a real provider would.
The names load on first use, so importing this package does not import dspy.
"""

from strawberry_dspy.lazy import lazy_exports

_EXPORTS = {"scripted_lm": "scripted", "all_prompt_text": "scripted", "LoopbackOpenAI": "loopback_openai",
            "FAULTS": "loopback_openai", "LoopbackAnthropic": "loopback_anthropic", "FastLoopback": "loopback_fast",
            "LoopbackHub": "loopback_hub"}

__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
