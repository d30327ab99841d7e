"""reasoning_gym:<task> — options and level reach the task config; grading is the task's own."""

import json
import re

import pytest

from strawberry_dspy.benchmarks import load_benchmark
from strawberry_dspy.errors import UserError


def _term_count(question: str) -> int:
    return len(re.findall(r"\d+", question))


def test_options_go_into_the_task_config_and_change_the_problems():
    benchmark = load_benchmark("reasoning_gym:basic_arithmetic?min_terms=4&max_terms=4&max_digits=1&operators=+,-&seed=7")
    assert (benchmark.config.min_terms, benchmark.config.max_terms, benchmark.config.seed) == (4, 4, 7)
    assert benchmark.config.operators == ("+", "-")
    for problem in benchmark.problems("train", limit=10):
        assert _term_count(problem.question) == 4
        assert "*" not in problem.question and "/" not in problem.question


def test_level_raises_difficulty_through_the_curriculum():
    easy = load_benchmark("reasoning_gym:basic_arithmetic?level=0")
    hard = load_benchmark("reasoning_gym:basic_arithmetic?level=3")
    assert (easy.config.max_terms, easy.config.max_digits) == (2, 1)
    assert hard.config.max_terms > 2 and hard.config.max_digits > 1
    easy_terms = [_term_count(p.question) for p in easy.problems(limit=20)]
    hard_terms = [_term_count(p.question) for p in hard.problems(limit=20)]
    assert max(easy_terms) == 2 and sum(hard_terms) > sum(easy_terms)
    assert hard.problems(limit=1)[0].metadata["level"] == 3


def test_explicit_options_override_the_level():
    benchmark = load_benchmark("reasoning_gym:basic_arithmetic?level=3&max_digits=1")
    assert benchmark.config.max_digits == 1 and benchmark.config.max_terms > 2


def test_problems_carry_ids_and_a_json_serialisable_entry():
    problem = load_benchmark("reasoning_gym:basic_arithmetic").problems("dev", limit=1)[0]
    assert problem.id == f"basic_arithmetic-{problem.metadata['index']}"
    assert json.loads(json.dumps(problem.metadata))["entry"]["answer"] == problem.answer


def test_task_scorer_extracts_the_answer():
    benchmark = load_benchmark("reasoning_gym:basic_arithmetic?seed=1")
    problem = benchmark.problems(limit=1)[0]
    right = benchmark.score(problem, f"The answer is {problem.answer}.")
    assert (right.correct, right.value, right.extracted) == (True, 1.0, problem.answer)
    assert benchmark.score(problem, "I cannot compute this").correct is False
    assert benchmark.score(problem, None).value == 0.0


def test_partial_credit_is_not_correct():
    benchmark = load_benchmark("reasoning_gym:caesar_cipher")
    problem = benchmark.problems(limit=1)[0]
    partial = benchmark.score(problem, f"decrypted it: {problem.answer} (I think)")
    assert 0.0 < partial.value < 1.0 and partial.correct is False
    assert benchmark.score(problem, problem.answer).correct is True


def test_scoring_a_problem_loaded_from_json_uses_its_own_entry():
    benchmark = load_benchmark("reasoning_gym:basic_arithmetic")
    problem = benchmark.problems(limit=1)[0]
    fresh = load_benchmark("reasoning_gym:basic_arithmetic")
    assert fresh.score(problem, problem.answer).correct is True


def test_other_scorers_can_grade_reasoning_gym_problems():
    benchmark = load_benchmark("reasoning_gym:basic_arithmetic", scorer="numeric")
    problem = benchmark.problems(limit=1)[0]
    assert benchmark.score(problem, f"so it is {problem.answer}").correct is True


@pytest.mark.parametrize(
    "spec, message",
    [
        ("reasoning_gym:basic_arithmatic", r"'basic_arithmatic'.*basic_arithmetic"),
        ("reasoning_gym:basic_arithmetic?max_term=3", r"'max_term'.*max_terms"),
        ("reasoning_gym:basic_arithmetic?min_terms=two", r"min_terms='two'"),
        ("reasoning_gym:word_sorting?transformation=shouting", r"transformation='shouting'.*uppercase"),
        ("reasoning_gym:basic_arithmetic?allow_negation=maybe", r"allow_negation='maybe'"),
        ("reasoning_gym:basic_arithmetic?min_terms=5&max_terms=2", r"max_terms must be >= min_terms"),
        ("reasoning_gym:basic_arithmetic?level=9", r"level='9'.*0 to 4"),
        ("reasoning_gym:acre?level=1", r"'acre' has no difficulty curriculum"),
    ],
)
def test_bad_task_option_or_level_is_a_user_error(spec, message):
    with pytest.raises(UserError, match=message):
        load_benchmark(spec)


def test_too_few_distinct_problems_is_a_user_error():
    # at most 100 distinct sums of two one-digit numbers, about 20 of them in the test split
    spec = "reasoning_gym:basic_arithmetic?max_terms=2&max_digits=1&operators=+&allow_negation=false&allow_parentheses=false"
    benchmark = load_benchmark(spec)
    assert len(benchmark.problems("test", limit=10)) == 10
    with pytest.raises(UserError, match="distinct test problems"):
        benchmark.problems("test", limit=50)
