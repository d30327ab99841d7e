"""`traces.sqlite`: one harvest's problems, traces and turns (stdlib sqlite3, WAL), with a small read API."""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from strawberry_dspy.benchmarks import Problem, question_hash
from strawberry_dspy.errors import UserError
from strawberry_dspy.program.trace import Trace, Turn

STORE_FILE = "traces.sqlite"
SCHEMA_VERSION = "1"
# A contract with the export stage: columns may be added, never renamed.
SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE problems (id TEXT PRIMARY KEY, question TEXT NOT NULL, answer TEXT NOT NULL, split TEXT NOT NULL,
  qhash TEXT NOT NULL, metadata_json TEXT, pass_rate REAL, in_band INTEGER);
CREATE TABLE traces (id INTEGER PRIMARY KEY, problem_id TEXT NOT NULL REFERENCES problems(id), sample INTEGER NOT NULL,
  seed INTEGER NOT NULL, final_answer TEXT, extracted TEXT, correct INTEGER NOT NULL, score REAL NOT NULL,
  stop_reason TEXT NOT NULL, answer_status TEXT, steps INTEGER NOT NULL, prompt_tokens INTEGER NOT NULL,
  completion_tokens INTEGER NOT NULL, cached_tokens INTEGER NOT NULL, latency_s REAL NOT NULL, model TEXT NOT NULL,
  program_hash TEXT NOT NULL, error TEXT, created_at TEXT NOT NULL, UNIQUE(problem_id, sample));
CREATE TABLE turns (trace_id INTEGER NOT NULL REFERENCES traces(id), idx INTEGER NOT NULL, role TEXT NOT NULL,
  kind TEXT NOT NULL, content TEXT NOT NULL, prompt_tokens INTEGER, completion_tokens INTEGER, cached_tokens INTEGER,
  latency_s REAL, meta_json TEXT, PRIMARY KEY (trace_id, idx));
"""
TABLES = ("meta", "problems", "traces", "turns")
TRACE_COLUMNS = ("id", "problem_id", "sample", "seed", "final_answer", "extracted", "correct", "score", "stop_reason",
                 "answer_status", "steps", "prompt_tokens", "completion_tokens", "cached_tokens", "latency_s", "model",
                 "program_hash", "error", "created_at")


def now() -> str:
    """UTC time as ISO 8601, the store's timestamp format."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class ProblemRow:
    """A problem of the harvest, with its pass rate once selection has run."""

    id: str
    question: str
    answer: str
    split: str
    qhash: str
    metadata: dict
    pass_rate: float | None = None
    in_band: bool | None = None


@dataclass
class TraceRow:
    """One stored trace (without its turns: `TraceStore.turns(id)` / `trace_of(id)`)."""

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

    @property
    def failed(self) -> bool:
        """Whether the trace ended in an error (it then counts in no pass rate)."""
        return self.stop_reason == "error"


def store_path(path: str | Path) -> Path:
    """The sqlite file of a harvest: DIR/traces.sqlite, or the file itself."""
    path = Path(path)
    return path / STORE_FILE if path.is_dir() or path.suffix != ".sqlite" else path


class TraceStore:
    """A harvest store. Writes are one transaction per finished trace, serialized by a lock (any thread)."""

    def __init__(self, conn: sqlite3.Connection, path: Path, readonly: bool):
        self.conn, self.path, self.readonly = conn, path, readonly
        self.lock = threading.Lock()

    # -- opening -----------------------------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path, readonly: bool = True) -> TraceStore:
        """Open an existing store (DIR or DIR/traces.sqlite); a missing or corrupt one is a UserError."""
        path = store_path(path)
        if not path.is_file():
            raise UserError(f"no trace store at {str(path)!r}: run `strawberry harvest PROGRAM --out DIR` first")
        uri = f"file:{path.resolve()}?mode={'ro' if readonly else 'rw'}"
        conn = sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=30)
        store = cls(conn, path, readonly)
        try:
            store._check()
        except BaseException:
            conn.close()
            raise
        if not readonly:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a killed process loses nothing committed
            conn.execute("PRAGMA foreign_keys=ON")
        return store

    @classmethod
    def create(cls, path: str | Path, meta: dict[str, str]) -> TraceStore:
        """Create a new, empty store with its meta rows."""
        path = store_path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, check_same_thread=False, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        with conn:
            conn.executescript("BEGIN;" + SCHEMA + "CREATE INDEX traces_problem ON traces(problem_id);COMMIT;")
        store = cls(conn, path, readonly=False)
        store.set_meta({"schema_version": SCHEMA_VERSION, "created_at": now(), **meta})
        return store

    def _check(self) -> None:
        """Raise a UserError if the file is not a readable trace store of this schema version."""
        try:
            tables = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            version = self.meta().get("schema_version") if "meta" in tables else None
        except sqlite3.DatabaseError as exc:
            raise UserError(f"{self.path} is corrupt or not an SQLite file ({exc}); move it away or pass --fresh") from None
        missing = [t for t in TABLES if t not in tables]
        if missing:
            raise UserError(f"{self.path} is not a strawberry trace store (no {', '.join(missing)} table); "
                            "pass another --out or --fresh")
        if version != SCHEMA_VERSION:
            raise UserError(f"{self.path} has store schema version {version!r}, this strawberry writes {SCHEMA_VERSION!r}; "
                            "harvest into another --out")

    def close(self) -> None:
        """Close the connection (after any write in progress)."""
        with self.lock:
            self.conn.close()

    def __enter__(self) -> TraceStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- meta and problems -------------------------------------------------------------------------------------
    def meta(self) -> dict[str, str]:
        """All meta rows as a dict."""
        return dict(self.conn.execute("SELECT key, value FROM meta"))

    def set_meta(self, values: dict[str, str]) -> None:
        """Insert or replace meta rows (one transaction)."""
        with self.lock, self.conn:
            self.conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                                  [(k, str(v)) for k, v in values.items()])

    def add_problems(self, problems: list[Problem], split: str) -> None:
        """Record the harvest's problems (ones already there are kept as they are)."""
        rows = [(p.id, p.question, p.answer, split, question_hash(p.question), json.dumps(p.metadata, ensure_ascii=False, default=str))
                for p in problems]
        with self.lock, self.conn:
            self.conn.executemany("INSERT OR IGNORE INTO problems (id, question, answer, split, qhash, metadata_json) "
                                  "VALUES (?, ?, ?, ?, ?, ?)", rows)

    def problems(self) -> Iterator[ProblemRow]:
        """Every problem, in insertion order."""
        query = "SELECT id, question, answer, split, qhash, metadata_json, pass_rate, in_band FROM problems ORDER BY rowid"
        for row in self.conn.execute(query).fetchall():
            in_band = None if row[7] is None else bool(row[7])
            yield ProblemRow(*row[:5], json.loads(row[5] or "{}"), row[6], in_band)

    def set_selection(self, rates: dict[str, float | None], band: tuple[float, float]) -> None:
        """Store each problem's pass rate and whether it lies in the band."""
        lo, hi = band
        rows = [(rate, None if rate is None else int(lo <= rate <= hi), pid) for pid, rate in rates.items()]
        with self.lock, self.conn:
            self.conn.executemany("UPDATE problems SET pass_rate = ?, in_band = ? WHERE id = ?", rows)
            self.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('band', ?)", (f"{lo},{hi}",))

    # -- traces ------------------------------------------------------------------------------------------------
    def write_trace(self, row: dict, turns: list[Turn]) -> int | None:
        """Insert one finished trace and its turns in one transaction; None if (problem, sample) is already stored."""
        columns = [c for c in TRACE_COLUMNS if c != "id"]
        values = [row.get("created_at") or now() if c == "created_at" else row.get(c) for c in columns]
        with self.lock:
            try:
                with self.conn:
                    cursor = self.conn.execute(
                        f"INSERT INTO traces ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", values)
                    trace_id = cursor.lastrowid
                    self.conn.executemany(
                        "INSERT INTO turns VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [(trace_id, i, t.role, t.kind, t.content, t.prompt_tokens, t.completion_tokens, t.cached_tokens,
                          t.latency_s, json.dumps(t.meta, ensure_ascii=False, default=str)) for i, t in enumerate(turns)])
            except sqlite3.IntegrityError:
                return None
        return trace_id

    def finished(self) -> set[tuple[str, int]]:
        """The (problem_id, sample) pairs already stored."""
        return set(self.conn.execute("SELECT problem_id, sample FROM traces"))

    def delete_failed(self) -> int:
        """Remove failed traces (and their turns) so they are sampled again; returns how many."""
        with self.lock, self.conn:
            self.conn.execute("DELETE FROM turns WHERE trace_id IN (SELECT id FROM traces WHERE stop_reason = 'error')")
            return self.conn.execute("DELETE FROM traces WHERE stop_reason = 'error'").rowcount

    def traces(self, problem_id: str | None = None, include_failed: bool = True) -> Iterator[TraceRow]:
        """Stored traces (optionally of one problem), ordered by problem then sample."""
        where, args = [], []
        if problem_id is not None:
            where.append("problem_id = ?")
            args.append(problem_id)
        if not include_failed:
            where.append("stop_reason != 'error'")
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        query = f"SELECT {', '.join(TRACE_COLUMNS)} FROM traces{clause} ORDER BY problem_id, sample"
        for row in self.conn.execute(query, args).fetchall():
            values = dict(zip(TRACE_COLUMNS, row))
            values["correct"] = bool(values["correct"])
            yield TraceRow(**values)

    def turns(self, trace_id: int) -> list[Turn]:
        """The turns of one trace, in order."""
        rows = self.conn.execute("SELECT role, kind, content, prompt_tokens, completion_tokens, cached_tokens, latency_s, "
                                 "meta_json FROM turns WHERE trace_id = ? ORDER BY idx", (trace_id,)).fetchall()
        return [Turn(r[0], r[1], r[2], r[3] or 0, r[4] or 0, r[5] or 0, r[6] or 0.0, json.loads(r[7] or "{}")) for r in rows]

    def trace_of(self, trace_id: int) -> Trace:
        """The stored trace rebuilt as a program Trace (turns, final answer, status, stop reason, error)."""
        row = self.conn.execute("SELECT final_answer, answer_status, stop_reason, error FROM traces WHERE id = ?",
                                (trace_id,)).fetchone()
        if row is None:
            raise KeyError(f"no trace with id {trace_id} in {self.path}")
        return Trace(self.turns(trace_id), final_answer=row[0], answer_status=row[1] or "missing", stop_reason=row[2],
                     error=row[3])

    def count(self, where: str = "1") -> int:
        """Number of traces matching an SQL condition (a constant string, never user input)."""
        return self.conn.execute(f"SELECT COUNT(*) FROM traces WHERE {where}").fetchone()[0]
