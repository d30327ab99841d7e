"""Run a program on a benchmark split and print its table (accuracy, steps, stop reasons, tokens, time)."""

from __future__ import annotations

import argparse

from strawberry_dspy.options import ANY_PROGRAM_HELP, add_program_command, program_command_options
from strawberry_dspy.executors import use_executor
from strawberry_dspy.program_file import load_program_file
from strawberry_dspy.run import RunSettings, run, summary_table

INTERRUPTED = "interrupted: nothing was written (a run directory appears only when the run has finished)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_program_command(parser, RunSettings, name="run", example="--samples=4", program_help=ANY_PROGRAM_HELP,
                        knob="--strawberry.check_every=2 --seed=1",
                        out_help="run directory (default: runs/<program>-<task>-<split>-<hash>)")


def main(args: argparse.Namespace) -> int:
    options, overrides = program_command_options(RunSettings, args)
    config, program = load_program_file(args.program, overrides)
    if options.temperature is not None:
        config.set_temperature(options.temperature)  # a compiled program reads the same knobs
    with use_executor(args.executor, args.ray_address):
        out, summary, _ = run(config, args.out, program, progress=options.progress, samples=options.samples)
    print(summary_table(summary, f"{config.program} on {config.benchmark} ({config.split}, model {config.model})"))
    print(f"\nrun directory: {out}")
    return 0
