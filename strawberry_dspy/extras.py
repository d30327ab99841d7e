"""Optional extras: one clear line, naming the install command, when a package of one is missing.

Below every stage: `models/` (the hf:DIR spec) and `train/` both check the `[train]` extra here, and
`executors/` the `[ray]` extra.
"""

from __future__ import annotations

import importlib.util

from strawberry_dspy.errors import UserError

TRAIN_PACKAGES = ("torch", "transformers", "trl", "gguf", "safetensors")
INSTALL_HINT = "pip install 'strawberry-dspy[train]' (or, in a checkout: pip install -e '.[train]')"


def require_train_extra(*packages: str, purpose: str = "training") -> None:
    """Raise a UserError naming the install command when a package of the [train] extra is missing."""
    missing = [name for name in packages or TRAIN_PACKAGES if importlib.util.find_spec(name) is None]
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        raise UserError(f"{purpose} needs the [train] extra, and {', '.join(missing)} {verb} not installed; "
                        f"install it with: {INSTALL_HINT}")


RAY_INSTALL_HINT = "pip install 'strawberry-dspy[ray]' (or, in a checkout: pip install -e '.[ray]')"


def require_ray_extra(purpose: str = "--executor ray") -> None:
    """Raise a UserError naming the install command when Ray (the [ray] extra) is missing."""
    if importlib.util.find_spec("ray") is None:
        raise UserError(f"{purpose} needs the [ray] extra, and ray is not installed; install it with: {RAY_INSTALL_HINT}")
