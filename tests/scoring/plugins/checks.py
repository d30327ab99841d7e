"""Scorers a user might write, for tests/scoring/test_plugin_scorer.py (loaded as path/to/checks.py:function)."""

CALLS = []


def last_digit(example, pred, trace=None):
    """Right when the answer's last digit is the gold answer's (a deliberately odd rule: it must be this one that ran)."""
    CALLS.append((example.problem_id, example.question, pred.answer, trace))
    answer = (pred.answer or "").strip()
    return bool(answer) and answer[-1] == example.answer[-1]


def half(example, pred, trace=None):
    return 0.5


def row_field(example, pred, trace=None):
    return pred.answer == example.expected  # a column of the benchmark row beyond question / answer


def broken(example, pred, trace=None):
    raise KeyError("expected_output")


def wrong_type(example, pred, trace=None):
    return "yes"


def two_args(example):
    return True
