"""Objectives: `band` prefers settings whose pass rates fall in the band over ones with higher accuracy."""

import pytest

from strawberry_dspy.band import Band
from strawberry_dspy.benchmarks import load_benchmark
from strawberry_dspy.compile import Objective
from strawberry_dspy.compile.objectives import evaluate
from strawberry_dspy.errors import UserError
from strawberry_dspy.knobs import StrawberrySettings
from strawberry_dspy.program import StrawberryProgram
from tests.compile.helpers import gold_sum, is_check, rule_lm, write_sums
from tests.compile.test_search import compile_sums

SURE = "Are you sure?"


def right_when_asked_if_sure(messages) -> str:
    """The model answers right only if it was nudged with 'Are you sure?' (nudges are drawn per seed)."""
    if not is_check(messages):
        return "I add the numbers."
    asked = any(m["role"] == "user" and m["content"] == SURE for m in messages)
    return f"<final_answer>{gold_sum(messages) if asked else -1}</final_answer>"


NUDGE_SPACE = {"nudges": {"sure": [SURE], "mixed": ["Go on.", SURE]}}


def test_band_value_counts_problems_inside_the_band():
    band = Objective("band", Band(0.25, 0.75), samples=4)
    assert band.value([0.5, 0.25, 0.75, 1.0, 0.0]) == 3
    assert band.value([1.0, 1.0, 1.0]) == 0  # perfect accuracy, nothing barely solvable
    assert Objective("accuracy").value([1.0, 0.0, 0.5, 0.5]) == 0.5


@pytest.mark.parametrize("objective, expected", [
    (Objective("accuracy"), "sure"),  # always right
    (Objective("band", Band(0.25, 0.75), samples=4), "mixed"),  # right about half the time: in the band
])
def test_search_objective_decides_between_accuracy_and_band(tmp_path, objective, expected):
    _, meta = compile_sums(tmp_path, NUDGE_SPACE, budget=2, rule=right_when_asked_if_sure, objective=objective,
                           knobs={"nudges": ["Go on."]})
    assert meta["knobs"]["nudges"] == ["recipe", expected]
    after = meta["scores"]["after"]["dev"]
    if objective.name == "band":
        assert after["in_band"] >= 4 and after["accuracy"] < 1.0 and after["samples"] == 4
        assert "in band" in (tmp_path / "out" / "report.md").read_text()
    else:
        assert after["accuracy"] == 1.0


def test_evaluate_samples_with_distinct_seeds_and_counts_lm_calls(tmp_path):
    bench = load_benchmark(write_sums(tmp_path / "sums.jsonl"))
    problems = bench.problems("dev", 4)
    knobs = StrawberrySettings(nudges=["Go on.", SURE], check_every=2, max_turns=8, verifier_every=0, force_answer=False,
                               check_prefill="<final_answer>")
    result = evaluate(StrawberryProgram(knobs), problems, bench, rule_lm(right_when_asked_if_sure),
                      Objective("band", Band(0.25, 0.75), samples=6), concurrency=2, seed=0)
    assert 0.0 < result.pass_rate < 1.0 and result.samples == 6 and len(result.results) == 4
    assert result.lm_calls == 6 * 4 * 3  # step, step, check per sample


@pytest.mark.parametrize("objective, message", [
    (lambda: Objective("band", Band(0.8, 0.2), samples=4), "0 <= LO < HI <= 1"),
    (lambda: Objective("band", Band(0.5, 0.5), samples=4), "0 <= LO < HI <= 1"),
    (lambda: Objective("band", Band(0.25, 0.75), samples=1), "--samples must be >= 2"),
    (lambda: Objective("pareto"), "unknown objective 'pareto'"),
])
def test_bad_objectives_are_user_errors(objective, message):
    with pytest.raises(UserError, match=message.replace("(", r"\(")):
        objective().validate()
