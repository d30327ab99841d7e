"""What `run`, `harvest` and `compile` accept as PROGRAM: a YAML recipe (or, later, a compiled JSON)."""

from __future__ import annotations

from pathlib import Path

import dspy

from strawberry_dspy.config import RunConfig, load_config


def load_program_file(path: str | Path, overrides: dict | None = None) -> tuple[RunConfig, dspy.Module | None]:
    """The config and, for a compiled program, its optimized module (None: build from the config)."""
    return load_config(path, overrides), None
