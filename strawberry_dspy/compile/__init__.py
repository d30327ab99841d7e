"""Compile: optimize a program's knobs, instructions and demos against the gold answers of a dev split."""

from strawberry_dspy.compile.compiled import load_compiled, read_metadata, save_compiled
from strawberry_dspy.compile.objectives import Objective
from strawberry_dspy.compile.optimizers import OPTIMIZERS
from strawberry_dspy.compile.stage import CompileOptions, compile_program

__all__ = ["CompileOptions", "Objective", "OPTIMIZERS", "compile_program", "load_compiled", "read_metadata",
           "save_compiled"]
