"""The UI's store reads: what a harvest holds, the pairs export would build, and no -wal/-shm left behind."""

import json
import threading

import pytest

from strawberry_dspy.errors import UserError
from strawberry_dspy.export import ExportSettings, export
from strawberry_dspy.store import TraceStore
from strawberry_dspy.harvest.stats import harvest_stats
from strawberry_dspy.ui import data, dirs
from tests.ui.stores import SAMPLES, make_harvest


@pytest.fixture(scope="module")
def harvest_dir(tmp_path_factory):
    return make_harvest(tmp_path_factory.mktemp("ui"))


def side_files(path):
    return sorted(p.name for p in path.iterdir() if p.name.endswith(("-wal", "-shm")))


def test_view_counts_samples_pass_rates_band_and_tokens(harvest_dir):
    view = data.harvest_view(harvest_dir)
    assert [p.correct for p in view.problems] == [0, 1, 2, 3]  # the scripted model: problem i right i times of 4
    assert [p.pass_rate for p in view.problems] == [0.0, 0.25, 0.5, 0.75]
    assert [p.in_band for p in view.problems] == [False, True, True, True]  # the default band 0.1-0.9
    assert all(p.samples == SAMPLES and p.failed == 0 for p in view.problems)
    with TraceStore.open(harvest_dir) as store:
        rows = list(store.traces())
        assert view.traces == len(rows) == 16
        assert sum(p.completion_tokens for p in view.problems) == sum(r.completion_tokens for r in rows) > 0
        assert view.meta == store.meta()


def test_problem_traces_carry_their_turns(harvest_dir):
    problem = data.harvest_view(harvest_dir).problems[2]
    traces = data.problem_traces(harvest_dir, problem.id)
    assert [row.sample for row, _ in traces] == list(range(SAMPLES))
    assert sum(row.correct for row, _ in traces) == 2
    for row, turns in traces:
        assert [t.kind for t in turns if t.role != "system"] == ["problem", "step", "check", "final"]
        assert f"<final_answer>{row.final_answer}</final_answer>" == turns[-1].content


def test_pairs_and_weights_are_the_ones_export_writes(harvest_dir, tmp_path):
    config = ExportSettings(format="dpo", max_pairs=3, alpha=2.0, band=(0.1, 0.9))
    shown = data.dpo_pairs(harvest_dir, config)
    export(harvest_dir, config, tmp_path / "dpo")
    written = [json.loads(line) for line in (tmp_path / "dpo" / "train.jsonl").read_text().splitlines()]
    key = ("problem_id", "chosen_trace_id", "rejected_trace_id", "weight", "prompt", "chosen", "rejected")
    assert [[r[k] for k in key] for r in shown] == [[r[k] for k in key] for r in written]
    # the scripted traces of a problem differ only in their answer: identical renderings are dropped, as export
    # drops them, leaving one correct and one incorrect rendering of each in-band problem
    assert len(shown) == 3 and len({r["problem_id"] for r in shown}) == 3
    assert data.dpo_pairs(harvest_dir, ExportSettings(band=(0.0, 0.05))) == []  # never-solved problems make no pair


def test_stats_are_those_of_strawberry_stats(harvest_dir):
    shown = data.stats_of(harvest_dir)
    with TraceStore.open(harvest_dir) as store:
        direct = harvest_stats(store)
    assert (shown.rates, shown.stop_reasons, shown.verifier, shown.nudges) == (
        direct.rates, direct.stop_reasons, direct.verifier, direct.nudges)


def test_reading_a_finished_store_leaves_no_wal_or_shm(harvest_dir):
    TraceStore.open(harvest_dir).close()
    for name in side_files(harvest_dir):
        (harvest_dir / name).unlink()
    view = data.harvest_view(harvest_dir)
    data.problem_traces(harvest_dir, view.problems[0].id)
    data.stats_of(harvest_dir)
    data.dpo_pairs(harvest_dir, ExportSettings())
    with data.reading(harvest_dir), data.reading(harvest_dir):  # a finished store is read without a log
        assert side_files(harvest_dir) == []
    assert side_files(harvest_dir) == []


def test_reading_while_a_harvest_writes_follows_it_and_leaves_the_writers_files(tmp_path):
    out = make_harvest(tmp_path, problems=2, samples=1)
    writer = TraceStore.open(out, readonly=False)  # a harvest in progress holds the store open
    try:
        before = data.store_version(out)
        assert data.harvest_view(out).traces == 2
        row = {**vars(next(writer.traces())), "sample": 1}
        row.pop("id")
        writer.write_trace(row, [])
        assert data.store_version(out) != before
        assert data.harvest_view(out).traces == 3
        assert side_files(out) == ["traces.sqlite-shm", "traces.sqlite-wal"]  # the writer's, left alone
    finally:
        writer.close()
    assert side_files(out) == []  # the writer, last to close, removed them


def test_concurrent_readers_never_fail(harvest_dir):
    errors = []

    def read():
        try:
            for _ in range(5):
                data.harvest_view(harvest_dir)
        except Exception as exc:  # noqa: BLE001 - any failure fails the test
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and side_files(harvest_dir) == []


def test_dirs_finds_harvests_and_runs_below_a_folder(harvest_dir, tmp_path):
    run = tmp_path / "runs" / "a"
    run.mkdir(parents=True)
    (run / dirs.RESULTS_FILE).write_text("")
    found = dirs.find([harvest_dir.parent, tmp_path / "runs"])
    assert found.harvests == [harvest_dir] and found.runs == [run]
    with pytest.raises(UserError, match="does not exist"):
        dirs.find([tmp_path / "nope"], strict=True)
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="holds no harvest"):
        dirs.find([tmp_path / "empty"], strict=True)
