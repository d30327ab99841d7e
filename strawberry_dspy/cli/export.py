"""Export a harvest store as a fine-tuning dataset in TRL's formats: SFT, step-weighted DPO, KTO or stepwise."""

from __future__ import annotations

import argparse
import json

from strawberry_dspy.cli.flags import add_band_flag, band_of
from strawberry_dspy.errors import UserError
from strawberry_dspy.export import ExportConfig, export
from strawberry_dspy.export.config import DESTINATIONS, FORMATS, NUDGE_MODES, SFT_FORMS, STYLES, WEIGHTINGS

INTERRUPTED = "interrupted: nothing was written (an export appears only when it is complete)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", help="a run directory holding traces.sqlite (or the file itself)")
    parser.add_argument("--format", choices=FORMATS, default="sft", help="TRL dataset type to write (default sft)")
    parser.add_argument("--style", choices=STYLES, default="flat",
                        help="flat: one long assistant message per trace; turns: the multi-turn chat (default flat)")
    add_band_flag(parser, "keep problems whose pass rate is in [LO, HI]")
    parser.add_argument("--sft-form", choices=SFT_FORMS, default="prompt-completion", help="SFT columns")
    parser.add_argument("--nudges", choices=NUDGE_MODES, default="inline", help="flat style: keep nudges inline or drop them")
    parser.add_argument("--system", help="flat style: a system message for every prompt (default none)")
    parser.add_argument("--max-pairs", type=int, default=4, help="DPO: pairs per problem at most (default 4)")
    parser.add_argument("--weighting", choices=WEIGHTINGS, default="steps",
                        help="DPO: weight pairs by trace length in steps or completion tokens, or none (default steps)")
    parser.add_argument("--alpha", type=float, default=1.0,
                        help="weighting strength; > 0 favours short correct / long incorrect traces (default 1)")
    parser.add_argument("--resample", type=float, nargs="?", const=1.0, default=0.0, metavar="FACTOR",
                        help="DPO: repeat rows in proportion to weight x FACTOR (default factor 1)")
    parser.add_argument("--seed", type=int, default=0, help="pair choice and resampling seed")
    parser.add_argument("--exclude-dev", action="store_true", help="keep the dev split out too, not just test")
    parser.add_argument("--decontam-benchmark", help="benchmark spec to decontaminate against (default: the store's)")
    parser.add_argument("--decontam-limit", type=int, default=1000, help="eval problems per split to check (default 1000)")
    parser.add_argument("--ngram", type=int, default=8, help="n of the n-gram overlap check (default 8)")
    parser.add_argument("--ngram-threshold", type=float, default=0.5, help="overlap that counts as contamination")
    parser.add_argument("--out", help="output directory (default DIR/exports/FORMAT-STYLE)")
    parser.add_argument("--to", choices=DESTINATIONS, default="jsonl", help="file format (default jsonl)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output")
    parser.add_argument("--push-to-hub", metavar="REPO", help="also push the dataset to this Hub dataset repo")


def config_from_args(args: argparse.Namespace) -> ExportConfig:
    """The export config the flags describe."""
    if args.overrides:
        raise UserError(f"export takes no --key=value overrides, got {' '.join(args.overrides)}: use its flags (--help)")
    return ExportConfig(
        format=args.format, style=args.style, band=band_of(args), sft_form=args.sft_form, nudges=args.nudges,
        system=args.system, max_pairs=args.max_pairs, weighting=args.weighting, alpha=args.alpha,
        resample=args.resample, seed=args.seed, eval_splits=["test", "dev"] if args.exclude_dev else ["test"],
        decontam_benchmark=args.decontam_benchmark, decontam_limit=args.decontam_limit, ngram=args.ngram,
        ngram_threshold=args.ngram_threshold, to=args.to, push_to_hub=args.push_to_hub,
    ).validate()


def main(args: argparse.Namespace) -> int:
    report = export(args.dir, config_from_args(args), args.out, args.overwrite)
    print(json.dumps({**report.counts, **report.stats}, indent=2))
    print(f"\n{report.rows} rows written to {report.out}")
    return 0
