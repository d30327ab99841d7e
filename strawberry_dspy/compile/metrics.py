"""DSPy metrics over gold answers: the plain one, and GEPA's with textual feedback from the gold and the trace."""

from __future__ import annotations

import dspy

from strawberry_dspy.benchmarks import Benchmark, Problem
from strawberry_dspy.evaluate import problem_seed


def to_examples(problems: list[Problem], seed: int) -> list[dspy.Example]:
    """Problems as DSPy examples: inputs (question, seed) as `run_program` passes them, plus the gold answer."""
    return [dspy.Example(question=p.question, seed=problem_seed(seed, p.id), answer=p.answer, problem_id=p.id)
            .with_inputs("question", "seed") for p in problems]


class GoldMetric:
    """`metric(example, prediction, trace=None)`: is the program's answer the gold one (the benchmark's scorer)."""

    def __init__(self, benchmark: Benchmark, problems: list[Problem]):
        self.benchmark = benchmark
        self.problems = {p.id: p for p in problems}

    def score(self, example: dspy.Example, prediction) -> tuple[bool, str | None]:
        answer = getattr(prediction, "answer", None)
        result = self.benchmark.score(self.problems[example.problem_id], answer)
        return bool(result.correct), result.extracted

    def __call__(self, example, prediction, trace=None) -> bool:
        return self.score(example, prediction)[0]


class FeedbackMetric(GoldMetric):
    """GEPA's five-argument metric: the score plus what went wrong, in words, from the gold answer and the trace."""

    def __call__(self, gold, pred, trace=None, pred_name=None, pred_trace=None) -> dspy.Prediction:
        correct, extracted = self.score(gold, pred)
        return dspy.Prediction(score=float(correct), feedback=self.feedback(gold, pred, correct, extracted, pred_name))

    @staticmethod
    def feedback(gold, pred, correct: bool, extracted: str | None, pred_name: str | None) -> str:
        run = getattr(pred, "trace", None)
        lines = [f"The correct answer is {gold.answer}."]
        if correct:
            lines.append(f"The program answered {extracted}, which is correct.")
        elif getattr(pred, "answer", None) is None:
            lines.append("The program gave no final answer.")
        else:
            lines.append(f"The program answered {extracted if extracted is not None else pred.answer}, which is wrong.")
        if run is not None:
            lines.append(f"It took {run.steps} reasoning steps and stopped because of: {run.stop_reason}.")
            if run.error:
                lines.append(f"It failed with: {run.error[:200]}")
            replies = [t.content for t in run.turns if t.role == "assistant"]
            if replies:
                lines.append("Its replies were: " + " | ".join(r[:120] for r in replies[-6:]))
        if pred_name and "check" in pred_name:
            lines.append("This instruction is the question that asks whether the model has its final answer; "
                         "a good one gets the answer inside <final_answer></final_answer> tags once it is known.")
        elif pred_name and "step" in pred_name:
            lines.append("This instruction is the system prompt of the whole chat; every reply should be one "
                         "small, correct step toward the answer.")
        return "\n".join(lines)
