"""Compare run directories on the same problems: accuracy with 95% intervals, paired differences against the first."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("runs", nargs="+", metavar="RUN", help="run directories (the first is the reference)")
    parser.add_argument("--json", action="store_true", help="print the comparison as JSON")
    parser.epilog = ("Each run's accuracy is its mean per-problem pass rate (run --samples K for K samples). Later "
                     "runs are compared with the first on the problems both saw: the mean paired difference, its "
                     "95% interval, a paired permutation test's p, and the smallest difference the comparison "
                     "could have detected (80% power).")


def main(args: argparse.Namespace) -> int:
    from strawberry_dspy.compare import compare, comparison_table, read_run

    evaluations = [read_run(path) for path in args.runs]
    if len({e.name for e in evaluations}) < len(evaluations):  # bootstrap stages all hold a folder named run
        for evaluation, path in zip(evaluations, args.runs):
            evaluation.name = "/".join(Path(path).resolve().parts[-2:])
    if args.json:
        print(json.dumps([{"run": e.name, "accuracy": e.accuracy.__dict__, "paired": d and d.to_dict()}
                          for e, d in compare(evaluations)], indent=2))
    else:
        print(comparison_table(evaluations))
    return 0
