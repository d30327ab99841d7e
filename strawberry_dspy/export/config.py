"""The export's settings: one dataclass, validated, written beside the data as export.yaml."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from strawberry_dspy.band import DEFAULT_BAND, Band
from strawberry_dspy.errors import UserError

FORMATS = ("sft", "dpo", "kto", "stepwise")
STYLES = ("flat", "turns")
DESTINATIONS = ("jsonl", "parquet", "disk")
WEIGHTINGS = ("steps", "tokens", "none")
SFT_FORMS = ("prompt-completion", "messages")
NUDGE_MODES = ("inline", "drop")
EVAL_SPLITS = ("test", "dev")


@dataclass
class ExportConfig:
    """What to export and how; help text is the comment beside each field."""

    format: str = "sft"  # sft | dpo | kto | stepwise
    style: str = "flat"  # flat: one assistant message; turns: the multi-turn conversation
    band: Band = DEFAULT_BAND  # keep problems whose pass rate (correct / finished traces) is in [lo, hi]
    sft_form: str = "prompt-completion"  # SFT columns: prompt/completion (loss on the completion) or messages
    nudges: str = "inline"  # flat style: nudges kept as the model's own inline self-questions, or dropped
    system: str | None = None  # flat style: a system message for the prompt (default: none)
    max_pairs: int = 4  # DPO: at most this many (correct, incorrect) pairs per problem
    weighting: str = "steps"  # DPO weight from trace length: steps, tokens (completion tokens) or none
    alpha: float = 1.0  # weighting strength; > 0 favours short correct / long incorrect, < 0 the reverse
    resample: float = 0.0  # DPO: repeat rows in proportion to weight x this factor (0 = off)
    seed: int = 0  # pair choice and resampling
    eval_splits: list[str] = field(default_factory=lambda: ["test"])  # splits that never reach a training export
    decontam_benchmark: str | None = None  # benchmark whose eval splits are checked (default: the store's)
    decontam_limit: int = 1000  # how many problems of each eval split to check against
    ngram: int = 8  # n of the n-gram overlap check
    ngram_threshold: float = 0.5  # overlap (shared n-grams / the shorter question's) that counts as contamination
    to: str = "jsonl"  # jsonl | parquet | disk (datasets.save_to_disk)
    push_to_hub: str | None = None  # also push to this Hub dataset repo

    def validate(self) -> ExportConfig:
        """Raise a UserError naming the first bad setting; return self when all are usable."""
        for name, allowed in (("format", FORMATS), ("style", STYLES), ("to", DESTINATIONS),
                              ("weighting", WEIGHTINGS), ("sft_form", SFT_FORMS), ("nudges", NUDGE_MODES)):
            if getattr(self, name) not in allowed:
                raise UserError(f"--{name.replace('_', '-')} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}")
        self.band = Band.of(self.band)
        if self.max_pairs < 1:
            raise UserError(f"--max-pairs must be >= 1, got {self.max_pairs}")
        if self.resample < 0:
            raise UserError(f"--resample FACTOR must be >= 0, got {self.resample}")
        if self.resample and self.format != "dpo":
            raise UserError(f"--resample applies to --format dpo only, got --format {self.format}: drop --resample")
        bad = [s for s in self.eval_splits if s not in EVAL_SPLITS]
        if bad or "test" not in self.eval_splits:
            raise UserError(f"eval splits must include test and be among {', '.join(EVAL_SPLITS)}, got {self.eval_splits}")
        if self.ngram < 1 or not 0.0 < self.ngram_threshold <= 1.0:
            raise UserError(f"--ngram must be >= 1 and --ngram-threshold in (0, 1], got {self.ngram}, {self.ngram_threshold}")
        if self.decontam_limit < 1:
            raise UserError(f"--decontam-limit must be >= 1, got {self.decontam_limit}")
        return self

    def to_dict(self) -> dict:
        data = asdict(self)
        data["band"] = list(self.band)
        return data
