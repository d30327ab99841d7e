"""Which directories the UI was given: harvests (traces.sqlite) and runs (results.jsonl), found up to two levels down."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from strawberry_dspy.errors import UserError
from strawberry_dspy.store import STORE_FILE

ENV = "STRAWBERRY_UI_DIRS"  # how `strawberry ui` hands its DIR arguments to the Streamlit app
RESULTS_FILE = "results.jsonl"
DEPTH = 2


@dataclass
class Found:
    harvests: list[Path] = field(default_factory=list)
    runs: list[Path] = field(default_factory=list)


def find(paths: list[str | Path], strict: bool = False) -> Found:
    """Harvest and run directories at or below each path (a bootstrap dir holds both, two levels down).

    strict: a path that does not exist or holds neither is a UserError (the CLI's check).
    """
    found = Found()
    for raw in paths:
        path = Path(raw)
        if path.is_file() and path.name == STORE_FILE:
            path = path.parent
        before = len(found.harvests) + len(found.runs)
        if path.is_dir():
            _walk(path, found, DEPTH)
        if strict and len(found.harvests) + len(found.runs) == before:
            what = "does not exist" if not path.exists() else f"holds no harvest ({STORE_FILE}) or run ({RESULTS_FILE})"
            raise UserError(f"{str(raw)!r} {what}: pass a harvest or run directory, or a folder of them")
    return found


def _walk(path: Path, found: Found, depth: int) -> None:
    if (path / STORE_FILE).is_file():
        found.harvests.append(path)
    if (path / RESULTS_FILE).is_file():
        found.runs.append(path)
    if depth and not path.name.endswith(".tmp"):
        for child in sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")):
            _walk(child, found, depth - 1)


def given() -> Found:
    """The directories `strawberry ui` was started on."""
    return find([p for p in os.environ.get(ENV, "").split(os.pathsep) if p])
