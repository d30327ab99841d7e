"""Reasoning programs: the strawberry turn loop and the baselines, built by name."""

from strawberry_dspy.program.baselines import ChainOfThought, ZeroShot
from strawberry_dspy.program.final_answer import FinalAnswer, parse_final_answer
from strawberry_dspy.program.knobs import StrawberryKnobs
from strawberry_dspy.program.strawberry import StrawberryProgram
from strawberry_dspy.program.trace import Trace, Turn

__all__ = [
    "ChainOfThought", "FinalAnswer", "StrawberryKnobs", "StrawberryProgram", "Trace", "Turn", "ZeroShot",
    "parse_final_answer",
]
