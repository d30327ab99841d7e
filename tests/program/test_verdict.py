"""parse_verdict reads real verifier critiques and adversarial phrasings as a person would (negation included)."""

import json
from pathlib import Path

import pytest

from strawberry_dspy.program.modules import parse_verdict

CASES = [json.loads(line) for line in (Path(__file__).parent / "verdicts_labelled.jsonl").read_text().splitlines()]


def test_the_labelled_set_holds_real_critiques_and_all_three_labels():
    assert sum(c["source"].startswith("real") for c in CASES) >= 15
    assert {c["label"] for c in CASES} == {"correct", "incorrect", "unclear"}


@pytest.mark.parametrize("case", [c for c in CASES if c["source"] == "adversarial"], ids=lambda c: c["critique"][:40])
def test_adversarial_phrasings_are_read_as_labelled(case):
    assert parse_verdict(case["critique"]) == case["label"]


def test_real_critiques_are_never_read_as_the_opposite_and_mostly_as_labelled():
    real = [(c["label"], parse_verdict(c["critique"])) for c in CASES if c["source"].startswith("real")]
    opposite = [pair for pair in real if set(pair) == {"correct", "incorrect"}]
    assert opposite == []
    assert sum(label == read for label, read in real) >= 0.9 * len(real)


def test_no_errors_is_read_as_correct():
    assert parse_verdict("No errors, the step is correct.") == "correct"
    assert parse_verdict(None) == "unclear"
