"""Bootstrap: rounds of harvest -> band -> export -> train -> held-out eval, moving up the task's difficulty."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

from strawberry_dspy.cli.flags import add_band_flag, add_executor_flags, band_of
from strawberry_dspy.config import parse_overrides

DEFAULT_RECIPE = "programs/train_dpo.yaml"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("program", help="a program YAML recipe (programs/strawberry.yaml)")
    parser.add_argument("--benchmark", help="starting benchmark, e.g. reasoning_gym:basic_arithmetic?level=0 "
                                            "(default: the recipe's); its level=N rises with the curriculum")
    parser.add_argument("--rounds", type=int, default=1, help="rounds to run (default 1; rerun with more to continue)")
    parser.add_argument("--out", help="loop directory (default runs/bootstrap-<recipe>-<task>-<hash>); rerunning "
                                      "into it resumes at the first unfinished stage")
    parser.add_argument("--model", help="starting model spec (default: the recipe's, usually local)")
    parser.add_argument("--samples", "-k", type=int, default=8, help="traces per train problem (default 8)")
    parser.add_argument("--limit", type=int, default=40, help="train problems harvested per round (default 40)")
    parser.add_argument("--eval-limit", type=int, default=100, help="held-out test problems per evaluation (default 100)")
    parser.add_argument("--temperature", type=float, help="harvest sampling temperature (default: the recipe's; "
                                                          "evaluation always uses the recipe's)")
    add_band_flag(parser, "pass-rate band of the problems trained on")
    parser.add_argument("--train-recipe", help=f"YAML with a train: section (default {DEFAULT_RECIPE}); its method "
                                               "(dpo, kto, sft) chooses the export format")
    compile_group = parser.add_mutually_exclusive_group()
    compile_group.add_argument("--compile-budget", type=int, default=4,
                               help="knob-search trials per round before harvesting (default 4)")
    compile_group.add_argument("--no-compile", action="store_true", help="skip the compile stage")
    parser.add_argument("--level-up-at", type=float, default=0.8,
                        help="held-out accuracy above which the next round moves one level up (default 0.8)")
    parser.add_argument("--export-style", choices=("turns", "flat"), default="turns",
                        help="turns: train on the chat as the program runs it (default); flat: one assistant message")
    parser.add_argument("--concurrency", type=int, help="traces in flight at once (default: the recipe's)")
    parser.add_argument("--fresh", action="store_true", help="delete OUT's rounds and start over")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    add_executor_flags(parser)
    parser.epilog = ("Program knobs: --key=value (e.g. --strawberry.max_turns=4); training hyper-parameters: "
                     "--train.key=value (e.g. --train.max_steps=20). Needs the [train] extra.")


def settings_from_args(args: argparse.Namespace):
    """The bootstrap settings a command line describes."""
    from strawberry_dspy.bootstrap import BootstrapSettings
    from strawberry_dspy.config import load_config
    from strawberry_dspy.errors import UserError
    from strawberry_dspy.program_file import load_program_file
    from strawberry_dspy.train.recipe import load_recipe

    if not Path(args.program).is_file():
        raise UserError(f"program not found: {args.program!r}; pass a recipe such as programs/strawberry.yaml")
    overrides = parse_overrides(args.overrides)
    train_overrides = overrides.pop("train", None) or {}
    if args.concurrency is not None:
        overrides["concurrency"] = args.concurrency
    config = (load_program_file(args.program, overrides)[0] if args.program.endswith(".json")
              else load_config(args.program, overrides))  # bad knobs fail here, before any work
    recipe_path = args.train_recipe or (DEFAULT_RECIPE if Path(DEFAULT_RECIPE).is_file() else None)
    return BootstrapSettings(
        program=args.program, benchmark=args.benchmark or config.benchmark, recipe=load_recipe(recipe_path, train_overrides),
        rounds=args.rounds, model=args.model or config.model, samples=args.samples, limit=args.limit,
        eval_limit=args.eval_limit, band=band_of(args), temperature=args.temperature,
        compile_budget=0 if args.no_compile else args.compile_budget, level_up_at=args.level_up_at,
        export_style=args.export_style, overrides=overrides,
    ).validate()


def main(args: argparse.Namespace) -> int:
    from strawberry_dspy.bootstrap import bootstrap
    from strawberry_dspy.executors import use_executor

    settings = settings_from_args(args)
    command = "strawberry " + shlex.join(sys.argv[1:]) if "bootstrap" in sys.argv[1:3] else None
    try:
        with use_executor(args.executor, args.ray_address):
            result = bootstrap(settings, args.out, fresh=args.fresh, progress=not args.no_progress,
                               command=command or f"strawberry bootstrap {args.program} ...")
    except KeyboardInterrupt:
        # finished stages kept their markers; exit now rather than wait for in-flight LM calls
        print("interrupted: rerun the same command to resume at the first unfinished stage", file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(130)
    print((result.out / "rounds.md").read_text())
    print(f"loop directory: {result.out}\nround table: {result.out / 'rounds.md'}   plot: {result.out / 'rounds.png'}")
    print(f"next round's model: {result.model}")
    return 0
