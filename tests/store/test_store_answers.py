"""stated_answers (schema 3): the answer each answering turn states, found once when the trace is stored; older stores."""

import sqlite3

from strawberry_dspy.program.trace import Turn
from strawberry_dspy.store import SCHEMA_VERSION, TraceStore
from tests.store.test_migration import v1_store
from tests.store.test_store import TURNS, make_store, trace_row

CHATTY = TURNS[:3] + [Turn("user", "check", "Final answer?", meta={"forced": True}),
                      Turn("assistant", "check", "it is 3, no, 2 then"), Turn("assistant", "title", "Sums 4 and 5")]


def stated_column(path) -> list:
    """Each turn's stored stated answer (None: no row)."""
    conn = sqlite3.connect(path / "traces.sqlite")
    try:
        return [row[0] for row in conn.execute("SELECT a.answer FROM turns u LEFT JOIN stated_answers a "
                                               "ON a.trace_id = u.trace_id AND a.idx = u.idx ORDER BY u.trace_id, u.idx")]
    finally:
        conn.close()


def test_the_stated_answer_is_stored_with_the_trace(tmp_path):
    store = make_store(tmp_path)
    store.write_trace(trace_row("p1", 0), TURNS)
    store.write_trace(trace_row("p1", 1), CHATTY)
    store.close()
    # answering turns only: '' when a step states nothing, the tag's answer, the last number for a numeric gold
    assert stated_column(tmp_path) == [None, None, "1", None, "2"] + [None, None, "1", None, "2", None]
    with TraceStore.open(tmp_path) as reader:
        rows = list(reader.answer_stream())
    assert [(r[2], r[3], r[4], r[5], r[6]) for r in rows[:3]] == [
        ("assistant", "step", None, None, "1"), ("user", "nudge", "Are you sure?", None, None),
        ("assistant", "final", None, None, "2")]
    assert rows[-2][4:6] == ("Final answer?", 1) and rows[-1][6] == "2"  # titles are not read


def _as_version_2(path) -> None:
    """Rewrite a store as schema version 2 wrote it: no stated_answers table (nor the later flags, thinking, batch_calls)."""
    conn = sqlite3.connect(path / "traces.sqlite")
    with conn:
        for table in ("stated_answers", "flags", "thinking", "batch_calls"):
            conn.execute(f"DROP TABLE {table}")
        conn.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    conn.close()


def test_a_version_2_store_is_read_as_it_is_and_migrated_by_a_writer(tmp_path):
    store = make_store(tmp_path)
    store.write_trace(trace_row("p1", 0), CHATTY)
    store.close()
    _as_version_2(tmp_path)
    before = (tmp_path / "traces.sqlite").read_bytes()
    with TraceStore.open(tmp_path) as reader:  # read-only: computed on the fly, the file untouched
        legacy = [row[6] for row in reader.answer_stream()]
    assert legacy == ["1", None, "2"] and (tmp_path / "traces.sqlite").read_bytes() == before
    with TraceStore.open(tmp_path, readonly=False) as writer:  # a writer (a resumed harvest) migrates
        assert writer.meta()["schema_version"] == SCHEMA_VERSION
        writer.write_trace(trace_row("p1", 1), CHATTY)
        assert [row[6] for row in writer.answer_stream()] == legacy + legacy
    assert stated_column(tmp_path) == [None] * len(CHATTY) + [None, None, "1", None, "2", None]


def test_a_version_1_store_gets_every_migration_in_order(tmp_path):
    v1_store(tmp_path)  # neither traces.rule (2) nor stated_answers (3)
    with TraceStore.open(tmp_path, readonly=False) as writer:
        assert writer.meta()["schema_version"] == SCHEMA_VERSION and int(SCHEMA_VERSION) >= 3 and not writer.legacy
        writer.write_trace({**trace_row("p1", 1), "rule": "numeric-equal"}, CHATTY)
        assert [row[6] for row in writer.answer_stream()] == ["1", None, "2"]
    assert stated_column(tmp_path) == [None, None, "1", None, "2", None]
