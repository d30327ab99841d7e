"""Compile: optimize a program's knobs, instructions and demos against the gold answers of a dev split.

The names load on first use: dspy and optuna are imported only by a command that compiles.
"""

from strawberry_dspy.lazy import lazy_exports

_EXPORTS = {"load_compiled": "compiled", "read_metadata": "compiled", "save_compiled": "compiled",
            "Objective": "objectives", "OPTIMIZERS": "optimizers", "CompileSettings": "stage",
            "compile_program": "stage"}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
