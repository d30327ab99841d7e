"""Which problems may reach the model: none longer than the size bound, none whose answer leaks through the demos.

`run` and `harvest` admit their problems here (compile only the size bound: it writes the demos), and say
how many were left out and why. The model's replies are bounded in `program/adapter.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import dspy
from loguru import logger

from strawberry_dspy.benchmarks import Problem
from strawberry_dspy.leaks import DemoLeaks


@dataclass
class Admission:
    """The problems admitted, and those left out by reason."""

    problems: list[Problem]
    too_long: list[Problem] = field(default_factory=list)  # question longer than max_question_chars
    demo_leaks: list[Problem] = field(default_factory=list)  # question or answer in the program's demos

    def counts(self) -> dict[str, int]:
        """Left-out problems per reason (a summary field)."""
        return {"too_long": len(self.too_long), "demo_leaks": len(self.demo_leaks)}


def admit(problems: list[Problem], max_question_chars: int, program: dspy.Module | None = None,
          worked: list[dict] | None = None) -> Admission:
    """Leave out questions beyond the size bound and problems the demos give away: a compiled program's, and the
    worked demos (`worked`: a recipe's `strawberry.demos`, or every demo set a compile may try)."""
    admission = Admission([])
    for problem in problems:
        (admission.too_long if len(problem.question) > max_question_chars else admission.problems).append(problem)
    if admission.too_long:
        longest = max(admission.too_long, key=lambda p: len(p.question))
        logger.warning("left out {} problem(s) whose question is longer than max_question_chars={} (longest: {} "
                       "chars, problem {}); raise max_question_chars to keep them", len(admission.too_long),
                       max_question_chars, len(longest.question), longest.id)
    leaks = DemoLeaks.of(program, worked)
    if leaks.texts or leaks.qhashes or leaks.ids:
        kept = []
        for problem in admission.problems:
            (admission.demo_leaks if leaks.leaked(problem) else kept).append(problem)
        admission.problems = kept
    if admission.demo_leaks:
        logger.warning("left out {} problem(s) whose question or answer is in the program's demos "
                       "(asked again, they would be scored with their answer in the prompt)", len(admission.demo_leaks))
    return admission
