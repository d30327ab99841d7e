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
from strawberry_dspy.store.schema import (CACHE_WRITE_KEY, CORE_COLUMNS, CREATED_BY, CREATED_BY_KEY, FAILED, INDEXES, MIGRATIONS, SCHEMA, SCHEMA_VERSION,
                                          STATED_KINDS, STORE_FILE, TABLES, TRACE_COLUMNS, now)
from strawberry_dspy.store.views import StoreViews


def store_path(path: str | Path) -> Path:
    """The sqlite file of a harvest: DIR/traces.sqlite, or the file itself."""
    path = Path(path)
    return path / STORE_FILE if path.is_dir() or path.suffix != ".sqlite" else path


class TraceStore(StoreViews):
    """A harvest store. Writes are one transaction per finished trace, serialized by a lock (any thread)."""

    def __init__(self, conn: sqlite3.Connection, path: Path, readonly: bool):
        self.conn, self.path, self.readonly = conn, path, readonly
        self.lock = threading.Lock()
        self.trace_columns = TRACE_COLUMNS  # those this store has (an older store read as it is lacks the newer ones)
        self.legacy = False  # no stated_answers table: a read-only store of a version before 3, read as it is
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
            store.legacy = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name='stated_answers'").fetchone() is None
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
            except sqlite3.IntegrityError:
                return None
        return trace_id

    def delete_failed(self) -> int:
        """Remove failed traces (and their turns) so they are sampled again; returns how many."""
        with self.lock, self.conn:
            for table in ("turns", "stated_answers"):
                self.conn.execute(f"DELETE FROM {table} WHERE trace_id IN (SELECT id FROM traces WHERE {FAILED})")
            return self.conn.execute(f"DELETE FROM traces WHERE {FAILED}").rowcount


def stated_rows(turns: list[Turn], gold: str) -> list[tuple[int, str]]:
    """(turn index, stated answer or '') for the turns whose stated answer the store keeps (`stated_answers`)."""
    return [(i, stated_answer(t.content, gold) or "") for i, t in enumerate(turns)
            if t.role == "assistant" and t.kind in STATED_KINDS]


def _stored_meta(turn: Turn) -> dict:
    """A turn's meta as stored: cache writes ride in it (schema 1 has no column for them; readers pop them back)."""
    return {**turn.meta, CACHE_WRITE_KEY: turn.cache_write_tokens} if turn.cache_write_tokens else turn.meta


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
