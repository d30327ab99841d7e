"""Run a program on a benchmark split and print its table (accuracy, steps, stop reasons, tokens, time)."""

from __future__ import annotations

import argparse

from strawberry_dspy.options import add_executor_flags, add_recipe_flags, recipe_overrides
from strawberry_dspy.executors import use_executor
from strawberry_dspy.program_file import load_program_file
from strawberry_dspy.run import run, summary_table

INTERRUPTED = "interrupted: nothing was written (a run directory appears only when the run has finished)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("program", help="a program YAML recipe (programs/*.yaml) or a compiled program JSON")
    add_recipe_flags(parser)
    parser.add_argument("--samples", type=int, default=1, help="seeded samples per problem: accuracy becomes the mean "
                                                               "per-problem pass rate with a 95%% interval (default 1)")
    parser.add_argument("--out", help="run directory (default: runs/<program>-<task>-<split>-<hash>)")
    add_executor_flags(parser)
    parser.epilog = "Any other knob: --key=value, e.g. --strawberry.check_every=2 --temperature=0.9"


def main(args: argparse.Namespace) -> int:
    config, program = load_program_file(args.program, recipe_overrides(args))
    with use_executor(args.executor, args.ray_address):
        out, summary, _ = run(config, args.out, program, samples=args.samples)
    print(summary_table(summary, f"{config.program} on {config.benchmark} ({config.split}, model {config.model})"))
    print(f"\nrun directory: {out}")
    return 0
