"""Held-out statistics: intervals over problems, paired differences, the permutation p, detectable differences."""

import math
import random

import pytest

from strawberry_dspy.stats import accuracy, mcnemar_p, paired, pass_rates, sign_flip_p, t_quantile, wilson


def test_t_quantile_matches_the_table():
    for df, table in ((1, 12.706), (2, 4.303), (5, 2.571), (10, 2.228), (30, 2.042), (299, 1.968)):
        assert t_quantile(df) == pytest.approx(table, rel=0.01)


def test_one_sample_per_problem_is_a_wilson_interval():
    acc = accuracy([1.0] * 31 + [0.0] * 69)
    assert (acc.low, acc.high) == wilson(31, 100) and acc.mean == 0.31 and acc.cell().endswith("(n=100)")


def test_several_samples_give_an_interval_over_problems_not_traces():
    # 100 problems, 4 samples: half always right, half never. 400 traces would give a narrow binomial interval;
    # the problems are the unit, so the interval is as wide as 100 problems allow.
    acc = accuracy([1.0] * 50 + [0.0] * 50, [4] * 100)
    assert acc.mean == 0.5 and acc.samples == 400 and acc.correct == 200
    assert acc.high - acc.low == pytest.approx(2 * t_quantile(99) * 0.5025 / 10, rel=0.01)
    assert acc.cell() == "50.0% [40.0%, 60.0%] (n=100 x 4)"


def test_paired_difference_sees_what_unpaired_intervals_miss():
    rng = random.Random(0)
    base = {str(i): rng.choice([0, 0.25, 0.5, 0.75, 1.0]) for i in range(300)}
    better = {pid: min(1.0, rate + (0.25 if int(pid) % 3 == 0 else 0.0)) for pid, rate in base.items()}
    diff = paired(base, better)
    assert diff.problems == 300 and diff.diff > 0 and diff.low > 0 and diff.p < 0.001
    assert diff.only_a == 0 and diff.only_b > 0
    assert diff.detectable == pytest.approx(2.8016 * (diff.high - diff.diff) / t_quantile(299), rel=0.01)


def test_no_difference_has_p_one_and_zero_width():
    rates = {"a": 0.5, "b": 0.25}
    diff = paired(rates, dict(rates))
    assert diff.diff == 0 and diff.p == 1.0 and (diff.low, diff.high) == (0.0, 0.0)


def test_paired_uses_only_shared_problems():
    diff = paired({"a": 0.0, "b": 1.0, "c": 1.0}, {"b": 1.0, "c": 0.0, "d": 1.0})
    assert diff.problems == 2 and diff.diff == -0.5 and diff.only_a == 1 and diff.only_b == 0


def test_sign_flip_p_is_exact_for_few_and_agrees_with_mcnemar_for_binary():
    # 10 problems gained, 2 lost, one sample each: the sign-flip test is McNemar's exact test
    diffs = [1.0] * 10 + [-1.0] * 2 + [0.0] * 50
    assert sign_flip_p(diffs) == pytest.approx(mcnemar_p(2, 10), abs=1e-9)
    assert sign_flip_p([0.0, 0.0]) == 1.0


def test_pass_rates_from_rows():
    rates, counts = pass_rates([{"problem_id": "a", "correct": True}, {"problem_id": "a", "correct": False},
                                {"problem_id": "b", "correct": True}])
    assert rates == {"a": 0.5, "b": 1.0} and counts == {"a": 2, "b": 1}
    assert not math.isnan(accuracy([]).mean)
