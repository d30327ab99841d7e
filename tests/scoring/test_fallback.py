"""One fallback rule where no task scorer is at hand: plain data under `task`, a typed Playground problem, stats."""

import json

from strawberry_dspy.benchmarks import Problem, load_benchmark
from strawberry_dspy.config import config_from_dict
from strawberry_dspy.scoring import fallback_score, scorer_named
from strawberry_dspy.ui.live import score_answer

CASES = [("42", "<final_answer>42.0</final_answer>"), ("42", "<final_answer>43</final_answer>"),
         ("\\frac{1}{2}", "<final_answer>0.5</final_answer>"), ("x + 1", "<final_answer>1 + x</final_answer>"),
         ("Paris", "<final_answer>paris</final_answer>")]


def test_numeric_gold_is_compared_as_a_number_and_the_rest_by_math_verify():
    scores = [fallback_score(gold, reply, "Q?") for gold, reply in CASES]
    assert [(s.correct, s.rule) for s in scores] == [
        (True, "numeric-equal"), (False, "numeric-differ"), (True, "numeric-equal"), (True, "math-verify"),
        (True, "math-verify")]
    assert scorer_named("task") is scorer_named(None) is fallback_score and scorer_named("exact") is not fallback_score


def test_plain_data_under_the_task_scorer_and_a_typed_problem_grade_alike(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text("".join(json.dumps({"question": f"Q{i}?", "answer": gold}) + "\n" for i, (gold, _) in enumerate(CASES)))
    benchmark = load_benchmark(f"jsonl:{path}", "task")
    config = config_from_dict({"scorer": "task"})
    for i, (gold, reply) in enumerate(CASES):
        problem = Problem(f"p{i}", f"Q{i}?", gold)
        expected = fallback_score(gold, reply, problem.question)
        assert benchmark.score(problem, reply) == expected == score_answer(config, problem, reply)
