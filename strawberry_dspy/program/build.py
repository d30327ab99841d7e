"""Name → program: the config's knobs go to the program by reference, so the config stays their one holder."""

from __future__ import annotations

import dspy

from strawberry_dspy.config import ProgramSettings
from strawberry_dspy.program.baselines import ChainOfThought, ZeroShot
from strawberry_dspy.program.strawberry import StrawberryProgram

BUILDERS = {
    "zero_shot": lambda c: ZeroShot(c.baseline),
    "cot": lambda c: ChainOfThought(c.baseline),
    "strawberry": lambda c: StrawberryProgram(c.strawberry),
}


def build_program(config: ProgramSettings) -> dspy.Module:
    """The program a config names, with its knobs."""
    return BUILDERS[config.program](config)
