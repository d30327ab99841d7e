"""The project's cache folder: converted models (train/convert.py) and generated problems (benchmarks/problem_cache.py).

`$STRAWBERRY_CACHE_DIR`, else `$XDG_CACHE_HOME/strawberry-dspy`, else `~/.cache/strawberry-dspy`;
`STRAWBERRY_CACHE_DIR=off` turns caching off where it is optional.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV = "STRAWBERRY_CACHE_DIR"
OFF = ("off", "0", "none")


def cache_root() -> Path | None:
    """The cache folder, or None when the user turned caching off."""
    configured = os.environ.get(ENV)
    if configured:
        return None if configured.lower() in OFF else Path(configured).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "strawberry-dspy"
