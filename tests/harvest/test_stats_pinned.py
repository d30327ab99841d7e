"""`strawberry stats`' verifier and nudge figures on a synthetic store (eval/throughput/synthetic_store.py), pinned: the one-pass
reading of the turns (`TraceStore.signal_events`) gives the figures the per-turn stream gave before it."""

import shutil
import sqlite3

import pytest

from eval.throughput.synthetic_store import grow
from strawberry_dspy.harvest.signals import nudge_effects, trace_signals, verifier_agreement
from strawberry_dspy.harvest.stats import answer_checker, harvest_stats
from strawberry_dspy.store import TraceStore

# computed by the code before the one-pass reading, on the same 200 traces
VERDICTS = {"incorrect": [92, 112], "correct": [86, 100], "unclear": [95, 115]}
AUROC = 0.49274120375037805
NUDGES = [  # in the report's order: most changes first; #i: the synthetic recipe's nudge i
    ("#1 Are you sure?", 517, 417, 318, 99),
    ("#3 Double-check your last step.", 525, 403, 303, 100),
    ("#0 What's your next step?", 483, 391, 292, 99),
    ("#2 Any mistakes so far?", 475, 389, 287, 102),
    ("(confidence check)", 600, 200, 0, 200),
    ("(confidence check) [after a critique]", 200, 200, 0, 200),
    ("#0 What's your next step? [after a critique]", 107, 107, 0, 107),
    ("#3 Double-check your last step. [after a critique]", 106, 106, 0, 106),
    ("#2 Any mistakes so far? [after a critique]", 104, 104, 0, 104),
    ("(time is up: answer now)", 200, 91, 91, 0),
    ("#1 Are you sure? [after a critique]", 83, 83, 0, 83),
]


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    directory = tmp_path_factory.mktemp("synthetic") / "store"
    grow(directory, 200)
    with TraceStore.open(directory) as store:
        yield store


def test_verifier_and_nudge_figures_are_pinned(synthetic):
    stats = harvest_stats(synthetic)
    assert (stats.verifier.traces, stats.verifier.verdicts, stats.verifier.auroc) == (200, VERDICTS, AUROC)
    assert [(label, e.sent, e.changed, e.corrections, e.regressions) for label, e in stats.nudges.items()] == NUDGES


def test_the_analyses_alone_agree_with_the_one_pass(synthetic):
    is_correct = answer_checker(synthetic)
    agreement, effects = trace_signals(synthetic, is_correct)
    assert verifier_agreement(synthetic) == agreement and nudge_effects(synthetic, is_correct) == effects


def test_a_store_without_stored_answers_gives_the_same_figures(synthetic, tmp_path):
    shutil.copy(synthetic.path, tmp_path / "traces.sqlite")
    conn = sqlite3.connect(tmp_path / "traces.sqlite")  # as schema version 2 wrote it: no stated_answers
    with conn:
        conn.execute("DROP TABLE stated_answers")
        conn.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    conn.close()
    with TraceStore.open(tmp_path) as legacy:
        assert legacy.legacy and harvest_stats(legacy).nudges == harvest_stats(synthetic).nudges
