"""Parse `<final_answer>` tags in Python: weak models cannot follow DSPy's field format."""

from __future__ import annotations

import re
from dataclasses import dataclass

from strawberry_dspy.scoring import is_number, last_number

_OPEN = re.compile(r"<\s*final[_ ]?answer\s*>", re.IGNORECASE)
_CLOSE = re.compile(r"<\s*/\s*final[_ ]?answer\s*>", re.IGNORECASE)
_PAIR = re.compile(r"<\s*final[_ ]?answer\s*>(.*?)<\s*/\s*final[_ ]?answer\s*>", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class FinalAnswer:
    """What the tags held, and how cleanly: ok, multiple, unclosed, empty or missing."""

    answer: str | None
    status: str

    @property
    def found(self) -> bool:
        return self.answer is not None


def parse_final_answer(text: str | None) -> FinalAnswer:
    """Return the final answer inside `<final_answer>` tags; a parse failure is a status, never an error."""
    if not text:
        return FinalAnswer(None, "missing")
    pairs = [p.strip() for p in _PAIR.findall(text)]
    filled = [p for p in pairs if p]
    if filled:
        return FinalAnswer(filled[-1], "ok" if len(pairs) == 1 else "multiple")
    if pairs:
        return FinalAnswer(None, "empty")
    opened = list(_OPEN.finditer(text))
    if opened:  # an opening tag the model never closed: take what follows it
        rest = _CLOSE.sub("", text[opened[-1].end():]).strip()
        return FinalAnswer(rest or None, "unclosed" if rest else "empty")
    return FinalAnswer(None, "missing")


def stated_answer(text: str, gold: str) -> str | None:
    """The answer a turn states: its <final_answer>, or for a numeric problem the last number it writes."""
    tagged = parse_final_answer(text)
    if tagged.found:
        return tagged.answer
    return last_number(text) if is_number(gold) else None
