"""A reasoning model's own thinking, kept apart from its reply: where each provider puts it.

- OpenAI-compatible servers (vLLM and ollama with a reasoning parser, DeepSeek, ...) return it as the message's
  `reasoning_content`; Anthropic returns thinking blocks. DSPy's engines hand both to the adapter as an output's
  `reasoning_content`.
- Open models served without a reasoning parser write it inline, as `<think>...</think>` before the reply.

The adapter puts it in the prediction's THINKING field; a turn stores it beside its text (never in the chat sent
back, which stays the replies alone), and an export adds it only when asked (`--thinking`).
"""

from __future__ import annotations

import re

THINKING = "thinking"  # the prediction field (and Turn attribute) holding it
_THINK = re.compile(r"<think>(.*?)(?:</think>|\Z)", re.DOTALL | re.IGNORECASE)


def split_thinking(text: str) -> tuple[str, str]:
    """(thinking, reply) of a text with inline `<think>` blocks; an unclosed block runs to the end (cut off)."""
    if "<think>" not in text.lower():
        return "", text
    thinking = "\n\n".join(block.strip() for block in _THINK.findall(text) if block.strip())
    return thinking, _THINK.sub("", text).strip()


def native_thinking(output: object) -> str:
    """The thinking a provider returned beside the reply (`reasoning_content` of DSPy's output dict), or ''."""
    return (output.get("reasoning_content") or "").strip() if isinstance(output, dict) else ""


def joined(*parts: str) -> str:
    """Non-empty thinking parts, blank-line separated."""
    return "\n\n".join(p for p in parts if p)
