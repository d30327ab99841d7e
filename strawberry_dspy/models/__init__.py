"""Model specs: one string chooses the model everywhere (`local`, `local:/x.gguf`, `provider/model`)."""

from strawberry_dspy.models import offline  # noqa: F401  (first: sets offline defaults before dspy loads)
from strawberry_dspy.models.engine import LocalEngine, local_model_path
from strawberry_dspy.models.lm import lm_for, prompt_lm_for
from strawberry_dspy.models.resolve import resolve_lm

__all__ = ["LocalEngine", "local_model_path", "lm_for", "prompt_lm_for", "resolve_lm"]
