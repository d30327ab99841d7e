"""Evaluation: a program over problems with DSPy's Evaluate, each answer scored against gold, with its trace.

Used by `run` (a run directory), `compile` (objectives) and, through run, `bootstrap` (held-out accuracy).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass

import dspy
from tqdm import tqdm

from strawberry_dspy.benchmarks import Benchmark, Problem
from strawberry_dspy.program.adapter import TextAdapter
from strawberry_dspy.program.trace import Trace
from strawberry_dspy.scoring import Score


@dataclass
class ProblemResult:
    """One problem's outcome with its full trace."""

    problem_id: str
    question: str
    gold: str
    answer: str | None
    extracted: str | None
    rule: str  # the scoring rule that decided (numeric-equal, restated-question, several-answers, ...)
    correct: bool
    score: float
    stop_reason: str
    steps: int
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    latency_s: float
    error: str | None
    trace: dict


def problem_seed(seed: int, problem_id: str) -> int:
    """A per-problem seed that does not change when --limit does."""
    return int(hashlib.sha1(f"{seed}:{problem_id}".encode()).hexdigest()[:8], 16)


def run_program(program: dspy.Module, problems: list[Problem], benchmark: Benchmark, lm: dspy.BaseLM,
                concurrency: int, seed: int = 0, progress: bool | str = True) -> list[ProblemResult]:
    """Run a program over problems with DSPy's Evaluate (threads) and score each answer.

    `progress` shows one bar for the whole run (a string labels it); DSPy's own bar stays off, since
    outside a terminal it prints one "Average Metric" line per problem.
    """
    examples = [dspy.Example(question=p.question, seed=problem_seed(seed, p.id), index=i).with_inputs("question", "seed")
                for i, p in enumerate(problems)]
    label = progress if isinstance(progress, str) else "problems"
    bar = tqdm(total=len(examples), desc=label, disable=not progress)
    lock, correct = threading.Lock(), [0]

    def metric(example, prediction, trace=None):
        ok = benchmark.score(problems[example.index], prediction.answer).correct
        with lock:  # Evaluate calls the metric from its worker threads
            correct[0] += bool(ok)
            bar.update(1)
            bar.set_postfix(correct=correct[0], refresh=False)
        return ok

    # Evaluate also logs an "Average Metric" line per call (one per trial in a search): the bar says it already
    logging.getLogger("dspy.evaluate.evaluate").setLevel(logging.WARNING)
    evaluate = dspy.Evaluate(devset=examples, metric=metric, num_threads=concurrency, display_progress=False,
                             max_errors=len(examples) + 1, provide_traceback=False)
    try:
        with dspy.context(lm=lm, adapter=TextAdapter()):
            outcome = evaluate(program)
    finally:
        bar.close()
    results = []
    for (example, prediction, _), problem in zip(outcome.results, problems):
        trace = getattr(prediction, "trace", None)
        if trace is None:  # the program raised instead of recording its failure
            trace = Trace(stop_reason="error", error="the program raised; see run.log")
        results.append(problem_result(problem, trace, benchmark.score(problem, trace.final_answer)))
    return results


def problem_result(problem: Problem, trace: Trace, score: Score) -> ProblemResult:
    """One problem's row of results.jsonl: its trace and the score of the trace's final answer."""
    return ProblemResult(
        problem.id, problem.question, problem.answer, trace.final_answer, score.extracted, score.rule, score.correct,
        score.value, trace.stop_reason, trace.steps, trace.total("prompt_tokens"), trace.total("completion_tokens"),
        trace.total("cached_tokens"), round(trace.latency_s, 3), trace.error, trace.to_dict())
