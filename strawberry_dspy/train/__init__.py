"""Training: the embedded GGUF as a Hugging Face folder, TRL fine-tuning (SFT/DPO/KTO), and the way back to GGUF.

Everything here needs the optional `[train]` extra (torch, transformers, trl, gguf); `require_train_extra()`
(in `strawberry_dspy.extras`) turns its absence into one clear line. Serving a trained folder (`hf:DIR`,
its GGUF writer and the transformers engine) lives in `strawberry_dspy.models`.
"""

from strawberry_dspy.extras import INSTALL_HINT, TRAIN_PACKAGES, require_train_extra

__all__ = ["INSTALL_HINT", "TRAIN_PACKAGES", "require_train_extra"]
