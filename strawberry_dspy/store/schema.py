"""The `traces.sqlite` schema, a contract with every reader (export, stats, the UI): add columns, never rename."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime, timezone

from strawberry_dspy.store.rows import TraceRow

STORE_FILE = "traces.sqlite"
# stated_answers (migration 3): the answer each assistant step / check / final turn states
# (`final_answer.stated_answer`), found once when the trace is stored, so `stats` runs no regex per turn; '' when it
# states none. A turn without a row was stored before version 3 or by another tool: readers compute it (the
# `stated_answer` SQL function every connection has). Its own table, so that the turns table and positional inserts
# into it stay as they were.
STATED_KINDS = ("step", "check", "final")
BASE_SCHEMA = """
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
# Append-only: MIGRATIONS[i] upgrades a store of version i + 1 to version i + 2 (a writer applies them in place when
# it opens an older store; readers of an older store read what it has). Each entry is ONE SQL statement. Add a column
# by appending one statement here and its field to TraceRow (store/rows.py); never edit or reorder an entry.
MIGRATIONS: tuple[str, ...] = (
    "ALTER TABLE traces ADD COLUMN rule TEXT;",  # 2: the scoring rule that decided a trace's label
    "CREATE TABLE stated_answers (trace_id INTEGER NOT NULL REFERENCES traces(id), idx INTEGER NOT NULL, "  # 3
    "answer TEXT NOT NULL, PRIMARY KEY (trace_id, idx)) WITHOUT ROWID;",
    # 4: review flags (`strawberry review`, the Harvest browser): a flagged trace, or every trace of a flagged problem,
    # stays out of exports. trace_id 0 flags the whole problem (trace ids start at 1).
    "CREATE TABLE flags (problem_id TEXT NOT NULL REFERENCES problems(id), trace_id INTEGER NOT NULL, "
    "note TEXT NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (problem_id, trace_id)) WITHOUT ROWID;",
    # 5: a reasoning model's own thinking per turn (program/thinking.py), its own table: the turns table, its
    # positional inserts and every reader that never shows thinking stay as they were
    "CREATE TABLE thinking (trace_id INTEGER NOT NULL REFERENCES traces(id), idx INTEGER NOT NULL, "
    "text TEXT NOT NULL, PRIMARY KEY (trace_id, idx)) WITHOUT ROWID;",
    # 6: a --batch harvest's ledger (store/batch_calls.py): each request sent in a provider batch (its id starts with
    # its trace's prefix, models/waves.request_id) and, once its batch ended, the answer a rerun replays
    "CREATE TABLE batch_calls (rid TEXT PRIMARY KEY, problem_id TEXT NOT NULL, sample INTEGER NOT NULL, "
    "batch_id TEXT NOT NULL, status INTEGER, body TEXT) WITHOUT ROWID;",
)
SCHEMA_VERSION = str(1 + len(MIGRATIONS))
SCHEMA = BASE_SCHEMA + "\n".join(MIGRATIONS)  # a new store: the first version's tables, then every migration
INDEXES = "CREATE INDEX traces_problem ON traces(problem_id);"
TABLES = ("meta", "problems", "traces", "turns")
# The columns every reader relies on (version 1's): a table missing one is not a store this strawberry can read.
CORE_COLUMNS = {
    "meta": ("key", "value"),
    "problems": ("id", "question", "answer", "split", "qhash", "metadata_json", "pass_rate", "in_band"),
    "traces": ("id", "problem_id", "sample", "seed", "final_answer", "extracted", "correct", "score", "stop_reason",
               "answer_status", "steps", "prompt_tokens", "completion_tokens", "cached_tokens", "latency_s", "model",
               "program_hash", "error", "created_at"),
    "turns": ("trace_id", "idx", "role", "kind", "content", "prompt_tokens", "completion_tokens", "cached_tokens",
              "latency_s", "meta_json"),
}
TRACE_COLUMNS = tuple(f.name for f in fields(TraceRow))  # in table order: TraceRow is the one list of them
CREATED_BY_KEY, CREATED_BY = "created_by", "strawberry"  # meta: who created the store (--fresh deletes only these)
DEMO_LEAKS_META = "demo_leak_qhashes"  # meta: JSON list of question hashes a compiled program's demos give away
# A turn's prompt-cache writes are stored in its meta_json under this key (only when non-zero), not in a column:
# stores of this version stay readable by every reader as they are.
CACHE_WRITE_KEY = "cache_write_tokens"
REASONING_TOKENS_KEY = "reasoning_tokens"  # likewise: the completion tokens a provider reports as reasoning
WHOLE_PROBLEM = 0  # flags.trace_id of a flag on a whole problem
FAILED = "stop_reason = 'error'"  # a failed trace: counted, never in a pass rate or an export


def now() -> str:
    """UTC time as ISO 8601, the store's timestamp format."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
