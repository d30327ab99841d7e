"""Whether a trace's steps check out: the arithmetic equations it writes, evaluated exactly."""

import pytest

from strawberry_dspy.scoring.steps import check_text


@pytest.mark.parametrize("text, checked, wrong", [
    ("Step 1: (-5 - 4) = 1.", 1, 1),  # right answer later, wrong step: a lucky guess
    ("Step 1: (-5 - 4) = -9. Step 2: -9 + 2 = -7", 2, 0),
    ("So 3 * 4 = 12 and 12 / 5 = 2.4", 2, 0),
    ("-(6 + -7) = 1", 1, 0),
    ("1 / 3 + 1 / 3 = 0.5", 1, 1),  # exact fractions, no float slack
    ("Step 1: 7 − 9 = −2.", 1, 0),  # a Unicode minus
    ("x = 5", 0, 0),  # nothing to evaluate
    ("Step 2: 7 = 7", 0, 0),
    ("5 / 0 = 1", 0, 0),  # not checkable, not a crash
    ("__import__('os') = 1", 0, 0),
])
def test_equations_are_evaluated(text, checked, wrong):
    result = check_text(text)
    assert (result.checked, result.wrong) == (checked, wrong)
    assert result.holds == (None if not checked else not wrong)
