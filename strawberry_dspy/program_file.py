"""Loading a PROGRAM (what `run`, `harvest`, `bootstrap`, `export --demos` and the UI accept): a YAML recipe (a file or a
packaged recipe's name) or a compiled JSON from `strawberry compile`. The one place a program file becomes a config and a module."""

from __future__ import annotations

from pathlib import Path

import dspy

from strawberry_dspy.benchmarks import Problem, question_hash
from strawberry_dspy.config import ProgramSettings, load_config
from strawberry_dspy.leaks import DemoLeaks
from strawberry_dspy.program.build import build_program
from strawberry_dspy.recipes import resolve_recipe


def load_program_file(path: str | Path, overrides: dict | None = None) -> tuple[ProgramSettings, dspy.Module | None]:
    """The config and, for a compiled program, its optimized module (None: build from the config)."""
    path = resolve_recipe(path)
    if str(path).endswith(".json"):  # a compiled program (strawberry compile); a changed base recipe is a UserError
        from strawberry_dspy.compile.compiled import load_compiled

        return load_compiled(path, overrides)
    return load_config(path, overrides), None


def load_program(path: str | Path, overrides: dict | None = None) -> tuple[ProgramSettings, dspy.Module]:
    """The config and its program: the compiled module, or the one the recipe builds."""
    config, program = load_program_file(path, overrides)
    return config, program if program is not None else build_program(config)


def leaked_by_files(paths: list[str], problems: list[Problem]) -> set[str]:
    """Question hashes of the problems the demos of these program files (compiled.json or recipe: predictor demos
    and worked demos) give away."""
    found: set[str] = set()
    for path in paths:
        leaks = DemoLeaks.of(load_program(path)[1])
        found |= {question_hash(p.question) for p in problems if leaks.leaked(p)}
    return found
