"""Review flags in the store: a trace or a whole problem, flagged and unflagged; older stores gain the table."""

import sqlite3

import pytest

from strawberry_dspy.errors import UserError
from strawberry_dspy.store import SCHEMA_VERSION, TraceStore
from tests.ui.stores import make_harvest


@pytest.fixture(scope="module")
def harvest(tmp_path_factory):
    return make_harvest(tmp_path_factory.mktemp("flags"), problems=2, samples=2)


def copy_of(harvest, tmp_path):
    (tmp_path / "h").mkdir()
    (tmp_path / "h" / "traces.sqlite").write_bytes((harvest / "traces.sqlite").read_bytes())
    return tmp_path / "h"


def test_flag_and_unflag_a_trace_and_a_problem(harvest, tmp_path):
    out = copy_of(harvest, tmp_path)
    with TraceStore.open(out, readonly=False) as store:
        first, second, *_ = store.traces()
        flag = store.flag_trace(first.id, "lucky guess")
        assert (flag.problem_id, flag.trace_id, flag.note) == (first.problem_id, first.id, "lucky guess")
        store.flag_trace(first.id, "right answer, wrong steps")  # flagged again: the note is replaced
        store.flag_problem(second.problem_id)
    with TraceStore.open(out) as store:
        assert sorted((f.trace_id or 0, f.note) for f in store.flags()) == [(0, ""), (first.id, "right answer, wrong steps")]
        assert store.flagged() == ({second.problem_id}, {first.id})
    with TraceStore.open(out, readonly=False) as store:
        assert store.unflag_trace(first.id) and not store.unflag_trace(first.id)
        assert not store.unflag_trace(0)  # 0 is how a problem flag is stored, never a trace's id
        assert store.unflag_problem(second.problem_id) and not store.unflag_problem(second.problem_id)
        assert store.flags() == []


def test_unknown_and_failed_traces_cannot_be_flagged(harvest, tmp_path):
    out = copy_of(harvest, tmp_path)
    with TraceStore.open(out, readonly=False) as store:
        with pytest.raises(UserError, match="no trace with id 999"):
            store.flag_trace(999)
        with pytest.raises(UserError, match="no problem with id 'nope'"):
            store.flag_problem("nope")
        first = next(store.traces())
        store.conn.execute("UPDATE traces SET stop_reason = 'error' WHERE id = ?", (first.id,))
        store.conn.commit()
        with pytest.raises(UserError, match=f"trace {first.id} failed"):
            store.flag_trace(first.id)
        assert store.flags() == []


def test_a_version_3_store_is_read_without_flags_and_upgraded_by_a_writer(harvest, tmp_path):
    out = copy_of(harvest, tmp_path)
    conn = sqlite3.connect(out / "traces.sqlite")
    conn.execute("DROP TABLE flags")
    conn.execute("DROP TABLE thinking")  # and the tables of later versions
    conn.execute("DROP TABLE batch_calls")
    conn.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    with TraceStore.open(out) as store:  # read as it is
        assert store.flags() == [] and store.flagged() == (set(), set())
    with TraceStore.open(out, readonly=False) as store:
        assert store.meta()["schema_version"] == SCHEMA_VERSION
        store.flag_trace(next(store.traces()).id, "upgraded")
    with TraceStore.open(out) as store:
        assert [f.note for f in store.flags()] == ["upgraded"]
