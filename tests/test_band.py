"""The pass-rate band: one validity rule and message, float slack at the edges, one default, one pass rate."""

import pytest

from strawberry_dspy.band import DEFAULT_BAND, Band, pass_rate
from strawberry_dspy.errors import UserError


def test_a_band_must_be_a_range_of_rates():
    assert tuple(Band(0.2, 0.8)) == (0.2, 0.8) and Band.of([0.2, 0.8]) == Band(0.2, 0.8)
    for lo, hi in [(0.9, 0.1), (-0.1, 0.5), (0.5, 1.5), (0.5, 0.5)]:
        with pytest.raises(UserError, match=rf"--band {lo:g} {hi:g} is not a range of pass rates: need --band LO HI "
                                            r"with 0 <= LO < HI <= 1, e.g. --band 0.1 0.9"):
            Band(lo, hi)


def test_contains_is_inclusive_with_float_slack():
    band = Band(0.3, 0.7)
    assert band.contains(3 / 10 * 1.0000000001) and band.contains(0.1 * 3) and band.contains(0.7)
    assert not band.contains(0.29) and not band.contains(0.71) and not band.contains(None)


def test_the_default_means_one_right_and_one_wrong_below_ten_samples():
    for k in range(2, 10):
        inside = [c for c in range(k + 1) if DEFAULT_BAND.contains(pass_rate(c, k))]
        assert inside == list(range(1, k)), k
    assert pass_rate(0, 0) is None and pass_rate(3, 4) == 0.75
