"""Model specs: one string chooses the model everywhere (`local`, `local:/x.gguf`, `provider/model`)."""

from strawberry_dspy.models import offline  # noqa: F401  (first: sets offline defaults before dspy loads)
from strawberry_dspy.models.engine import LocalEngine, local_model_path
from strawberry_dspy.models.resolve import resolve_lm

__all__ = ["LocalEngine", "local_model_path", "resolve_lm"]
