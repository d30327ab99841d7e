"""The export's settings: one dataclass, validated, written beside the data as export.yaml."""

from __future__ import annotations

import re
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path

from strawberry_dspy.band import Band
from strawberry_dspy.errors import UserError
from strawberry_dspy.options import option

FORMATS = ("sft", "dpo", "kto", "stepwise")
STYLES = ("flat", "turns")
DESTINATIONS = ("jsonl", "parquet", "disk")
WEIGHTINGS = ("steps", "tokens", "none")
SFT_FORMS = ("prompt-completion", "messages")
NUDGE_MODES = ("inline", "drop")
# where a reasoning model's thinking goes in an assistant message: off (left out), or the key TRL's chat templates read
# (`reasoning_content`: Qwen3, DeepSeek-R1 and most; `thinking`: gpt-oss, LFM2)
THINKING_KEYS = ("off", "reasoning_content", "thinking")
EVAL_SPLITS = ("test", "dev")


@dataclass
class ExportSettings:
    """What to export and how; each field is a flag of `strawberry export` (strawberry_dspy/options.py)."""

    format: str = option("sft", "TRL dataset type to write", choices=FORMATS)
    style: str = option("flat", "flat: one long assistant message per trace; turns: the multi-turn chat", choices=STYLES)
    band: Band | None = option(None, "keep problems whose pass rate (correct / finished traces) is in [LO, HI]",
                               shown="the band the harvest used")
    sft_form: str = option("prompt-completion", "SFT columns: prompt/completion (loss on the completion) or messages",
                           choices=SFT_FORMS)
    nudges: str = option("inline", "flat style: keep nudges inline (the model's own self-questions) or drop them",
                         choices=NUDGE_MODES)
    system: str | None = option(None, "flat style: a system message for every prompt (default none)")
    thinking: str = option("off", "a reasoning model's own thinking in the assistant messages, under this key as "
                           "TRL's chat templates read it (off: left out)", choices=THINKING_KEYS)
    max_pairs: int = option(4, "DPO: at most this many (correct, incorrect) pairs per problem")
    weighting: str = option("steps", "DPO: weight pairs by trace length in steps or completion tokens, or none",
                            choices=WEIGHTINGS)
    alpha: float = option(1.0, "weighting strength; > 0 favours short correct / long incorrect traces, < 0 the reverse")
    resample: float = option(0.0, "DPO: repeat rows in proportion to weight x FACTOR (--resample alone: factor 1; "
                             "0 = off)", metavar="FACTOR", nargs="?", const=1.0)
    seed: int = option(0, "pair choice and resampling seed")
    eval_splits: list[str] = field(default_factory=lambda: ["test"])  # splits that never reach a training export (--exclude-dev adds dev)
    decontam_benchmark: str | None = option(None, "benchmark spec to decontaminate against (default: the store's)")
    demos: list[str] = option(default_factory=list, help="compiled programs (compiled.json) whose demos must not "
                              "reach the export: the problems they give away are removed (reason demo); for a store "
                              "harvested before leaks were recorded, or with another program", metavar="PROGRAM")
    decontam_limit: int = option(1000, "eval problems per split to check")
    ngram: int = option(8, "n of the n-gram overlap check")
    ngram_threshold: float = option(0.5, "overlap (shared n-grams / the shorter question's) that counts as "
                                    "contamination")
    to: str = option("jsonl", "file format (disk: datasets.save_to_disk)", choices=DESTINATIONS)
    push_to_hub: str | None = option(None, "also publish the export to this Hub dataset repo (OWNER/NAME): its data "
                                     "file, card and export.yaml in one commit; needs HF_HUB_OFFLINE=0 and HF_TOKEN",
                                     metavar="REPO")
    private: bool = option(False, "with --push-to-hub: create the repo private (an existing repo keeps its "
                           "visibility)")
    steps_hold: bool = option(False, "keep only correct traces whose arithmetic steps hold (every `EXPRESSION = "
                              "NUMBER` a step writes is evaluated; a trace with none is kept): SFT rows and DPO chosen "
                              "traces without lucky guesses")

    def validate(self) -> None:
        """Raise a UserError naming the first bad setting."""
        for name, allowed in (("format", FORMATS), ("style", STYLES), ("to", DESTINATIONS),
                              ("weighting", WEIGHTINGS), ("sft_form", SFT_FORMS), ("nudges", NUDGE_MODES),
                              ("thinking", THINKING_KEYS)):
            if getattr(self, name) not in allowed:
                raise UserError(f"--{name.replace('_', '-')} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}")
        self.band = None if self.band is None else Band.of(self.band)
        if self.max_pairs < 1:
            raise UserError(f"--max-pairs must be >= 1, got {self.max_pairs}")
        if self.resample < 0:
            raise UserError(f"--resample FACTOR must be >= 0, got {self.resample}")
        if self.resample and self.format != "dpo":
            raise UserError(f"--resample applies to --format dpo only, got --format {self.format}: drop --resample")
        self._refuse_conflicts()
        bad = [s for s in self.eval_splits if s not in EVAL_SPLITS]
        if bad or "test" not in self.eval_splits:
            raise UserError(f"eval splits must include test and be among {', '.join(EVAL_SPLITS)}, got {self.eval_splits}")
        if self.ngram < 1 or not 0.0 < self.ngram_threshold <= 1.0:
            raise UserError(f"--ngram must be >= 1 and --ngram-threshold in (0, 1], got {self.ngram}, {self.ngram_threshold}")
        missing = [path for path in self.demos if not Path(path).is_file()]
        if missing:
            raise UserError(f"--demos {missing[0]!r} is not a file: pass the compiled.json (or recipe) that harvested "
                            "or will be evaluated with these problems")
        if self.private and not self.push_to_hub:
            raise UserError("--private applies to --push-to-hub only: add --push-to-hub OWNER/NAME or drop --private")
        if self.push_to_hub is not None and not re.fullmatch(r"[\w.-]+/[\w.-]+", self.push_to_hub):
            raise UserError(f"--push-to-hub must name a dataset repo as OWNER/NAME, got {self.push_to_hub!r}")
        if self.decontam_limit < 1:
            raise UserError(f"--decontam-limit must be >= 1, got {self.decontam_limit}")

    def _refuse_conflicts(self) -> None:
        """A setting changed from its default that the chosen format or style ignores is a UserError naming both."""
        default = ExportSettings.__new__(ExportSettings)  # the field defaults, without validating
        for f in fields(self):
            setattr(default, f.name, f.default if f.default is not MISSING else f.default_factory())
        applies = [("max_pairs", "format", ("dpo",)), ("weighting", "format", ("dpo",)), ("alpha", "format", ("dpo",)),
                   ("sft_form", "format", ("sft",)), ("nudges", "style", ("flat",)), ("system", "style", ("flat",))]
        for name, by, allowed in applies:
            value = getattr(self, name)
            if value != getattr(default, name) and getattr(self, by) not in allowed:
                flag = f"--{name.replace('_', '-')}"
                raise UserError(f"{flag} {value} applies to --{by} {' or '.join(allowed)} only, got --{by} "
                                f"{getattr(self, by)}: drop {flag} or pass --{by} {allowed[0]}")

    def to_dict(self) -> dict:
        data = asdict(self)
        data["band"] = None if self.band is None else list(self.band)
        return data
