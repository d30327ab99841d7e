"""Model specs: one string chooses the model everywhere (`local`, `local:/x.gguf`, `provider/model`).

The names load on first use: importing the package (as `strawberry_dspy` does, for the offline defaults) must
not import dspy.
"""

from strawberry_dspy.models import offline  # noqa: F401  (first: sets offline defaults before dspy loads)
from strawberry_dspy.lazy import lazy_exports

_EXPORTS = {"LocalEngine": "engine", "local_model_path": "engine", "lm_for": "lm", "prompt_lm_for": "lm",
            "resolve_lm": "resolve"}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
