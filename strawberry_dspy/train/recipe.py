"""The training recipe: a `train:` section of YAML (programs/train_*.yaml) + `--key=value` overrides.

The fields are the few hyper-parameters that matter at this size, with CPU-friendly defaults; any other
field of TRL's DPOConfig / KTOConfig / SFTConfig goes in `trl:` and is checked against that class.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path

from strawberry_dspy.config import dataclass_from_dict, read_yaml
from strawberry_dspy.errors import UserError
from strawberry_dspy.recipes import recipe_names, resolve_recipe

METHODS = ("dpo", "kto", "sft", "rft")  # rft: SFT on the correct traces (rejection-sampling fine-tuning, STaR)
GGUF_QUANTS = ("q8_0", "f16", "q4_1", "f32")  # strawberry_dspy.models.to_gguf.QUANTS


@dataclass
class TrainSettings:
    """Hyper-parameters of one fine-tuning run (TRL), defaults sized for a 135M model on a CPU."""

    method: str = "dpo"  # dpo | kto | sft | rft (SFT on an export of correct traces)
    base: str = "local"  # base model: local, local:/path.gguf, hf:/path/to/folder
    learning_rate: float = 5e-6  # peak learning rate
    epochs: float = 1.0  # passes over the data (ignored when max_steps > 0)
    max_steps: int = -1  # optimizer steps; > 0 overrides epochs
    batch_size: int = 1  # examples per forward pass (a DPO example is two sequences)
    gradient_accumulation_steps: int = 4  # forward passes per optimizer step
    max_length: int = 512  # tokens per sequence (prompt + completion); longer ones are truncated
    beta: float = 0.1  # DPO/KTO: strength of the pull towards the reference model
    rpo_alpha: float = 0.0  # DPO: weight of an NLL term on the chosen response (Iterative RPO); 0 = plain DPO
    warmup_ratio: float = 0.1  # fraction of the steps spent warming the learning rate up, rounded down (in [0, 1))
    lr_scheduler: str = "cosine"  # transformers scheduler name: cosine, linear, constant, ...
    weight_decay: float = 0.0  # AdamW weight decay
    seed: int = 0  # training seed (data order, dropout)
    threads: int = 0  # torch CPU threads (0 = all available cores)
    gguf: str | None = "q8_0"  # also write the trained model as GGUF for llama.cpp (q8_0, f16, q4_1, f32; null = no)
    trl: dict = field(default_factory=dict)  # any other field of TRL's DPOConfig / KTOConfig / SFTConfig

    def validate(self) -> None:
        """Raise a UserError naming the first broken rule."""
        problems = []
        if self.method not in METHODS:
            problems.append(f"unknown method {self.method!r}: expected one of {', '.join(METHODS)}")
        for name in ("batch_size", "gradient_accumulation_steps", "max_length"):
            if getattr(self, name) < 1:
                problems.append(f"{name} must be >= 1, got {getattr(self, name)}")
        if not math.isfinite(self.rpo_alpha) or self.rpo_alpha < 0:
            problems.append(f"rpo_alpha must be a finite number >= 0, got {self.rpo_alpha}")
        elif self.rpo_alpha and self.method != "dpo":
            problems.append(f"rpo_alpha adds an NLL term to DPO, but the method is {self.method}: drop rpo_alpha")
        if self.learning_rate <= 0:
            problems.append(f"learning_rate must be > 0, got {self.learning_rate}")
        if self.gguf is not None and self.gguf not in GGUF_QUANTS:
            problems.append(f"unknown gguf quantization {self.gguf!r}: expected one of {', '.join(GGUF_QUANTS)} or null")
        if not 0 <= self.warmup_ratio < 1:
            problems.append(f"warmup_ratio must be in [0, 1), got {self.warmup_ratio}")
        if self.max_steps <= 0 and self.epochs <= 0:
            problems.append(f"epochs must be > 0 when max_steps is not set, got {self.epochs}")
        if problems:
            raise UserError(problems[0])

    @property
    def trainer(self) -> str:
        """The TRL trainer the method runs: rft is SFT (on correct traces)."""
        return "sft" if self.method == "rft" else self.method

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def recipe_from_dict(data: dict, overrides: dict | None = None, source: str = "train recipe") -> TrainSettings:
    """Build and validate a TrainSettings from a `train:` mapping (or the mapping itself) plus overrides."""
    section = data.get("train", data) if isinstance(data.get("train"), dict) else data
    overrides = dict(overrides or {})
    overrides.update(overrides.pop("train", None) or {})  # --train.beta=0.2 and --beta=0.2 both work
    return dataclass_from_dict(TrainSettings, section, overrides, source, validate=True)


def load_recipe(path: str | Path | None, overrides: dict | None = None) -> TrainSettings:
    """Load the `train:` section of a YAML recipe (None: the defaults) with overrides."""
    if path is None:
        return recipe_from_dict({}, overrides, "train defaults")
    path = resolve_recipe(path)  # a packaged training recipe's name (train_dpo) works from any folder
    if not path.is_file():
        raise UserError(f"train recipe not found: {str(path)!r}; pass a YAML file or a packaged training recipe "
                        f"({', '.join(recipe_names(train=True))})")
    data = read_yaml(path)
    if "train" not in data or not isinstance(data["train"], dict):
        raise UserError(f"{path}: no 'train:' section; write the hyper-parameters under train: "
                        "(see `strawberry programs --path`: train_dpo.yaml)")
    return recipe_from_dict(data, overrides, str(path))
