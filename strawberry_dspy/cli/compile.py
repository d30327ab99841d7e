"""Compile a program against the gold answers of a dev split; print and save the before / after report."""

from __future__ import annotations

import argparse

from strawberry_dspy.cli.flags import add_band_flag, add_executor_flags, band_of
from strawberry_dspy.cli.run import cli_overrides
from strawberry_dspy.compile import CompileOptions, Objective, compile_program
from strawberry_dspy.compile.objectives import DEFAULT_BAND_SAMPLES
from strawberry_dspy.compile.optimizers import BUDGET_MEANING
from strawberry_dspy.compile.report import format_report
from strawberry_dspy.config import load_config
from strawberry_dspy.errors import UserError
from strawberry_dspy.executors import use_executor


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("program", help="a program YAML recipe (programs/*.yaml)")
    parser.add_argument("--benchmark", help="benchmark spec, e.g. reasoning_gym:basic_arithmetic or jsonl:FILE")
    parser.add_argument("--optimizer", default="search",
                        help="; ".join(f"{k}: budget = {v}" for k, v in BUDGET_MEANING.items()) + " (default search)")
    parser.add_argument("--model", help="the task model spec (default: the recipe's)")
    parser.add_argument("--api-base", help="OpenAI-compatible server URL for openai/... task models")
    parser.add_argument("--prompt-model", help="teacher / proposer / reflection model spec (default: the task model)")
    parser.add_argument("--budget", type=int, default=8, help="see --optimizer (default 8)")
    parser.add_argument("--objective", default="accuracy", help="accuracy (default) or band")
    add_band_flag(parser, "the pass-rate band of --objective band")
    parser.add_argument("--samples", type=int, help=f"samples per dev problem (default 1; {DEFAULT_BAND_SAMPLES} for band)")
    parser.add_argument("--dev-limit", type=int, default=20, help="dev problems to score on (default 20)")
    parser.add_argument("--test-limit", type=int, default=20, help="held-out test problems for before/after (default 20)")
    parser.add_argument("--train-limit", type=int, default=20, help="train problems for bootstrap/mipro/gepa (default 20)")
    parser.add_argument("--concurrency", type=int, help="problems in flight at once")
    parser.add_argument("--out", help="output directory, or a path ending in .json (default runs/compiled/<recipe>-<task>-<optimizer>-<hash>)")
    add_executor_flags(parser)
    parser.epilog = "Any knob of the recipe: --key=value, e.g. --strawberry.max_turns=6 --seed=1"


def options_from_args(args: argparse.Namespace) -> CompileOptions:
    """The compile options of a command line."""
    samples = args.samples if args.samples is not None else (DEFAULT_BAND_SAMPLES if args.objective == "band" else 1)
    return CompileOptions(optimizer=args.optimizer, budget=args.budget, prompt_model=args.prompt_model,
                          objective=Objective(args.objective, band_of(args), samples), dev_limit=args.dev_limit,
                          test_limit=args.test_limit, train_limit=args.train_limit, out=args.out)


def main(args: argparse.Namespace) -> int:
    options = options_from_args(args)
    options.validate()  # bad flags fail before the recipe or the model is touched
    if str(args.program).endswith(".json"):
        raise UserError(f"compile takes a program YAML recipe, got {args.program!r}; compile the recipe it came from")
    config = load_config(args.program, cli_overrides(args))
    with use_executor(args.executor, args.ray_address):
        compiled, meta = compile_program(args.program, config, options)
    print(format_report(meta))
    print(f"\ncompiled program: {compiled}\nreport: {compiled.parent / 'report.md'}")
    print(f"run it: strawberry run {compiled}")
    return 0
