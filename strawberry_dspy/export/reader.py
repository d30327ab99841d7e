"""Read a harvest store (traces.sqlite) read-only with plain sqlite3: problems, finished traces and their turns."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from strawberry_dspy.errors import UserError

STORE_FILE = "traces.sqlite"


@dataclass(frozen=True)
class StoredTurn:
    role: str
    kind: str
    content: str
    meta: dict = field(default_factory=dict, hash=False)


@dataclass
class StoredTrace:
    """One finished trace: outcome, length and its turns in order."""

    id: int
    problem_id: str
    sample: int
    correct: bool
    steps: int
    completion_tokens: int
    stop_reason: str
    final_answer: str | None
    turns: list[StoredTurn]


@dataclass
class StoredProblem:
    id: str
    question: str
    answer: str
    split: str
    qhash: str


@dataclass
class Store:
    """What an export needs from a store; failed traces are counted, not kept."""

    path: Path
    meta: dict[str, str]
    problems: dict[str, StoredProblem]
    traces: list[StoredTrace]
    failed: int  # traces with stop_reason "error": never exported

    def meta_json(self, key: str) -> dict:
        """A JSON-valued meta entry (versions_json, config_json) as a dict; {} when absent or unreadable."""
        try:
            return json.loads(self.meta.get(key) or "{}")
        except json.JSONDecodeError:
            return {}


def store_path(directory: str | Path) -> Path:
    """The traces.sqlite of a run directory (or the file itself); a UserError when there is none."""
    path = Path(directory)
    if path.is_dir():
        path = path / STORE_FILE
    if not path.is_file():
        raise UserError(f"no harvest store at {path}: pass a directory holding {STORE_FILE} (made by `strawberry harvest`)")
    return path


def read_store(directory: str | Path) -> Store:
    """Load problems, finished traces and turns; the store is opened read-only and never changed."""
    path = store_path(directory)
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise UserError(f"cannot open {path} read-only ({error}): check the file's permissions") from None
    try:
        return _read(db, path)
    except sqlite3.DatabaseError as error:
        raise UserError(f"{path} is not a harvest store ({error}): pass the traces.sqlite written by `strawberry harvest`") from None
    finally:
        db.close()


def _read(db: sqlite3.Connection, path: Path) -> Store:
    meta = dict(db.execute("SELECT key, value FROM meta"))
    problems = {
        row[0]: StoredProblem(*row)
        for row in db.execute("SELECT id, question, answer, split, qhash FROM problems")
    }
    turns: dict[int, list[StoredTurn]] = {}
    for trace_id, role, kind, content, meta_json in db.execute(
        "SELECT trace_id, role, kind, content, meta_json FROM turns ORDER BY trace_id, idx"
    ):
        turns.setdefault(trace_id, []).append(StoredTurn(role, kind, content, json.loads(meta_json) if meta_json else {}))
    traces, failed = [], 0
    for row in db.execute(
        "SELECT id, problem_id, sample, correct, steps, completion_tokens, stop_reason, final_answer "
        "FROM traces ORDER BY problem_id, sample, id"
    ):
        trace_id, problem_id, sample, correct, steps, tokens, stop_reason, final_answer = row
        if stop_reason == "error":
            failed += 1
            continue
        traces.append(StoredTrace(trace_id, problem_id, sample, bool(correct), steps, tokens, stop_reason,
                                  final_answer, turns.get(trace_id, [])))
    return Store(path, meta, problems, traces, failed)
