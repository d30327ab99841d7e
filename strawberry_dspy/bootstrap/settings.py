"""What a bootstrap run is: the program, benchmark, starting model and every per-round setting, validated.

The identity (all of it but the number of rounds) is stored in OUT/bootstrap.json; a rerun into the same
directory must match it, so a resumed round never mixes two setups.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from strawberry_dspy.band import DEFAULT_BAND, Band
from strawberry_dspy.config import check_temperature
from strawberry_dspy.errors import UserError
from strawberry_dspy.options import option
from strawberry_dspy.train.recipe import TrainSettings

EXPORT_STYLES = ("turns", "flat")
# a training step -> the export it reads (rft-checked: SFT rows of the correct traces whose steps hold)
EXPORT_FORMAT = {"dpo": "dpo", "kto": "kto", "sft": "sft", "rft": "sft", "rft-checked": "sft-checked"}
TRAIN_METHOD = {"rft-checked": "rft"}  # a step that is a train method run on another export
# an arm: the training steps a round runs on its harvest, in order (rft+dpo: SFT on the correct traces, then DPO)
ARMS = {"rft": ("rft",), "sft": ("sft",), "dpo": ("dpo",), "kto": ("kto",), "rft+dpo": ("rft", "dpo"),
        "rft-checked": ("rft-checked",)}
COMPILE_DEV_LIMIT = 10  # a small compile: dev problems scored per trial
COMPILE_TEST_LIMIT = 5  # compile's own before/after check (the round's held-out eval is the real figure)


@dataclass
class BootstrapSettings:
    """One bootstrap loop; each field with help is a flag of `strawberry bootstrap` (strawberry_dspy/options.py)."""

    program: str  # a program YAML recipe (or a compiled JSON with compile_budget 0)
    benchmark: str = option(help="starting benchmark, e.g. reasoning_gym:basic_arithmetic?level=0; its level=N rises "
                                 "with the curriculum", shown="the recipe's")
    recipe: TrainSettings  # how each round trains (its base is replaced by the round's model)
    rounds: int = option(1, "rounds to run (rerun with more to continue)")
    model: str = option("local", "starting model spec", shown="the recipe's")
    samples: int = option(8, "traces per train problem", aliases=("-k",))
    limit: int = option(40, "train problems harvested per round")
    eval_limit: int = option(100, "held-out test problems per evaluation")
    eval_samples: int = option(4, "seeded samples per held-out problem (accuracy = mean per-problem pass rate)")
    dev_limit: int = option(50, "dev problems (one sample each) that choose the arm to continue and the level-up")
    arms: str = option("", "comma-separated training arms compared on the first round's harvest: rft, dpo, kto, "
                           "sft, rft+dpo, rft-checked (rft on the correct traces whose steps hold); later rounds "
                           "continue the arm best on dev", shown="the train recipe's method")
    resample: float = option(1.0, "DPO: repeat pairs in proportion to their step weight x FACTOR (0 = off)",
                             metavar="FACTOR")
    band: Band = option(DEFAULT_BAND, "pass-rate band of the problems trained on")
    temperature: float | None = option(None, "harvest sampling temperature; evaluation always uses the recipe's",
                                       shown="the recipe's")
    compile_budget: int = option(4, "knob-search trials per round before harvesting (0 = no compile, as --no-compile)")
    level_up_at: float = option(0.8, "dev accuracy above which the next round moves one level up")
    export_style: str = option("turns", "turns: train on the chat as the program runs it; flat: one assistant message",
                               choices=EXPORT_STYLES)
    overrides: dict = field(default_factory=dict)  # --key=value knobs of the program

    def validate(self) -> None:
        """Raise a UserError naming the first bad setting."""
        if not Path(self.program).is_file():
            raise UserError(f"program not found: {self.program!r}; pass a recipe such as programs/strawberry.yaml")
        if self.program.endswith(".json") and self.compile_budget:
            raise UserError(f"{self.program} is already compiled and each round compiles the recipe: pass the "
                            "YAML recipe it came from, or --no-compile")
        for name, least in (("rounds", 1), ("samples", 1), ("limit", 1), ("eval_limit", 1), ("eval_samples", 1),
                            ("dev_limit", 1), ("compile_budget", 0)):
            value = getattr(self, name)
            if not isinstance(value, int) or value < least:
                raise UserError(f"--{name.replace('_', '-')} must be a whole number >= {least}, got {value!r}")
        self.band = Band.of(self.band)
        if not 0.0 <= self.level_up_at <= 1.0:
            raise UserError(f"--level-up-at must be an accuracy in [0, 1], got {self.level_up_at}; e.g. 0.8")
        check_temperature(self.temperature)
        unknown = [arm for arm in self.arm_list() if arm not in ARMS]
        if unknown:
            raise UserError(f"--arms: unknown arm {unknown[0]!r}; choose from {', '.join(ARMS)} (e.g. --arms rft,dpo,rft+dpo)")
        if not (self.resample >= 0 and self.resample < float("inf")):
            raise UserError(f"--resample must be a finite number >= 0, got {self.resample}")
        if self.export_style not in EXPORT_STYLES:
            raise UserError(f"--export-style must be one of {', '.join(EXPORT_STYLES)}, got {self.export_style!r}")

    def arm_list(self) -> list[str]:
        """The arms of the first round, in order (default: the train recipe's method alone)."""
        named = [a.strip() for a in str(self.arms or "").split(",") if a.strip()]
        return list(dict.fromkeys(named)) or [self.recipe.method]

    def identity(self) -> dict:
        """What a rerun into the same directory must share (everything but the number of rounds)."""
        # the program is its file name and text: a checkout in another folder, or a program moved, resumes
        return {"program": Path(self.program).name, "program_text_sha1": _file_sha1(self.program),
                "benchmark": self.benchmark, "model": self.model, "samples": self.samples, "limit": self.limit,
                "eval_limit": self.eval_limit, "eval_samples": self.eval_samples, "dev_limit": self.dev_limit,
                "arms": self.arm_list(), "resample": self.resample, "band": list(self.band), "temperature": self.temperature,
                "compile_budget": self.compile_budget, "level_up_at": self.level_up_at,
                "export_style": self.export_style, "overrides": self.overrides, "recipe": self.recipe.to_dict()}

    def digest(self) -> str:
        """A short hash of the identity (names the default output directory)."""
        return hashlib.sha1(json.dumps(self.identity(), sort_keys=True, default=str).encode()).hexdigest()[:8]


def _file_sha1(path: str) -> str:
    return hashlib.sha1(Path(path).read_bytes()).hexdigest()[:12]
