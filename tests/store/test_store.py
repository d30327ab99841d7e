"""traces.sqlite: the schema contract with the export stage, round trips, and refusing stores it must not touch."""

import sqlite3

import pytest

from strawberry_dspy.benchmarks import Problem
from strawberry_dspy.errors import UserError
from strawberry_dspy.program.trace import Trace, Turn
from strawberry_dspy.store import SCHEMA_VERSION, TraceStore
from strawberry_dspy.store.schema import TRACE_COLUMNS

CONTRACT = {  # the columns issue 5 (export) builds on; more may be added, none renamed
    "meta": ["key", "value"],
    "problems": ["id", "question", "answer", "split", "qhash", "metadata_json"],
    "traces": ["id", "problem_id", "sample", "seed", "final_answer", "extracted", "correct", "score", "stop_reason",
               "answer_status", "steps", "prompt_tokens", "completion_tokens", "cached_tokens", "latency_s", "model",
               "program_hash", "error", "created_at"],
    "turns": ["trace_id", "idx", "role", "kind", "content", "prompt_tokens", "completion_tokens", "cached_tokens",
              "latency_s", "meta_json"],
}


def make_store(tmp_path) -> TraceStore:
    store = TraceStore.create(tmp_path, {"program": "strawberry", "benchmark": "jsonl:x"})
    store.add_problems([Problem("p1", "What is 1 + 1?", "2", {"source": "test"}),
                        Problem("p2", "What is 2 + 2?", "4", {"source": "test"})], "train")
    return store


def trace_row(pid, sample, **extra):
    row = dict(problem_id=pid, sample=sample, seed=100 + sample, final_answer="2", extracted="2", correct=1, score=1.0,
               stop_reason="final_answer", answer_status="ok", steps=1, prompt_tokens=30, completion_tokens=7,
               cached_tokens=20, latency_s=0.5, model="local", program_hash="abc", error=None)
    return {**row, **extra}


TURNS = [Turn("system", "system", "Be brief."), Turn("user", "problem", "Problem: What is 1 + 1?"),
         Turn("assistant", "step", "1 and 1", 10, 3, 8, 0.2, {"step": 1}),
         Turn("user", "nudge", "Are you sure?", meta={"nudge": 1}),
         Turn("assistant", "final", "<final_answer>2</final_answer>", 20, 4, 12, 0.3, {"answer_status": "ok"})]


def test_schema_holds_the_contract_columns_and_wal(tmp_path):
    store = make_store(tmp_path)  # WAL while open; a closed store is back to one file (see the reader test below)
    conn = sqlite3.connect(tmp_path / "traces.sqlite")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    store.close()
    conn = sqlite3.connect(tmp_path / "traces.sqlite")
    for table, columns in CONTRACT.items():
        present = [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
        assert present[: len(columns)] == columns
    assert tuple(row[1] for row in conn.execute("PRAGMA table_info(traces)")) == TRACE_COLUMNS  # TraceRow's fields
    meta = dict(conn.execute("SELECT key, value FROM meta"))
    assert meta["schema_version"] == SCHEMA_VERSION and meta["program"] == "strawberry" and meta["created_at"]


def test_trace_round_trip_through_the_read_api(tmp_path):
    store = make_store(tmp_path)
    trace_id = store.write_trace(trace_row("p1", 0), TURNS)
    store.write_trace(trace_row("p1", 1, correct=0, stop_reason="error", error="boom", final_answer=None), [TURNS[0]])
    store.close()
    with TraceStore.open(tmp_path, readonly=True) as store:
        problems = list(store.problems())
        assert [p.id for p in problems] == ["p1", "p2"] and problems[0].metadata == {"source": "test"}
        rows = list(store.traces("p1"))
        assert [(r.sample, r.correct, r.failed) for r in rows] == [(0, True, False), (1, False, True)]
        assert rows[1].error == "boom"
        trace = store.trace_of(trace_id)
        assert isinstance(trace, Trace) and trace.turns == TURNS
        assert (trace.final_answer, trace.stop_reason, trace.steps, trace.total("cached_tokens")) == ("2", "final_answer", 1, 20)
        assert store.finished() == {("p1", 0), ("p1", 1)}
        assert len(list(store.traces(include_failed=False))) == 1
        with pytest.raises(sqlite3.OperationalError):  # read-only really is
            store.conn.execute("DELETE FROM traces")


def test_a_pair_is_stored_once(tmp_path):
    store = make_store(tmp_path)
    assert store.write_trace(trace_row("p1", 0), TURNS) is not None
    assert store.write_trace(trace_row("p1", 0, seed=5), TURNS) is None
    assert store.count() == 1 and store.conn.execute("SELECT COUNT(*) FROM turns").fetchone()[0] == len(TURNS)
    assert store.delete_failed() == 0


@pytest.mark.parametrize("content", [b"this is not a database" * 100, b""])
def test_corrupt_or_foreign_file_is_one_clear_error_and_untouched(tmp_path, content):
    path = tmp_path / "traces.sqlite"
    path.write_bytes(content)
    with pytest.raises(UserError, match="corrupt|not a strawberry trace store"):
        TraceStore.open(tmp_path, readonly=False)
    assert path.read_bytes() == content


def test_another_schema_version_is_refused(tmp_path):
    make_store(tmp_path).set_meta({"schema_version": "999"})
    with pytest.raises(UserError, match="schema version '999'"):
        TraceStore.open(tmp_path)


def test_missing_store_says_how_to_make_one(tmp_path):
    with pytest.raises(UserError, match="strawberry harvest"):
        TraceStore.open(tmp_path / "nowhere")


def sidecars(folder) -> set[str]:
    return {p.name for p in folder.iterdir() if p.name.endswith(("-wal", "-shm", "-journal"))}


def test_a_reader_of_a_finished_store_leaves_no_wal_or_shm(tmp_path):
    store = make_store(tmp_path)
    store.write_trace(trace_row("p1", 0), TURNS)
    assert sidecars(tmp_path)  # WAL while the harvest writes
    store.close()
    assert sidecars(tmp_path) == set()
    with TraceStore.open(tmp_path, readonly=True) as reader:
        assert reader.count() == 1 and list(reader.by_problem())
    assert sidecars(tmp_path) == set()


def test_a_writer_closing_beside_a_reader_keeps_wal_and_both_still_work(tmp_path):
    store = make_store(tmp_path)
    store.write_trace(trace_row("p1", 0), TURNS)
    with TraceStore.open(tmp_path, readonly=True) as reader:
        assert reader.count() == 1
        cursor = reader.conn.execute("SELECT id FROM traces")  # an unfinished read holds its snapshot
        store.close()  # cannot leave WAL mode under a reader: it stays, nothing is lost
        assert cursor.fetchall() == [(1,)]
    with TraceStore.open(tmp_path, readonly=False) as writer:
        assert writer.write_trace(trace_row("p2", 0), TURNS) is not None
    with TraceStore.open(tmp_path) as reader:
        assert reader.count() == 2


def test_by_problem_streams_finished_traces_with_their_turns(tmp_path):
    store = make_store(tmp_path)
    store.write_trace(trace_row("p2", 1, correct=0), TURNS[:2])
    store.write_trace(trace_row("p2", 0), TURNS)
    store.write_trace(trace_row("p1", 0, stop_reason="error", error="boom"), TURNS[:1])
    store.close()
    with TraceStore.open(tmp_path) as reader:
        groups = reader.by_problem()
        problem, traces = next(groups)  # one problem at a time: a generator, not a list
        assert problem.id == "p2" and problem.question == "What is 2 + 2?"
        assert [(t.sample, t.correct, len(t.turns)) for t in traces] == [(0, True, len(TURNS)), (1, False, 2)]
        assert traces[0].turns[2].meta == {"step": 1} and traces[0].turns[4].content == TURNS[4].content
        assert list(groups) == []  # p1 has only a failed trace
        assert reader.tallies() == {"p1": (0, 0), "p2": (1, 2)} and reader.outcomes() == (3, 1, 1)


def test_every_open_checks_the_schema_version(tmp_path):
    make_store(tmp_path).close()
    with TraceStore.open(tmp_path, readonly=False) as store:
        store.set_meta({"schema_version": "0"})
    for readonly in (True, False):
        with pytest.raises(UserError, match="schema version '0'"):
            TraceStore.open(tmp_path, readonly=readonly)


def test_a_reader_folds_a_killed_writers_wal_in_and_leaves_one_file(tmp_path):
    import subprocess
    import sys

    store = TraceStore.create(tmp_path, {"program_hash": "x"})
    store.close()
    # a writer killed mid-harvest: its WAL (holding a committed row) and index stay beside the store
    killed = ("import os, sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('PRAGMA journal_mode=WAL'); "
              "c.execute(\"INSERT INTO meta VALUES ('after', 'kill')\"); c.commit(); os._exit(0)")
    subprocess.run([sys.executable, "-c", killed, str(tmp_path / "traces.sqlite")], check=True)
    assert (tmp_path / "traces.sqlite-wal").exists()
    with TraceStore.open(tmp_path) as reader:
        assert reader.meta()["after"] == "kill"  # nothing committed is lost
    assert sorted(p.name for p in tmp_path.iterdir()) == ["traces.sqlite"]
