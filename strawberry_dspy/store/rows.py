"""What the store's read views return: problems, traces (all columns, or the light form export renders) and turns."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ProblemRow:
    """A problem of the harvest, with its pass rate once selection has run."""

    id: str
    question: str
    answer: str
    split: str
    qhash: str
    metadata: dict = field(default_factory=dict)
    pass_rate: float | None = None
    in_band: bool | None = None


@dataclass
class TraceRow:
    """One stored trace, every column in table order (schema.TRACE_COLUMNS is read from these fields; a migration that
    adds a column adds its field last). Its turns: `TraceStore.turns(id)` / `trace_of(id)`."""

    id: int
    problem_id: str
    sample: int
    seed: int
    final_answer: str | None
    extracted: str | None
    correct: bool
    score: float
    stop_reason: str
    answer_status: str | None
    steps: int
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    latency_s: float
    model: str
    program_hash: str
    error: str | None
    created_at: str
    rule: str | None = None  # the scoring rule that decided `correct` (None: failed, or a store of schema version 1)

    @property
    def failed(self) -> bool:
        """Whether the trace ended in an error (it then counts in no pass rate)."""
        return self.stop_reason == "error"


@dataclass(frozen=True)
class StoredTurn:
    """A turn as an export renders it: who spoke, what kind of turn, the text and its meta."""

    role: str
    kind: str
    content: str
    meta: dict = field(default_factory=dict, hash=False)
    thinking: str = ""  # the model's own thinking, when the export reads it (else '')


def stored_turn(role: str, kind: str, content: str, meta: dict, thinking: str = "") -> StoredTurn:
    """StoredTurn(role, kind, content, meta, thinking), built in one step: the frozen dataclass's __init__ (one
    object.__setattr__ per field) costs three times as much, and an export builds millions of turns."""
    turn = _new(StoredTurn)
    _set(turn, "__dict__", {"role": role, "kind": kind, "content": content, "meta": meta, "thinking": thinking})
    return turn


_new, _set = object.__new__, object.__setattr__


@dataclass
class StoredTrace:
    """One finished trace as an export reads it: outcome, length and its turns in order."""

    id: int
    problem_id: str
    sample: int
    correct: bool
    steps: int
    completion_tokens: int
    stop_reason: str
    final_answer: str | None
    turns: list[StoredTurn]


@dataclass(frozen=True)
class Flag:
    """A reviewer's flag: one trace (trace_id) or a whole problem (trace_id None), kept out of exports."""

    problem_id: str
    trace_id: int | None
    note: str
    created_at: str
