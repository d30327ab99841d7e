"""Every reasoning-gym task credits its own gold answer, bare, tagged or announced: the rules never reject a real answer."""

import warnings

import pytest
from reasoning_gym.factory import DATASETS

from strawberry_dspy.benchmarks import Problem, load_benchmark


def _entries(task: str) -> list[tuple]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            benchmark = load_benchmark(f"reasoning_gym:{task}")
            return [(benchmark, benchmark.dataset[i]) for i in range(2)]
        except Exception:  # a task that needs data or options we do not give it is not this test's subject
            return []


@pytest.mark.parametrize("task", sorted(DATASETS))
def test_the_gold_answer_is_credited_in_every_form(task):
    for index, (benchmark, entry) in enumerate(_entries(task)):
        gold = "" if entry.get("answer") is None else str(entry["answer"])
        if not gold:
            continue
        problem = Problem(f"{task}-{index}", entry["question"], gold, {"index": index, "entry": entry})
        for reply in (gold, f"<final_answer>{gold}</final_answer>", f"The answer is {gold}"):
            score = benchmark.score_task(problem, reply)
            assert score.correct, (reply[:80], score.rule, score.extracted)
