"""Compile a program against the gold answers of a dev split; print and save the before / after report."""

from __future__ import annotations

import argparse

from strawberry_dspy.compile import CompileSettings, compile_program
from strawberry_dspy.compile.report import format_report
from strawberry_dspy.config import load_config, parse_overrides
from strawberry_dspy.errors import UserError
from strawberry_dspy.executors import use_executor
from strawberry_dspy.options import (add_executor_flags, add_options, add_recipe_flags, options_from_args,
                                     recipe_overrides, split_options)

INTERRUPTED = "interrupted: rerun the same command to resume (a search keeps its finished trials in study.sqlite)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("program", help="a packaged recipe's name (strawberry, cot, ...: strawberry programs) or a YAML recipe")
    add_recipe_flags(parser, ("benchmark", "model", "api_base", "concurrency"))  # compile picks its own splits
    add_options(parser, CompileSettings)
    add_executor_flags(parser)
    parser.epilog = ("A --key=value naming a compile option sets it (e.g. --dev_limit=10); any other is a knob of "
                     "the recipe, e.g. --strawberry.max_turns=6 --seed=1")


def main(args: argparse.Namespace) -> int:
    options, recipe_settings = split_options(CompileSettings, parse_overrides(args.overrides))
    options = options_from_args(CompileSettings, args, options)  # bad options fail before the recipe or the model
    if str(args.program).endswith(".json"):
        raise UserError(f"compile takes a program YAML recipe, got {args.program!r}; compile the recipe it came from")
    config = load_config(args.program, recipe_overrides(args, recipe_settings))
    with use_executor(args.executor, args.ray_address):
        compiled, meta = compile_program(args.program, config, options)
    print(format_report(meta))
    print(f"\ncompiled program: {compiled}\nreport: {compiled.parent / 'report.md'}")
    print(f"run it: strawberry run {compiled}")
    return 0
