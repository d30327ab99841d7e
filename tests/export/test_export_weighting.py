"""Step weighting of DPO pairs (shorter correct and longer incorrect weigh more) and weighted resampling."""

import statistics

import pytest

from strawberry_dspy.export.weighting import length_advantage, pair_weights, resample, resample_counts


def test_weights_order_as_the_seed_says():
    # (chosen steps, rejected steps)
    short_vs_long, even, long_vs_short = (2, 8), (5, 5), (8, 2)
    w = dict(zip(["short_vs_long", "even", "long_vs_short"], pair_weights([short_vs_long, even, long_vs_short], 1.0)))
    assert w["short_vs_long"] > w["even"] > w["long_vs_short"]
    # a shorter correct trace weighs more at equal rejected length; a longer incorrect one at equal chosen length
    by_chosen = pair_weights([(2, 6), (4, 6), (6, 6)], 1.0)
    by_rejected = pair_weights([(3, 9), (3, 6), (3, 3)], 1.0)
    assert by_chosen == sorted(by_chosen, reverse=True) and len(set(by_chosen)) == 3
    assert by_rejected == sorted(by_rejected, reverse=True) and len(set(by_rejected)) == 3


def test_weights_average_one_and_strength_and_direction_are_configurable():
    lengths = [(2, 8), (5, 5), (8, 2), (3, 4)]
    for alpha in (0.5, 1.0, 3.0):
        assert statistics.mean(pair_weights(lengths, alpha)) == pytest.approx(1.0)
    assert pair_weights(lengths, 0.0) == [1.0] * 4
    gentle, strong = pair_weights(lengths, 0.5), pair_weights(lengths, 3.0)
    assert max(strong) / min(strong) > max(gentle) / min(gentle)
    reverse = pair_weights(lengths, -1.0)
    assert reverse[0] < reverse[1] < reverse[2]  # alpha < 0 favours long correct traces
    assert length_advantage(2, 8) == pytest.approx(0.75) and length_advantage(0, 0) == 0.0


def test_resampling_reproduces_weights_in_expectation():
    weights = pair_weights([(2, 8), (5, 5), (8, 2), (3, 4), (1, 9)], 2.0)
    for factor in (1.0, 3.0):
        runs = [resample_counts(weights, factor, seed) for seed in range(4000)]
        for i, w in enumerate(weights):
            counts = [run[i] for run in runs]
            assert set(counts) <= {int(w * factor), int(w * factor) + 1}  # always floor or ceil
            assert statistics.mean(counts) == pytest.approx(w * factor, abs=0.05)
        assert all(abs(sum(run) - factor * len(weights)) <= 1 for run in runs)


def test_resampling_is_deterministic_and_repeats_rows():
    weights = [0.5, 2.5, 1.0]
    assert resample_counts(weights, 1.0, seed=7) == resample_counts(weights, 1.0, seed=7)
    rows = [{"id": 0}, {"id": 1}, {"id": 2}]
    counts = resample_counts(weights, 2.0, seed=1)
    assert counts == [1, 5, 2]
    assert [r["id"] for r in resample(rows, counts)] == [0, 1, 1, 1, 1, 1, 2, 2]
