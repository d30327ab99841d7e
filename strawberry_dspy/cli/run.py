"""Run a program on a benchmark split and print its table (accuracy, steps, stop reasons, tokens, time)."""

from __future__ import annotations

import argparse

from strawberry_dspy.options import (add_executor_flags, add_options, add_recipe_flags, options_from_args,
                                     recipe_overrides, split_options)
from strawberry_dspy.config import parse_overrides
from strawberry_dspy.executors import use_executor
from strawberry_dspy.program_file import load_program_file
from strawberry_dspy.run import RunSettings, run, summary_table

INTERRUPTED = "interrupted: nothing was written (a run directory appears only when the run has finished)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("program", help="a packaged recipe's name (strawberry, cot, ...: strawberry programs), a YAML recipe, or a compiled program JSON")
    add_recipe_flags(parser)
    parser.add_argument("--out", help="run directory (default: runs/<program>-<task>-<split>-<hash>)")
    add_options(parser, RunSettings)
    add_executor_flags(parser)
    parser.epilog = ("A --key=value naming a run option sets it (e.g. --samples=4); any other is a knob of the "
                     "recipe, e.g. --strawberry.check_every=2 --seed=1")


def main(args: argparse.Namespace) -> int:
    options, recipe_settings = split_options(RunSettings, parse_overrides(args.overrides))
    options = options_from_args(RunSettings, args, options)
    config, program = load_program_file(args.program, recipe_overrides(args, recipe_settings))
    if options.temperature is not None:
        config.set_temperature(options.temperature)  # a compiled program reads the same knobs
    with use_executor(args.executor, args.ray_address):
        out, summary, _ = run(config, args.out, program, progress=options.progress, samples=options.samples)
    print(summary_table(summary, f"{config.program} on {config.benchmark} ({config.split}, model {config.model})"))
    print(f"\nrun directory: {out}")
    return 0
