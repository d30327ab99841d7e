"""Trivial baselines printed beside an accuracy: what a program that does not reason would score.

- the best constant: always answer the most common gold answer of the problems evaluated (an upper bound on
  any constant answer, since it is chosen with the golds in view);
- echo the first number of the question.
Each is graded by the benchmark's own scorer, so it is exactly as strict as the program's grading.
"""

from __future__ import annotations

import re
from collections import Counter

from strawberry_dspy.benchmarks import Benchmark, Problem

_NUMBER = re.compile(r"(?<![\w.])[-−]?\d+(?:\.\d+)?")


def first_number(question: str) -> str | None:
    """The first number written in a question ('-5' in 'What is -5 - -4?'), or None."""
    found = _NUMBER.search(question)
    return found.group(0).replace("−", "-") if found else None


def trivial_baselines(problems: list[Problem], benchmark: Benchmark) -> dict[str, float]:
    """Accuracy of each trivial baseline on these problems (a baseline with no answer to give is left out)."""
    if not problems:
        return {}
    baselines: dict[str, float] = {}
    constant, _ = Counter(p.answer for p in problems).most_common(1)[0]
    baselines[f"always {constant!r}"] = _share(problems, benchmark, lambda p: constant)
    if any(first_number(p.question) for p in problems):
        baselines["first number of the question"] = _share(problems, benchmark, lambda p: first_number(p.question))
    return baselines


def _share(problems: list[Problem], benchmark: Benchmark, answer) -> float:
    return sum(benchmark.score(p, answer(p)).correct for p in problems) / len(problems)
