"""Harvest logic with a scripted model: K seeded samples, consistent rows under concurrency, resume, faults, bad input."""

import json
import sqlite3

import pytest

from strawberry_dspy.benchmarks import split_of
from strawberry_dspy.errors import ProviderFailure, UserError
from strawberry_dspy.harvest import harvest, sample_seed
from strawberry_dspy.program.build import build_program
from strawberry_dspy.store import SCHEMA, SCHEMA_VERSION, TraceStore
from tests.harvest.scripted import HarvestLM, gold_of, harvest_config, write_problems


@pytest.fixture
def problems_file(tmp_path):
    return write_problems(tmp_path / "problems.jsonl", 60)


def run(config, out, samples, lm=None, **kwargs):
    lm = lm or HarvestLM(gold_of(config), {q: 1 for q in gold_of(config)})
    return harvest(config, out, samples=samples, lm=lm, progress=False, **kwargs), lm


def test_k_seeded_samples_per_problem_with_consistent_rows_and_sums(tmp_path, problems_file):
    config = harvest_config(problems_file, limit=8, concurrency=4)
    summary, lm = run(config, tmp_path / "h", samples=5)
    assert (summary.traces, summary.new, summary.failed) == (40, 40, 0)
    with TraceStore.open(tmp_path / "h") as store:
        rows = list(store.traces())
        assert sorted((r.problem_id, r.sample) for r in rows) == sorted((p.id, s) for p in store.problems() for s in range(5))
        assert all(r.seed == sample_seed(config.seed, r.problem_id, r.sample) for r in rows)
        assert len({r.seed for r in rows}) == 40
        # each sample reached the LM with its own rollout id (so DSPy's cache cannot return another sample's reply)
        assert {h["kwargs"]["rollout_id"] for h in lm.history} == {r.seed for r in rows}
        for r in rows:
            turns = store.turns(r.id)
            assert r.prompt_tokens == sum(t.prompt_tokens for t in turns) > 0
            assert r.completion_tokens == sum(t.completion_tokens for t in turns) > 0
            assert r.steps == sum(t.kind == "step" for t in turns) == 1
            assert r.model == "local" and r.program_hash == store.meta()["program_hash"]
        total = store.conn.execute("SELECT SUM(completion_tokens) FROM turns").fetchone()[0]
        assert total == sum(r.completion_tokens for r in rows) == summary.completion_tokens
        assert sum(r.correct for r in rows) == 8  # the scripted model answers one check per problem right
        assert all(r.rule for r in rows) and {r.rule for r in rows if r.correct}.isdisjoint({r.rule for r in rows if not r.correct})
    assert lm.calls == 80  # a step and a check per trace, nothing sampled twice


def test_rerun_resumes_and_more_samples_extend(tmp_path, problems_file):
    config = harvest_config(problems_file, limit=4)
    run(config, tmp_path / "h", samples=2)
    with TraceStore.open(tmp_path / "h") as store:
        before = {(r.problem_id, r.sample): (r.id, r.created_at) for r in store.traces()}
    again, lm = run(config, tmp_path / "h", samples=2)
    assert again.new == 0 and lm.calls == 0 and again.traces == 8
    more, _ = run(config, tmp_path / "h", samples=3)
    assert (more.new, more.traces) == (4, 12)
    with TraceStore.open(tmp_path / "h") as store:
        after = {(r.problem_id, r.sample): (r.id, r.created_at) for r in store.traces()}
        assert store.meta()["samples"] == "3"
    assert all(after[key] == value for key, value in before.items())


def test_fresh_starts_over_with_the_same_seeds(tmp_path, problems_file):
    config = harvest_config(problems_file, limit=3)
    run(config, tmp_path / "h", samples=2)
    with TraceStore.open(tmp_path / "h") as store:
        seeds = sorted(r.seed for r in store.traces())
    summary, _ = run(config, tmp_path / "h", samples=2, fresh=True)
    assert summary.new == 6
    with TraceStore.open(tmp_path / "h") as store:
        assert sorted(r.seed for r in store.traces()) == seeds


def test_failing_calls_are_stored_as_failed_and_the_rest_complete(tmp_path, problems_file):
    config = harvest_config(problems_file, limit=6, concurrency=3)
    gold = gold_of(config)
    broken = sorted(gold)[:2]
    lm = HarvestLM(gold, {q: 2 for q in gold}, failing=set(broken))
    summary, _ = run(config, tmp_path / "h", samples=3, lm=lm)
    assert (summary.traces, summary.failed, summary.new_failed) == (18, 6, 6)
    with TraceStore.open(tmp_path / "h") as store:
        questions = {p.id: p.question for p in store.problems()}
        for r in store.traces():
            if questions[r.problem_id] in broken:
                assert r.failed and not r.correct and "provider unavailable" in r.error and r.score == 0.0
            else:
                assert not r.failed and r.error is None
        assert store.outcomes()[2] == 8  # 2 right answers on each of the 4 working problems
    # --keep-failed leaves them as they are
    summary, lm = run(config, tmp_path / "h", samples=3, lm=HarvestLM(gold, {q: 3 for q in gold}), keep_failed=True)
    assert (summary.new, summary.failed, summary.traces) == (0, 6, 18) and lm.calls == 0
    # the provider is back: a plain rerun samples exactly the failed ones again
    summary, lm = run(config, tmp_path / "h", samples=3, lm=HarvestLM(gold, {q: 3 for q in gold}))
    assert (summary.new, summary.failed, summary.traces) == (6, 0, 18) and lm.calls == 12


def test_a_provider_that_keeps_failing_stops_the_harvest(tmp_path, problems_file):
    config = harvest_config(problems_file, limit=10, concurrency=2)
    lm = HarvestLM(gold_of(config), failing=set(gold_of(config)))
    with pytest.raises(ProviderFailure, match="the last 10 traces all failed .*provider unavailable.*rerun the same"):
        run(config, tmp_path / "h", samples=3, lm=lm)
    with TraceStore.open(tmp_path / "h") as store:
        assert 10 <= store.outcomes()[1] < 30


def test_temperature_override_reaches_lm_default_and_set_knobs(problems_file):
    config = harvest_config(problems_file, strawberry={"check_every": 1, "temperature": 0.3})
    program = build_program(config)
    config.set_temperature(1.2)
    assert config.temperature == 1.2 and config.strawberry.temperature == 1.2
    assert program.knobs.temperature == 1.2  # the program reads the config's knobs: no copy to update
    with pytest.raises(UserError, match="temperature"):
        config.set_temperature(-1.0)


def test_temperature_override_reaches_a_baseline_program(problems_file):
    config = harvest_config(problems_file, program="zero_shot", baseline={"temperature": 0.3})
    program = build_program(config)
    config.set_temperature(0.9)
    assert program.knobs.temperature == 0.9 and not hasattr(program, "temperature")


@pytest.mark.parametrize("samples, concurrency, message", [(0, 2, "--samples must be >= 1"),
                                                           (2, 0, "concurrency must be >= 1")])
def test_bad_counts_are_user_errors(tmp_path, problems_file, samples, concurrency, message):
    config = harvest_config(problems_file)
    config.concurrency = concurrency
    with pytest.raises(UserError, match=message):
        run(config, tmp_path / "h", samples=samples)
    assert not (tmp_path / "h").exists()


def test_a_benchmark_without_problems_is_a_user_error(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(UserError, match="no rows"):
        run(harvest_config(empty), tmp_path / "h", samples=2, lm=HarvestLM({}))
    one = tmp_path / "one.jsonl"
    one.write_text(json.dumps({"question": "What is 1 + 1?", "answer": "2"}) + "\n")
    other_split = next(s for s in ("train", "dev", "test") if s != split_of("What is 1 + 1?"))
    with pytest.raises(UserError, match=f"no {other_split} problems"):
        run(harvest_config(one, split=other_split), tmp_path / "h", samples=2, lm=HarvestLM({}))
    assert not (tmp_path / "h").exists()


def _store_bytes(out):
    """The database file and any WAL content (a read-only look may leave an empty WAL and its index behind)."""
    wal = out / "traces.sqlite-wal"
    return (out / "traces.sqlite").read_bytes(), wal.read_bytes() if wal.exists() else b""


@pytest.mark.parametrize("change, named", [({"program": "cot"}, "program"),
                                           ({"benchmark": None}, "benchmark"),
                                           ({"strawberry": {"check_every": 2}}, "program_hash"),
                                           ({"temperature": 0.1}, "temperature")])
def test_a_store_of_another_setup_is_refused_untouched(tmp_path, problems_file, change, named):
    run(harvest_config(problems_file, limit=2), tmp_path / "h", samples=1)
    if change.get("benchmark", 1) is None:
        change = {"benchmark": f"jsonl:{write_problems(tmp_path / 'other.jsonl', 50)}"}
    before = _store_bytes(tmp_path / "h")
    with pytest.raises(UserError, match=f"{named} .*--fresh"):
        run(harvest_config(problems_file, limit=2, **change), tmp_path / "h", samples=1)
    assert _store_bytes(tmp_path / "h") == before


def _foreign_sqlite(path):
    """Another program's SQLite database (a table of its own, no strawberry meta)."""
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
        conn.execute("INSERT INTO notes (text) VALUES ('the user's notes')".replace("user's", "users"))
    conn.close()
    return path.read_bytes()


def _store_lookalike(path):
    """A database with the store's tables but no meta saying strawberry created it."""
    conn = sqlite3.connect(path)
    with conn:
        conn.executescript(SCHEMA + f"INSERT INTO meta VALUES ('schema_version', '{SCHEMA_VERSION}');")
    conn.close()
    return path.read_bytes()


def _garbage(path):
    path.write_bytes(b"garbage" * 500)
    return path.read_bytes()


@pytest.mark.parametrize("make, named", [(_garbage, "corrupt"),
                                         (_foreign_sqlite, "not a strawberry trace store"),
                                         (_store_lookalike, "not created by strawberry harvest")],
                         ids=["corrupt", "another program's database", "store tables, no strawberry meta"])
@pytest.mark.parametrize("fresh", [False, True])
def test_a_store_strawberry_did_not_create_is_refused_untouched_even_with_fresh(tmp_path, problems_file, make, named,
                                                                                 fresh):
    out = tmp_path / "h"
    out.mkdir()
    before = make(out / "traces.sqlite")
    config = harvest_config(problems_file, limit=2)
    with pytest.raises(UserError, match=named) as refused:
        run(config, out, samples=1, fresh=fresh)
    assert str(out / "traces.sqlite") in str(refused.value)
    assert "--fresh" not in str(refused.value)  # never advised for a file strawberry would not delete
    assert (out / "traces.sqlite").read_bytes() == before
    assert [p.name for p in out.iterdir()] == ["traces.sqlite"]  # nothing written beside it either


def test_provenance_files_beside_the_store(tmp_path, problems_file):
    config = harvest_config(problems_file, limit=2)
    run(config, tmp_path / "h", samples=1)
    assert {"traces.sqlite", "config.yaml", "run.log", "versions.json"} <= {p.name for p in (tmp_path / "h").iterdir()}
    assert "dspy" in json.loads((tmp_path / "h" / "versions.json").read_text())
    meta = dict(sqlite3.connect(tmp_path / "h" / "traces.sqlite").execute("SELECT key, value FROM meta"))
    assert json.loads(meta["config_json"])["strawberry"]["check_every"] == 1
    assert {"program_hash", "program", "benchmark", "model", "versions_json", "created_at"} <= set(meta)


@pytest.mark.parametrize("cached", [False, True])
def test_the_harvest_lm_follows_the_configs_cache_setting(tmp_path, problems_file, monkeypatch, cached):
    # a resumed sample has the same rollout id as its killed attempt: a disk-cached reply would carry no usage
    import strawberry_dspy.models.lm as lm_layer
    config = harvest_config(problems_file, limit=2)
    config.cache, config.slots = cached, 5  # more slots than traces in flight: the harvest must not ignore them
    asked = []

    def resolve_lm(spec, **kwargs):
        asked.append(kwargs)
        return HarvestLM(gold_of(config), {q: 1 for q in gold_of(config)})

    monkeypatch.setattr(lm_layer, "resolve_lm", resolve_lm)  # under lm_for, which every stage calls
    harvest(config, tmp_path / "h", samples=1, progress=False)
    assert [kwargs["cache"] for kwargs in asked] == [cached]
    assert [kwargs["slots"] for kwargs in asked] == [5]  # the recipe's slots: count, not only --concurrency


def test_the_harvest_stores_each_answering_turns_stated_answer(tmp_path, problems_file):
    config = harvest_config(problems_file, limit=4, concurrency=2)
    run(config, tmp_path / "h", samples=2)
    with TraceStore.open(tmp_path / "h") as store:
        stored = dict(((t, i), a) for t, i, a in store.conn.execute("SELECT trace_id, idx, answer FROM stated_answers"))
        answering = {(r.id, i) for r in store.traces() for i, t in enumerate(store.turns(r.id))
                     if t.role == "assistant" and t.kind in ("step", "check", "final")}
        assert set(stored) == answering and answering
        # a correct trace stated the gold answer in some answering turn (its check, for the scripted model)
        gold = {p.id: p.answer for p in store.problems()}
        correct = [r for r in store.traces() if r.correct]
        assert correct and all(gold[r.problem_id] in {a for (t, _), a in stored.items() if t == r.id} for r in correct)
