"""Band selection on a scripted model with known pass rates, and early stopping of problems out of the band."""

import pytest

from strawberry_dspy.band import Band
from strawberry_dspy.harvest import harvest, in_band, pass_rates
from strawberry_dspy.harvest.selection import clearly_out_of_band
from strawberry_dspy.store import TraceStore
from tests.harvest.scripted import HarvestLM, gold_of, harvest_config, write_problems

K = 10


@pytest.fixture
def known(tmp_path):
    """A harvest of 6 problems whose pass rates are 0, 0.1, 0.3, 0.5, 0.9 and 1.0 by construction (one fails)."""
    config = harvest_config(write_problems(tmp_path / "problems.jsonl", 60), limit=7, concurrency=4)
    gold = gold_of(config)
    questions = list(gold)
    correct = dict(zip(questions, [0, 1, 3, 5, 9, 10, 4]))
    lm = HarvestLM(gold, correct, failing={questions[6]}, spread=K)
    summary = harvest(config, tmp_path / "h", samples=K, lm=lm, progress=False)
    with TraceStore.open(tmp_path / "h") as store:
        ids = {p.question: p.id for p in store.problems()}
    return tmp_path / "h", [ids[q] for q in questions], summary


def test_pass_rates_are_correct_over_non_failed_samples(known):
    out, ids, summary = known
    rates = pass_rates(out)
    assert [rates[i] for i in ids] == [0.0, 0.1, 0.3, 0.5, 0.9, 1.0, None]  # the failing problem has no rate


def test_in_band_and_the_marks_in_the_store(known):
    out, ids, summary = known
    assert in_band(out, Band(0.1, 0.9)) == ids[1:5]
    assert in_band(out, Band(0.2, 0.6)) == ids[2:4]
    assert in_band(out, Band(0.0, 1.0)) == ids[:6]
    assert summary.in_band == 4
    with TraceStore.open(out) as store:
        marks = {p.id: p.in_band for p in store.problems()}
        assert store.meta()["band"] == "0.1,0.9"
    assert [marks[i] for i in ids] == [False, True, True, True, True, False, None]


def test_clearly_out_of_band_rule():
    band = Band(0.1, 0.9)
    assert clearly_out_of_band(0, 4, band, 4) and clearly_out_of_band(4, 4, band, 4)
    assert not clearly_out_of_band(1, 4, band, 4)  # disagreeing samples: could be in band
    assert not clearly_out_of_band(0, 3, band, 4)  # too few samples yet
    assert not clearly_out_of_band(4, 4, Band(0.1, 1.0), 4)  # always solved is in a band that reaches 1
    assert not clearly_out_of_band(0, 4, band, 0)  # off


def test_early_stop_skips_problems_always_or_never_solved(tmp_path):
    config = harvest_config(write_problems(tmp_path / "problems.jsonl", 60), limit=4, concurrency=1)
    gold = gold_of(config)
    questions = list(gold)
    correct = dict(zip(questions, [0, 12, 3, 6]))  # never, always, 3/12, 6/12
    summary = harvest(config, tmp_path / "h", samples=12, lm=HarvestLM(gold, correct, spread=12), early_stop=3, progress=False)
    with TraceStore.open(tmp_path / "h") as store:
        ids = {p.question: p.id for p in store.problems()}
        taken = {q: store.count(problem_id=ids[q]) for q in questions}
    assert taken == dict(zip(questions, [3, 3, 12, 12]))
    assert summary.skipped == 18 and summary.traces == 30
    rates = pass_rates(tmp_path / "h")
    assert [rates[ids[q]] for q in questions] == [0.0, 1.0, 0.25, 0.5]


def test_every_reader_defaults_to_the_band_the_harvest_used(tmp_path):
    """stats, export, the UI and `in_band` select the same problems: those in the band stored by the harvest."""
    from strawberry_dspy.export import export
    from strawberry_dspy.export.config import ExportSettings
    from strawberry_dspy.harvest.stats import harvest_stats
    from strawberry_dspy.ui.data import harvest_view

    config = harvest_config(write_problems(tmp_path / "problems.jsonl", 60), limit=6, concurrency=4)
    gold = gold_of(config)
    lm = HarvestLM(gold, dict(zip(gold, [0, 1, 3, 5, 9, 10])), spread=K)
    summary = harvest(config, tmp_path / "h", samples=K, lm=lm, progress=False, band=Band(0.2, 0.6))
    with TraceStore.open(tmp_path / "h") as store:
        ids = {p.question: p.id for p in store.problems()}
        stats = harvest_stats(store)
    chosen = [ids[q] for q in list(gold)[2:4]]  # pass rates 0.3 and 0.5
    assert summary.in_band == 2 and in_band(tmp_path / "h") == chosen and stats.in_band == chosen
    assert [p.id for p in harvest_view(tmp_path / "h").problems if p.in_band] == chosen
    report = export(tmp_path / "h", ExportSettings(decontam_limit=20), tmp_path / "sft")
    assert report.counts["problems_in_band"] == 2
    assert "[0.2, 0.6]" in (tmp_path / "sft" / "README.md").read_text()
