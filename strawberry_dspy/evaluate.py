"""Evaluation: a program over problems on the current executor, each answer scored against gold, with its trace.

Used by `run` (a run directory), `compile` (objectives) and, through run, `bootstrap` (held-out accuracy).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import dspy
from tqdm import tqdm

from strawberry_dspy.benchmarks import Benchmark, Problem
from strawberry_dspy.config import ProgramSettings
from strawberry_dspy.executors import Executor, Worker, Workload, current_executor
from strawberry_dspy.program.trace import Trace
from strawberry_dspy.scoring import NO_ANSWER, Score


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
    sample: int = 0  # which of the problem's seeded samples (run --samples K)


def problem_seed(seed: int, problem_id: str, sample: int = 0) -> int:
    """A per-problem (and per-sample) seed that does not change when --limit or --samples does."""
    key = f"{seed}:{problem_id}" if sample == 0 else f"{seed}:{problem_id}:{sample}"
    return int(hashlib.sha1(key.encode()).hexdigest()[:8], 16)


def run_program(program: dspy.Module, problems: list[Problem], benchmark: Benchmark, lm: dspy.BaseLM | None,
                concurrency: int, seed: int = 0, progress: bool | str = True, config: ProgramSettings | None = None,
                executor: Executor | None = None, samples: int = 1,
                per_node: dict[str, float] | None = None) -> list[ProblemResult]:
    """Run a program over problems, `concurrency` at a time, and score each answer (results in problem order).

    With `samples` K > 1 each problem runs K times with K seeds (sample 0 keeps the one-sample seed), and the
    results hold K rows per problem, problem by problem.

    `progress` shows one bar for the whole run (a string labels it). Runs on `executor` (default: the current one). Ray workers rebuild the program from `config` (the config
    it was built from) and its saved state, and connect their own LM; threads use `program` and `lm` as given.
    """
    executor = executor or current_executor()
    if config is None:
        if executor.kind != "thread":
            raise ValueError("run_program on a remote executor needs the program's config")
        config = ProgramSettings()  # threads use program and lm as given; the config only names the workload
    results: list[ProblemResult | None] = [None] * (len(problems) * samples)
    label = progress if isinstance(progress, str) else ("problems" if samples == 1 else "traces")
    bar = tqdm(total=len(results), desc=label, unit="trace" if samples > 1 else "problem", dynamic_ncols=True,
               disable=not progress)
    correct = 0

    def collect(unit: tuple[int, Problem, int, int], result: ProblemResult, node: str) -> None:
        nonlocal correct
        results[unit[0]] = result
        correct += result.correct
        bar.set_postfix_str(f"accuracy {correct}/{bar.n + 1}", refresh=False)
        bar.update()

    units = [(i * samples + k, p, problem_seed(seed, p.id, k), k) for i, p in enumerate(problems) for k in range(samples)]
    try:
        stats = executor.run(Workload(config, benchmark, program, lm), solve_problem, units, collect, concurrency,
                             drain=False)
        if per_node is not None:  # filled for the caller: results per second of each node
            per_node.update(stats.node_rates())
    finally:
        bar.close()
    return results  # type: ignore[return-value]  # every unit reported (an interrupt raises)


def solve_problem(worker: Worker, unit: tuple[int, Problem, int]) -> ProblemResult:
    """One problem through the worker's program, scored against its gold answer (runs on any executor)."""
    _, problem, seed, sample = unit
    attempt = worker.attempt(problem, seed)
    return problem_result(problem, attempt.trace, attempt.score or NO_ANSWER, sample)


def problem_result(problem: Problem, trace: Trace, score: Score, sample: int = 0) -> ProblemResult:
    """One problem's row of results.jsonl: its trace and the score of the trace's final answer."""
    return ProblemResult(
        problem.id, problem.question, problem.answer, trace.final_answer, score.extracted, score.rule, score.correct,
        score.value, trace.stop_reason, trace.steps, trace.total("prompt_tokens"), trace.total("completion_tokens"),
        trace.total("cached_tokens"), round(trace.latency_s, 3), trace.error, trace.to_dict(), sample)
