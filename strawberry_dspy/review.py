"""Review: flag traces (or whole problems) of a harvest so that exports leave them out, unflag them, list them.

The flags live in the store (`TraceStore.flag_trace` / `flag_problem`); the Harvest browser and `strawberry review`
both write them through it, `export` and `stats` read them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from strawberry_dspy.store import Flag, TraceStore


@dataclass
class ReviewActions:
    """What one `strawberry review` call changes, in this order: flags, then unflags."""

    flag: list[int] = field(default_factory=list)  # trace ids
    flag_problem: list[str] = field(default_factory=list)
    unflag: list[int] = field(default_factory=list)
    unflag_problem: list[str] = field(default_factory=list)
    note: str = ""

    def __bool__(self) -> bool:
        return bool(self.flag or self.flag_problem or self.unflag or self.unflag_problem)


def review(directory: str | Path, actions: ReviewActions) -> list[str]:
    """Apply the flags and unflags (one line said per change); nothing is changed when any id is unknown."""
    with TraceStore.open(directory, readonly=True) as store:  # every id checked before the file is opened to write
        for trace_id in actions.flag:
            store.flag_trace_check(trace_id)
        for problem_id in actions.flag_problem:
            store.flag_problem_check(problem_id)
    with TraceStore.open(directory, readonly=False) as store:
        said = [describe(store.flag_trace(t, actions.note)) for t in actions.flag]
        said += [describe(store.flag_problem(p, actions.note)) for p in actions.flag_problem]
        said += [f"unflagged trace {t}" if store.unflag_trace(t) else f"trace {t} was not flagged" for t in actions.unflag]
        said += [f"unflagged problem {p}" if store.unflag_problem(p) else f"problem {p} was not flagged"
                 for p in actions.unflag_problem]
    return said


def describe(flag: Flag) -> str:
    """One line about a flag (its note as JSON: a note is free text)."""
    what = f"problem {flag.problem_id}" if flag.trace_id is None else f"trace {flag.trace_id} (problem {flag.problem_id})"
    return f"flagged {what}" + (f": {json.dumps(flag.note, ensure_ascii=False)}" if flag.note else "")


def flag_lines(directory: str | Path) -> list[str]:
    """Every flag, tab-separated: problem, trace ('-' for a whole problem), when, note (JSON)."""
    with TraceStore.open(directory, readonly=True) as store:
        flags = store.flags()
    return ["problem\ttrace\tflagged_at\tnote"] + [
        f"{f.problem_id}\t{'-' if f.trace_id is None else f.trace_id}\t{f.created_at}\t"
        f"{json.dumps(f.note, ensure_ascii=False)}" for f in flags]


def trace_lines(directory: str | Path, problem_id: str | None = None) -> list[str]:
    """Every trace (or one problem's), tab-separated, for a script to choose what to flag; answers as JSON."""
    with TraceStore.open(directory, readonly=True) as store:
        if problem_id is not None:
            store.flag_problem_check(problem_id)  # an unknown id is an error, not an empty list
        flagged_problems, flagged_traces = store.flagged()
        rows = list(store.traces(problem_id))
    lines = ["trace\tproblem\tsample\tcorrect\tstop_reason\tfinal_answer\tflagged"]
    for row in rows:
        flagged = "trace" if row.id in flagged_traces else "problem" if row.problem_id in flagged_problems else "-"
        lines.append(f"{row.id}\t{row.problem_id}\t{row.sample}\t{int(row.correct)}\t{row.stop_reason}\t"
                     f"{json.dumps(row.final_answer, ensure_ascii=False)}\t{flagged}")
    return lines
