"""Export a harvest store as a fine-tuning dataset in TRL's formats: SFT, step-weighted DPO, KTO or stepwise."""

from __future__ import annotations

import argparse
import json

from strawberry_dspy.export import ExportSettings, export
from strawberry_dspy.options import add_options, options_from_args

INTERRUPTED = "interrupted: nothing was written (an export appears only when it is complete)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", metavar="HARVEST_DIR", help="a harvest directory (or its traces.sqlite)")
    add_options(parser, ExportSettings)
    parser.add_argument("--exclude-dev", action="store_true", help="keep the dev split out too, not just test")
    parser.add_argument("--out", help="output directory (default DIR/exports/FORMAT-STYLE)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output")
    parser.epilog = "Any option also as --key=value (e.g. --max_pairs=2) or in --config FILE.yaml."


def config_from_args(args: argparse.Namespace) -> ExportSettings:
    """The export config the command line describes."""
    fixed = {"eval_splits": ["test", "dev"]} if args.exclude_dev else None
    return options_from_args(ExportSettings, args, fixed=fixed)


def main(args: argparse.Namespace) -> int:
    report = export(args.dir, config_from_args(args), args.out, args.overwrite)
    print(json.dumps({**report.counts, **report.stats}, indent=2))
    print(f"\n{report.rows} rows written to {report.out}")
    return 0
