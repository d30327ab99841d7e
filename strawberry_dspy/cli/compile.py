"""Compile a program against the gold answers of a dev split; print and save the before / after report."""

from __future__ import annotations

import argparse

from strawberry_dspy.compile import CompileSettings, compile_program
from strawberry_dspy.compile.report import format_report
from strawberry_dspy.config import load_config
from strawberry_dspy.errors import UserError
from strawberry_dspy.executors import use_executor
from strawberry_dspy.options import add_program_command, program_command_options

INTERRUPTED = "interrupted: rerun the same command to resume (a search keeps its finished trials in study.sqlite)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_program_command(parser, CompileSettings, name="compile", example="--dev_limit=10",
                        knob="--strawberry.max_turns=6 --seed=1",
                        recipe_flags=("benchmark", "model", "api_base", "concurrency"))  # compile picks its own splits


def main(args: argparse.Namespace) -> int:
    options, overrides = program_command_options(CompileSettings, args)
    if str(args.program).endswith(".json"):
        raise UserError(f"compile takes a program YAML recipe, got {args.program!r}; compile the recipe it came from")
    config = load_config(args.program, overrides)
    with use_executor(args.executor, args.ray_address):
        compiled, meta = compile_program(args.program, config, options)
    print(format_report(meta))
    print(f"\ncompiled program: {compiled}\nreport: {compiled.parent / 'report.md'}")
    print(f"run it: strawberry run {compiled}")
    return 0
