"""Package exports that load on first use (PEP 562), so importing a package does not import dspy or optuna.

`strawberry export --help` and `strawberry stats` never need dspy, optuna or matplotlib; a package `__init__`
that imported its stage eagerly made every command pay for all of them.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any, Callable


def lazy_exports(package: str, names: dict[str, str]) -> Callable[[str], Any]:
    """A module `__getattr__` that imports `package.<names[name]>` the first time `name` is read."""
    namespace = import_module(package).__dict__

    def __getattr__(name: str) -> Any:
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(f"{package}.{names[name]}"), name)
        namespace[name] = value  # later look-ups skip this function
        return value

    return __getattr__
