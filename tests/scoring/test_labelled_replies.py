"""On hand-labelled real and adversarial replies, no scorer credits a wrong answer and each misses at most 2 % of right ones."""

import json
from functools import lru_cache
from pathlib import Path

import pytest

from strawberry_dspy.benchmarks import Problem, load_benchmark
from strawberry_dspy.scoring import SCORERS

CASES = [json.loads(line) for line in (Path(__file__).parent / "labelled_replies.jsonl").read_text().splitlines()]
MAX_MISSED = 0.02


@lru_cache(maxsize=None)
def _benchmark(spec: str):
    return load_benchmark(spec)


def _credited(case: dict, scorer: str) -> bool:
    if scorer != "task":
        return SCORERS[scorer](case["gold"], case["reply"], case["question"]).correct
    benchmark, index = _benchmark(case["task"]["spec"]), case["task"]["index"]
    problem = Problem(f"{benchmark.task}-{index}", case["question"], case["gold"], {"index": index})
    assert benchmark.dataset[index]["question"] == case["question"]  # the case names the entry it was asked from
    return benchmark.score_task(problem, case["reply"]).correct


def _applies(case: dict, scorer: str) -> bool:
    return "task" in case if scorer == "task" else scorer in case.get("scorers", SCORERS)


def test_the_set_is_big_and_mostly_real():
    assert len(CASES) >= 150
    assert sum(c["source"].startswith("real") for c in CASES) >= 100
    assert all(isinstance(c["label"], bool) and c["question"] and c["gold"] for c in CASES)


@pytest.mark.parametrize("scorer", [*SCORERS, "task"])
def test_no_wrong_answer_credited_and_few_right_ones_missed(scorer):
    chosen = [c for c in CASES if _applies(c, scorer)]
    credited = [_credited(c, scorer) for c in chosen]
    wrongly = [c["reply"][:60] for c, ok in zip(chosen, credited) if ok and not c["label"]]
    right = [ok for c, ok in zip(chosen, credited) if c["label"]]
    assert len(right) >= 30, "too few right answers to measure recall"
    assert wrongly == []
    assert right.count(False) <= MAX_MISSED * len(right)
