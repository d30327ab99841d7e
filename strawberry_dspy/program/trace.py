"""The structured result of one reasoning run: every turn with its kind, tokens and latency."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

TURN_KINDS = ("problem", "step", "nudge", "check", "verify", "title", "final")


@dataclass
class Turn:
    """One message of the trace; assistant turns carry the LM call's tokens and latency."""

    role: str  # system | user | assistant | verifier
    kind: str  # one of TURN_KINDS
    content: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    latency_s: float = 0.0
    meta: dict = field(default_factory=dict)
    cache_write_tokens: int = 0  # prompt tokens written to the provider's prompt cache (Anthropic charges them extra)
    thinking: str = ""  # the model's own thinking beside its reply (program/thinking.py); never sent back in the chat
    reasoning_tokens: int = 0  # of the completion tokens, those the provider reports as reasoning (0: not reported)


@dataclass
class Trace:
    """All turns of one run, the final answer and why the run stopped."""

    turns: list[Turn] = field(default_factory=list)
    final_answer: str | None = None
    answer_status: str = "missing"
    stop_reason: str = "unfinished"
    error: str | None = None

    def add(self, turn: Turn) -> Turn:
        self.turns.append(turn)
        return turn

    @property
    def steps(self) -> int:
        return sum(1 for t in self.turns if t.kind == "step")

    def total(self, name: str) -> int:
        """Sum of a token counter (prompt_tokens, completion_tokens, cached_tokens, cache_write_tokens) over all turns."""
        return sum(getattr(t, name) for t in self.turns)

    @property
    def latency_s(self) -> float:
        return sum(t.latency_s for t in self.turns)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Trace:
        turns = [Turn(**t) for t in data.get("turns", [])]
        return cls(**{**data, "turns": turns})
