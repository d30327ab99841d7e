"""Generated problems kept on disk, so a later run of the same spec starts without importing their generator.

reasoning-gym imports every task family (sympy, matplotlib through cellpylib) before it can make one problem:
about 0.75 s of a `strawberry run`'s 2 s to its first request. Its problems are a pure function of the spec,
the split, the limit and the package's version, so the list made once is the list every later run would make.
The cache lives in `$STRAWBERRY_CACHE_DIR` (default `$XDG_CACHE_HOME/strawberry-dspy`, else
`~/.cache/strawberry-dspy`) under `problems/`; set `STRAWBERRY_CACHE_DIR=off` to neither read nor write it.
A file that cannot be read or written is skipped silently: the cache only ever saves time.
"""

from __future__ import annotations

import json
import os
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Callable

from strawberry_dspy.benchmarks.base import Problem

FORMAT = 1  # bump when the Problem records a generator makes change shape or content
ENV = "STRAWBERRY_CACHE_DIR"


def cache_root() -> Path | None:
    """The project's cache folder, or None when the user turned caching off."""
    configured = os.environ.get(ENV)
    if configured:
        return None if configured.lower() in ("off", "0", "none") else Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "strawberry-dspy"


def _package_version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "unknown"


def _prefix(package: str, spec: str) -> str:
    from strawberry_dspy.stage_output import digest

    return f"{package}-{digest({'format': FORMAT, 'version': _package_version(package), 'spec': spec}, 12)}"


def cache_path(package: str, spec: str, request: dict) -> Path | None:
    """Where the problems `package` made for `spec` and `request` (split, limit) are kept; None: caching is off."""
    from strawberry_dspy.stage_output import digest

    root = cache_root()
    return None if root is None else root / "problems" / f"{_prefix(package, spec)}-{digest(request, 8)}.jsonl"


def seen(package: str, spec: str) -> bool:
    """Whether some problems of `spec` are cached: then the spec was valid for this version of `package`."""
    root = cache_root()
    return root is not None and any((root / "problems").glob(f"{_prefix(package, spec)}-*.jsonl"))


def _read(path: Path) -> list[Problem] | None:
    try:
        with path.open(encoding="utf-8") as handle:
            return [Problem(**json.loads(line)) for line in handle]
    except (OSError, ValueError, TypeError):  # absent, half-copied or from another shape: make the problems again
        return None


def _write(path: Path, problems: list[Problem]) -> None:
    from strawberry_dspy.stage_output import write_file

    lines = "".join(json.dumps({"id": p.id, "question": p.question, "answer": p.answer, "metadata": p.metadata},
                               ensure_ascii=False) + "\n" for p in problems)
    try:
        write_file(path, lambda tmp: tmp.write_text(lines, encoding="utf-8"))  # whole or absent, never half
    except OSError:  # a read-only home, a full disk: run without the cache
        pass


def cached_problems(package: str, spec: str, request: dict, make: Callable[[], list[Problem]]) -> list[Problem]:
    """The problems `make()` returns, read from the cache when an earlier call for the same spec and request
    stored them."""
    path = cache_path(package, spec, request)
    if path is not None:
        found = _read(path)
        if found is not None:
            return found
    problems = make()
    if path is not None:
        _write(path, problems)
    return problems
