"""What `run`, `harvest` and `bootstrap` accept as PROGRAM: a YAML recipe (a file or a packaged recipe's name) or a
compiled JSON from `strawberry compile`."""

from __future__ import annotations

from pathlib import Path

import dspy

from strawberry_dspy.config import RunConfig, load_config
from strawberry_dspy.recipes import resolve_recipe


def load_program_file(path: str | Path, overrides: dict | None = None) -> tuple[RunConfig, dspy.Module | None]:
    """The config and, for a compiled program, its optimized module (None: build from the config)."""
    path = resolve_recipe(path)
    if str(path).endswith(".json"):  # a compiled program (strawberry compile); a changed base recipe is a UserError
        from strawberry_dspy.compile.compiled import load_compiled

        return load_compiled(path, overrides)
    return load_config(path, overrides), None
