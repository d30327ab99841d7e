"""Store schema migrations: a version-1 store is read as it is, and upgraded in place by the first writer."""

import sqlite3

from strawberry_dspy.program.trace import Turn
from strawberry_dspy.store import SCHEMA_VERSION, TraceStore
from strawberry_dspy.store.schema import BASE_SCHEMA, MIGRATIONS


def v1_store(tmp_path):
    """A store as strawberry wrote it before the `rule` column: the first version's tables, one scored trace."""
    conn = sqlite3.connect(tmp_path / "traces.sqlite")
    conn.executescript(BASE_SCHEMA)
    conn.executemany("INSERT INTO meta VALUES (?, ?)", [("schema_version", "1"), ("program", "strawberry")])
    conn.execute("INSERT INTO problems (id, question, answer, split, qhash) VALUES ('p1', 'What is 1 + 1?', '2', "
                 "'train', 'h')")
    conn.execute("INSERT INTO traces (problem_id, sample, seed, final_answer, extracted, correct, score, stop_reason, "
                 "steps, prompt_tokens, completion_tokens, cached_tokens, latency_s, model, program_hash, created_at) "
                 "VALUES ('p1', 0, 1, '2', '2', 1, 1.0, 'final_answer', 1, 3, 2, 0, 0.1, 'local', 'abc', 'now')")
    conn.commit()
    conn.close()


def test_schema_version_counts_the_migrations():
    assert SCHEMA_VERSION == str(1 + len(MIGRATIONS)) and int(SCHEMA_VERSION) >= 2


def test_a_reader_reads_a_v1_store_without_changing_it(tmp_path):
    v1_store(tmp_path)
    with TraceStore.open(tmp_path, readonly=True) as store:
        (row,) = store.traces()
        assert row.final_answer == "2" and row.correct and row.rule is None
        assert store.meta()["schema_version"] == "1"
    columns = {r[1] for r in sqlite3.connect(tmp_path / "traces.sqlite").execute("PRAGMA table_info(traces)")}
    assert "rule" not in columns


def test_a_writer_upgrades_a_v1_store_in_place_keeping_its_traces(tmp_path):
    v1_store(tmp_path)
    with TraceStore.open(tmp_path, readonly=False) as store:
        assert store.meta()["schema_version"] == SCHEMA_VERSION
        row = dict(problem_id="p1", sample=1, seed=2, final_answer="3", extracted="3", correct=0, score=0.0,
                   stop_reason="final_answer", steps=1, prompt_tokens=3, completion_tokens=2, cached_tokens=0,
                   latency_s=0.1, model="local", program_hash="abc", rule="numeric-unequal")
        assert store.write_trace(row, [Turn("user", "problem", "What is 1 + 1?")]) is not None
    with TraceStore.open(tmp_path) as store:
        assert [(t.sample, t.rule) for t in store.traces()] == [(0, None), (1, "numeric-unequal")]
    with TraceStore.open(tmp_path, readonly=False):  # a second writer finds nothing to do
        pass


def test_a_new_store_has_every_migrated_column(tmp_path):
    TraceStore.create(tmp_path, {"program": "strawberry"}).close()
    columns = {r[1] for r in sqlite3.connect(tmp_path / "traces.sqlite").execute("PRAGMA table_info(traces)")}
    assert "rule" in columns
