"""`TraceStore`: open, check, create and write `traces.sqlite` (stdlib sqlite3, WAL while a harvest writes).

The only module of the package that talks to sqlite3; the read queries live in `views.py`.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

from loguru import logger

from strawberry_dspy.band import Band
from strawberry_dspy.benchmarks import Problem, question_hash
from strawberry_dspy.errors import UserError
from strawberry_dspy.program.final_answer import stated_answer
from strawberry_dspy.program.trace import Turn
from strawberry_dspy.provenance import check_versions
from strawberry_dspy.store.schema import (CACHE_WRITE_KEY, CORE_COLUMNS, CREATED_BY, CREATED_BY_KEY, FAILED, INDEXES,
                                          MIGRATIONS, REASONING_TOKENS_KEY, SCHEMA, SCHEMA_VERSION, STATED_KINDS,
                                          STORE_FILE, TABLES, TRACE_COLUMNS, WHOLE_PROBLEM, now)
from strawberry_dspy.store.batch_calls import BatchCalls
from strawberry_dspy.store.rows import Flag
from strawberry_dspy.store.views import StoreViews


def store_path(path: str | Path) -> Path:
    """The sqlite file of a harvest: DIR/traces.sqlite, or the file itself."""
    path = Path(path)
    return path / STORE_FILE if path.is_dir() or path.suffix != ".sqlite" else path


class TraceStore(StoreViews, BatchCalls):
    """A harvest store. Writes are one transaction per finished trace, serialized by a lock (any thread)."""

    def __init__(self, conn: sqlite3.Connection, path: Path, readonly: bool):
        self.conn, self.path, self.readonly = conn, path, readonly
        self.lock = threading.Lock()
        self.trace_columns = TRACE_COLUMNS  # those this store has (an older store read as it is lacks the newer ones)
        self.legacy = False  # no stated_answers table: a read-only store of a version before 3, read as it is
        self.has_flags = True  # False: a read-only store of a version before 4 (no review flags table)
        self.has_thinking = True  # False: a read-only store of a version before 5 (no thinking table)
        # readers compute a turn's stated answer where the store has none (NULL)
        conn.create_function("stated_answer", 2, lambda text, gold: stated_answer(text or "", gold or ""),
                             deterministic=True)

    # -- opening -----------------------------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path, readonly: bool = True) -> TraceStore:
        """Open an existing store (DIR or DIR/traces.sqlite), checking its schema version; a bad one is a UserError."""
        path = store_path(path)
        if not path.is_file():
            raise UserError(f"no trace store at {str(path)!r} (no harvest store there): run `strawberry harvest "
                            f"PROGRAM --out DIR` first, or pass the directory holding {STORE_FILE}")
        if readonly:
            _settle_stale_wal(path)
        uri = f"{path.resolve().as_uri()}?mode={'ro' if readonly else 'rw'}"
        try:
            conn = sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=30)
        except sqlite3.Error as exc:
            raise UserError(f"cannot open {path} ({exc}): check the file's permissions") from None
        store = cls(conn, path, readonly)
        try:
            version = store._check()
            if not readonly:
                _writer_pragmas(conn)
                store._migrate(version)
            present = {row[1] for row in conn.execute("PRAGMA table_info(traces)")}
            store.trace_columns = tuple(c for c in TRACE_COLUMNS if c in present)
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            store.legacy = "stated_answers" not in tables
            store.has_flags = "flags" in tables
            store.has_thinking = "thinking" in tables
            check_versions(store.meta_json("versions_json"), f"trace store {path}")
        except sqlite3.DatabaseError as exc:  # damage found past the first page
            conn.close()
            raise UserError(f"{path} is corrupt ({exc}): pass the {STORE_FILE} written by `strawberry harvest`, "
                            "or move that file away yourself") from None
        except BaseException:
            conn.close()
            raise
        return store

    @classmethod
    def create(cls, path: str | Path, meta: dict[str, str]) -> TraceStore:
        """Create a new, empty store with its meta rows."""
        path = store_path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, check_same_thread=False, timeout=30)
        _writer_pragmas(conn)
        with conn:
            conn.executescript("BEGIN;" + SCHEMA + INDEXES + "COMMIT;")
        store = cls(conn, path, readonly=False)
        store.set_meta({"schema_version": SCHEMA_VERSION, "created_at": now(), CREATED_BY_KEY: CREATED_BY, **meta})
        return store

    @classmethod
    def created_here(cls, path: str | Path) -> None:
        """Check that the store at `path` is one strawberry created (its meta says so); a UserError naming it if not.

        A harvest resumes, and `--fresh` deletes, only such a store: another program's SQLite file, or a store too corrupt to read, stays.
        """
        path = store_path(path)
        with cls.open(path, readonly=True) as store:  # not a store, or corrupt: open's one-line UserError
            try:
                meta = store.meta()
            except sqlite3.DatabaseError as exc:
                raise UserError(f"{path} is corrupt ({exc}): strawberry deletes only a store it can read as its own; "
                                "move that file away yourself, or pass another --out") from None
        # stores written before CREATED_BY_KEY existed carry the harvest's identity (program_hash) instead
        if meta.get(CREATED_BY_KEY) != CREATED_BY and not ("program_hash" in meta and "created_at" in meta):
            raise UserError(f"{path} was not created by strawberry harvest (its meta has no {CREATED_BY_KEY!r} row): "
                            "a harvest resumes or deletes only a store strawberry created; pass another --out, "
                            "or move that file away yourself")

    def _check(self) -> int:
        """The store's schema version; a UserError if the file is not a trace store this strawberry can read."""
        try:
            tables = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            version = self.meta().get("schema_version") if "meta" in tables else None
        except sqlite3.DatabaseError as exc:
            raise UserError(f"{self.path} is corrupt or not a harvest store ({exc}): pass the {STORE_FILE} written by "
                            "`strawberry harvest`, or move that file away yourself") from None
        missing = [t for t in TABLES if t not in tables]
        if missing:
            raise UserError(f"{self.path} is not a strawberry trace store (no {', '.join(missing)} table): strawberry "
                            "never reads or deletes it; pass another --out, or move that file away yourself")
        if version not in {str(v) for v in range(1, int(SCHEMA_VERSION) + 1)}:
            raise UserError(f"{self.path} has store schema version {version!r}, this strawberry reads and writes "
                            f"1 to {SCHEMA_VERSION!r}; harvest into another --out")
        for table, columns in CORE_COLUMNS.items():
            present = {row[1] for row in self.conn.execute(f"PRAGMA table_info({table})")}
            missing = [c for c in columns if c not in present]
            if missing:
                raise UserError(f"{self.path} is not a readable trace store: its {table} table lacks the column(s) "
                                f"{', '.join(missing)}; pass a {STORE_FILE} written by `strawberry harvest`")
        bad = self.conn.execute("SELECT id, correct FROM traces WHERE typeof(correct) != 'integer' "
                                "OR correct NOT IN (0, 1) LIMIT 1").fetchone()
        if bad is not None:
            raise UserError(f"{self.path} is not a readable trace store: trace {bad[0]} has correct = {bad[1]!r} "
                            "(a store holds 0 or 1); pass a store written by `strawberry harvest`")
        return int(version)

    def _migrate(self, version: int) -> None:
        """Upgrade an older store in place (one transaction): the migrations after its version, then the version."""
        if version == int(SCHEMA_VERSION):
            return
        with self.lock, self.conn:
            for statement in MIGRATIONS[version - 1:]:  # one statement each (sqlite3's execute runs one)
                self.conn.execute(statement)
            self.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
        logger.info("upgraded {} from store schema version {} to {}", self.path, version, SCHEMA_VERSION)

    def close(self) -> None:
        """Close the connection (after any write in progress); a writer leaves the store without -wal/-shm files."""
        with self.lock:
            if not self.readonly:
                # Back to a rollback journal: a finished store is one file, and a read-only reader of it creates no
                # -wal/-shm (in WAL mode it would, and could not remove them). Skipped while a reader holds it open.
                try:
                    self.conn.execute("PRAGMA busy_timeout = 0")
                    self.conn.execute("PRAGMA journal_mode=DELETE")
                except sqlite3.OperationalError as exc:
                    logger.debug("{} stays in WAL mode: {}", self.path, exc)
            self.conn.close()

    def __enter__(self) -> TraceStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- writes (the harvest) ----------------------------------------------------------------------------------
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

    def set_selection(self, rates: dict[str, float | None], band: Band) -> None:
        """Store each problem's pass rate and whether it lies in the band."""
        rows = [(rate, None if rate is None else int(band.contains(rate)), pid) for pid, rate in rates.items()]
        with self.lock, self.conn:
            self.conn.executemany("UPDATE problems SET pass_rate = ?, in_band = ? WHERE id = ?", rows)
            self.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('band', ?)", (f"{band.lo},{band.hi}",))

    def write_trace(self, row: dict, turns: list[Turn]) -> int | None:
        """Insert one finished trace and its turns in one transaction; None if (problem, sample) is already stored."""
        columns = [c for c in self.trace_columns if c != "id"]
        values = [row.get("created_at") or now() if c == "created_at" else row.get(c) for c in columns]
        stated = row.get("stated")  # found on the harvest's worker (`stated_rows`); else here
        if stated is None:
            with self.lock:  # the connection is shared by the harvest's threads
                gold = self.conn.execute("SELECT answer FROM problems WHERE id = ?",
                                         (row.get("problem_id"),)).fetchone()
            stated = [] if gold is None else stated_rows(turns, gold[0])
        with self.lock:
            try:
                with self.conn:
                    cursor = self.conn.execute(
                        f"INSERT INTO traces ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", values)
                    trace_id = cursor.lastrowid
                    self.conn.executemany(
                        "INSERT INTO turns VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [(trace_id, i, t.role, t.kind, t.content, t.prompt_tokens, t.completion_tokens, t.cached_tokens,
                          t.latency_s, json.dumps(_stored_meta(t), ensure_ascii=False, default=str))
                         for i, t in enumerate(turns)])
                    self.conn.executemany("INSERT INTO stated_answers VALUES (?, ?, ?)",
                                          [(trace_id, i, answer) for i, answer in stated])
                    self.conn.executemany("INSERT INTO thinking VALUES (?, ?, ?)",
                                          [(trace_id, i, t.thinking) for i, t in enumerate(turns) if t.thinking])
            except sqlite3.IntegrityError:
                return None
        return trace_id

    # -- review flags (`strawberry review`, the Harvest browser) -------------------------------------------------
    def flag_trace(self, trace_id: int, note: str = "") -> Flag:
        """Flag one finished trace (its note replaced if already flagged); an unknown or failed one is a UserError."""
        return self._flag(self.flag_trace_check(trace_id), trace_id, note)

    def flag_trace_check(self, trace_id: int) -> str:
        """The problem of a trace that can be flagged; a UserError for an unknown or failed trace."""
        with self.lock:
            row = self.conn.execute("SELECT problem_id, stop_reason FROM traces WHERE id = ?", (trace_id,)).fetchone()
        if row is None:
            raise UserError(f"no trace with id {trace_id} in {self.path}: list the ids with `strawberry review "
                            f"{self.path.parent} --traces` (or read them in the Harvest browser)")
        if row[1] == "error":
            raise UserError(f"trace {trace_id} failed: a failed trace is never exported, so there is nothing to "
                            "flag (a plain rerun of the harvest samples it again)")
        return row[0]

    def flag_problem(self, problem_id: str, note: str = "") -> Flag:
        """Flag a whole problem: every trace of it stays out of exports; an unknown id is a UserError."""
        self.flag_problem_check(problem_id)
        return self._flag(problem_id, WHOLE_PROBLEM, note)

    def flag_problem_check(self, problem_id: str) -> None:
        """A UserError for a problem id the store does not hold."""
        if self.problem(problem_id) is None:
            raise UserError(f"no problem with id {problem_id!r} in {self.path}: list the ids with `strawberry "
                            f"review {self.path.parent} --traces`")

    def _flag(self, problem_id: str, trace_id: int, note: str) -> Flag:
        flag = Flag(problem_id, trace_id or None, note, now())
        self._review_write("INSERT OR REPLACE INTO flags (problem_id, trace_id, note, created_at) VALUES (?, ?, ?, ?)",
                           (problem_id, trace_id, note, flag.created_at))
        return flag

    def unflag_trace(self, trace_id: int) -> bool:
        """Remove a trace's flag; False when it had none."""
        return self._review_write("DELETE FROM flags WHERE trace_id = ? AND trace_id != ?", (trace_id, WHOLE_PROBLEM)) > 0

    def unflag_problem(self, problem_id: str) -> bool:
        """Remove a problem's own flag (its traces' flags stay); False when it had none."""
        return self._review_write("DELETE FROM flags WHERE problem_id = ? AND trace_id = ?",
                                  (problem_id, WHOLE_PROBLEM)) > 0

    def _review_write(self, statement: str, args: tuple) -> int:
        """One flag write (a transaction); a store that cannot be written is a UserError, not a traceback."""
        try:
            with self.lock, self.conn:
                return self.conn.execute(statement, args).rowcount
        except sqlite3.OperationalError as exc:
            raise UserError(f"cannot write the review flag to {self.path} ({exc}): check that the file is "
                            "writable, or retry in a moment") from None

    def delete_failed(self) -> int:
        """Remove failed traces (and their turns) so they are sampled again; returns how many."""
        with self.lock, self.conn:
            for table in ("turns", "stated_answers", "thinking", "flags"):  # flags: none can exist, but a trace id may be reused
                self.conn.execute(f"DELETE FROM {table} WHERE trace_id IN (SELECT id FROM traces WHERE {FAILED})")
            return self.conn.execute(f"DELETE FROM traces WHERE {FAILED}").rowcount


def stated_rows(turns: list[Turn], gold: str) -> list[tuple[int, str]]:
    """(turn index, stated answer or '') for the turns whose stated answer the store keeps (`stated_answers`)."""
    return [(i, stated_answer(t.content, gold) or "") for i, t in enumerate(turns)
            if t.role == "assistant" and t.kind in STATED_KINDS]


def _stored_meta(turn: Turn) -> dict:
    """A turn's meta as stored: cache writes and reasoning tokens ride in it (schema 1 has no column for them;
    readers pop them back)."""
    extra = {key: value for key, value in ((CACHE_WRITE_KEY, turn.cache_write_tokens),
                                          (REASONING_TOKENS_KEY, turn.reasoning_tokens)) if value}
    return {**turn.meta, **extra} if extra else turn.meta


def _settle_stale_wal(path: Path) -> None:
    """A -wal left by a killed writer: fold it into the store and go back to one file, so that a reader leaves no
    -wal/-shm beside a finished store. Skipped (nothing changes) while a writer has the store open, or when the
    file cannot be written."""
    if not Path(f"{path}-wal").exists():
        return
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True, timeout=0)
    except sqlite3.Error:
        return
    try:
        conn.execute("PRAGMA busy_timeout = 0")
        conn.execute("PRAGMA journal_mode=DELETE")  # checkpoints the WAL; fails while another connection is open
    except sqlite3.Error as exc:
        logger.debug("{} keeps its WAL (a writer holds it, or it is read-only): {}", path, exc)
    finally:
        conn.close()


def _writer_pragmas(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA journal_mode=WAL")  # readers (stats, the UI) see committed traces while the harvest writes
    conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a killed process loses nothing committed
    conn.execute("PRAGMA foreign_keys=ON")
