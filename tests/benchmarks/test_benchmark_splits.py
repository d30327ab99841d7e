"""Splits are fixed by the question: deterministic, disjoint, prefix-stable under limit."""

import json

import pytest

from strawberry_dspy.benchmarks import SPLIT_FRACTIONS, load_benchmark, question_hash, split_of
from strawberry_dspy.errors import UserError

SPEC = "reasoning_gym:basic_arithmetic?min_terms=2&max_terms=3&max_digits=2&seed=3"


@pytest.fixture
def questions_file(tmp_path):
    path = tmp_path / "q.jsonl"
    rows = [{"question": f"What is {i} times 7?", "answer": str(i * 7)} for i in range(300)]
    rows += [{"question": "what is 5 TIMES 7", "answer": "35"}]  # the same question as row 5, normalized
    path.write_text("\n".join(json.dumps(row) for row in rows))
    return path


def test_question_hash_ignores_case_spacing_and_end_punctuation():
    assert question_hash("What is  2+2?") == question_hash("what is 2+2")
    assert question_hash("What is 2+2?") != question_hash("What is 2+3?")


def test_same_spec_gives_same_problems():
    first = load_benchmark(SPEC).problems("test", limit=8)
    second = load_benchmark(SPEC).problems("test", limit=8)
    assert [(p.id, p.question, p.answer) for p in first] == [(p.id, p.question, p.answer) for p in second]


@pytest.mark.parametrize("split", list(SPLIT_FRACTIONS))
def test_smaller_limit_is_a_prefix(split, questions_file):
    for spec in (SPEC, f"jsonl:{questions_file}"):
        benchmark = load_benchmark(spec)
        assert benchmark.problems(split, limit=5) == benchmark.problems(split, limit=10)[:5]


def test_reasoning_gym_splits_are_disjoint():
    benchmark = load_benchmark(SPEC)
    by_split = {split: {p.question for p in benchmark.problems(split, limit=30)} for split in SPLIT_FRACTIONS}
    assert all(len(questions) == 30 for questions in by_split.values())
    assert not (by_split["train"] & by_split["dev"] or by_split["train"] & by_split["test"] or by_split["dev"] & by_split["test"])
    assert all(split_of(q) == split for split, questions in by_split.items() for q in questions)


def test_file_splits_partition_the_distinct_questions(questions_file):
    benchmark = load_benchmark(f"jsonl:{questions_file}")
    by_split = {split: benchmark.problems(split) for split in SPLIT_FRACTIONS}
    ids = [p.id for problems in by_split.values() for p in problems]
    assert len(ids) == len(set(ids)) == 300  # duplicate question dropped, nothing lost, nothing twice
    assert 150 < len(by_split["train"]) < 210 and 35 < len(by_split["test"]) < 85


def test_unknown_split_is_a_user_error():
    with pytest.raises(UserError, match="'validation'.*train, dev, test"):
        load_benchmark(SPEC).problems("validation")


@pytest.mark.parametrize("spec", ["foo:bar", "gsm8k.jsonl", "reasoning_gym:", "jsonl:"])
def test_unknown_benchmark_spec_is_a_user_error(spec):
    with pytest.raises(UserError, match="unknown benchmark"):
        load_benchmark(spec)


def test_malformed_option_is_a_user_error():
    with pytest.raises(UserError, match="'seed'"):
        load_benchmark("reasoning_gym:basic_arithmetic?seed")
