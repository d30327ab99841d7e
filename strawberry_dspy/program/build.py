"""Name → program: a plain dict, as STYLE.md asks."""

from __future__ import annotations

import dspy

from strawberry_dspy.config import RunConfig
from strawberry_dspy.program.baselines import ChainOfThought, ZeroShot
from strawberry_dspy.program.strawberry import StrawberryProgram

BUILDERS = {
    "zero_shot": lambda c: ZeroShot(**vars(c.baseline)),
    "cot": lambda c: ChainOfThought(**vars(c.baseline)),
    "strawberry": lambda c: StrawberryProgram(c.strawberry),
}


def build_program(config: RunConfig) -> dspy.Module:
    """The program a config names, with its knobs."""
    return BUILDERS[config.program](config)
