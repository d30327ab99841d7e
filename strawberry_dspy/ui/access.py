"""What the UI may touch: the folders `strawberry ui` was started on, the packaged recipes, and who may connect.

The page's path fields (the harvest browser's directory, a run directory, the Playground's recipe, benchmark file
and Save destination) are typed by whoever holds the page: a path outside the given folders is refused in the page
(`UserError`, shown as one error line), so `csv:.env` or `/etc/passwd` is never opened. Beyond loopback the page
asks for the access token `strawberry ui --allow-remote` printed with its URL.
"""

from __future__ import annotations

import hmac
import os
from pathlib import Path

from strawberry_dspy.benchmarks.base import parse_spec
from strawberry_dspy.errors import UserError
from strawberry_dspy.recipes import RECIPES_DIR
from strawberry_dspy.ui import dirs

TOKEN_ENV = "STRAWBERRY_UI_TOKEN"  # set by `strawberry ui --allow-remote`: the page asks for it
PACKAGED_RECIPES = RECIPES_DIR  # strawberry_dspy/recipes (the repository's programs/ links to it)
FILE_SOURCES = ("jsonl", "csv", "parquet")  # benchmark specs that read a local file
RUNS = Path("runs")  # where the Playground saves by default (every command's default output folder)


def _given() -> list[Path]:
    return [Path(p).resolve() for p in os.environ.get(dirs.ENV, "").split(os.pathsep) if p]


def read_roots() -> list[Path]:
    """Folders the page may read: the given ones, the packaged recipes and ./programs."""
    return [*_given(), PACKAGED_RECIPES, Path("programs").resolve()]


def write_roots() -> list[Path]:
    """Folders the page may save a run into: the given ones and ./runs."""
    return [*_given(), RUNS.resolve()]


def _inside(path: str | Path, roots: list[Path]) -> bool:
    resolved = Path(path).expanduser().resolve()  # symlinks and .. resolved: a link out of a folder is outside
    return any(resolved == root or root in resolved.parents for root in roots)


def _refuse(path: str | Path, what: str, roots: list[Path]) -> UserError:
    shown = ", ".join(str(r) for r in roots[:-2] or roots) or "none"
    return UserError(f"{what} {str(path)!r} is outside the folders this UI was started on ({shown}): restart "
                     "`strawberry ui` with its folder as an argument to open it")


def readable(path: str | Path, what: str = "path") -> Path:
    """`path` when the page may read it; a UserError otherwise."""
    if not _inside(path, read_roots()):
        raise _refuse(path, what, read_roots())
    return Path(path)


def writable(path: str | Path) -> Path:
    """`path` when the page may save into it; a UserError otherwise."""
    if not _inside(path, write_roots()):
        roots = write_roots()
        raise UserError(f"Save to {str(path)!r} is outside the folders this UI may write ("
                        f"{', '.join(str(r) for r in roots)}): save under one of them")
    return Path(path)


def benchmark_readable(spec: str) -> str:
    """A benchmark spec whose file (jsonl:/csv:/parquet:) the page may read; other sources as they are."""
    source, target, _ = parse_spec(spec.strip())
    if source in FILE_SOURCES:
        readable(target, f"benchmark file of {spec.strip()!r}:")
    return spec


def token_ok(given: str | None) -> bool:
    """Whether a connection may see the app: always on loopback; with the access token beyond it."""
    wanted = os.environ.get(TOKEN_ENV)
    return not wanted or given is not None and hmac.compare_digest(given.encode(), wanted.encode())
