"""Generated problems kept on disk, so a later run of the same spec starts without importing their generator.

reasoning-gym imports every task family (sympy, matplotlib through cellpylib) before it can make one problem:
about 0.75 s of a `strawberry run`'s 1.5 s to its first request. Its problems are a pure function of the spec,
the split, the limit, the package's version and the project's generating code (SOURCES, hashed), so the list made
once is the list every later run would make.
The cache lives in `$STRAWBERRY_CACHE_DIR` (default `$XDG_CACHE_HOME/strawberry-dspy`, else
`~/.cache/strawberry-dspy`) under `problems/`; set `STRAWBERRY_CACHE_DIR=off` to neither read nor write it.
A file that cannot be read or written is skipped silently: the cache only ever saves time.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Callable

from strawberry_dspy.benchmarks.base import Problem
from strawberry_dspy.cache_dir import cache_root

FORMAT = 1  # bump when the Problem records change shape in a way the source hash below cannot see
# the code that decides which problems a spec yields (splits, seeds, ids, metadata): an edit to any of them makes
# a new cache key, so a list made by older code is never served
SOURCES = ("base.py", "problem_cache.py", "reasoning_gym_config.py", "reasoning_gym_tasks.py")


def _package_version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "unknown"


@lru_cache(maxsize=1)
def source_hash() -> str:
    """sha1 of the generating code's bytes (SOURCES, beside this file)."""
    here = Path(__file__).resolve().parent
    return hashlib.sha1(b"".join((here / name).read_bytes() for name in SOURCES)).hexdigest()[:12]


def _prefix(package: str, spec: str) -> str:
    from strawberry_dspy.stage_output import digest

    key = {"format": FORMAT, "version": _package_version(package), "source": source_hash(), "spec": spec}
    return f"{package}-{digest(key, 12)}"


def cache_path(package: str, spec: str, request: dict) -> Path | None:
    """Where the problems `package` made for `spec` and `request` (split, limit) are kept; None: caching is off."""
    from strawberry_dspy.stage_output import digest

    root = cache_root()
    return None if root is None else root / "problems" / f"{_prefix(package, spec)}-{digest(request, 8)}.jsonl"


def seen(package: str, spec: str) -> bool:
    """Whether some problems of `spec` are cached: then the spec was valid for this version of `package`."""
    root = cache_root()
    return root is not None and any((root / "problems").glob(f"{_prefix(package, spec)}-*.jsonl"))


def _read(path: Path, count: int | None) -> list[Problem] | None:
    try:
        with path.open(encoding="utf-8") as handle:
            problems = [Problem(**json.loads(line)) for line in handle]
    except (OSError, ValueError, TypeError):  # absent, half-copied or from another shape: make the problems again
        return None
    return problems if count is None or len(problems) == count else None  # a truncated copy: make them again


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
        found = _read(path, request.get("limit"))
        if found is not None:
            return found
    problems = make()
    if path is not None:
        _write(path, problems)
    return problems
