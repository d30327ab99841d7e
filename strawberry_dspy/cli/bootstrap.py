"""Bootstrap: rounds of harvest -> band -> export -> train -> held-out eval, moving up the task's difficulty."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from strawberry_dspy.config import parse_overrides
from strawberry_dspy.options import (PROGRAM_HELP, add_executor_flags, add_options, add_recipe_flags,
                                     options_from_args, recipe_overrides, split_options)

DEFAULT_RECIPE = "train_dpo"  # the packaged training recipe (strawberry_dspy/recipes/train_dpo.yaml)
# finished stages kept their markers
INTERRUPTED = "interrupted: rerun the same command to resume at the first unfinished stage"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from strawberry_dspy.bootstrap.settings import BootstrapSettings

    parser.add_argument("program", help=PROGRAM_HELP)
    parser.add_argument("--out", help="loop directory (default runs/bootstrap-<recipe>-<task>-<hash>); rerunning "
                                      "into it resumes at the first unfinished stage")
    add_options(parser, BootstrapSettings)
    parser.add_argument("--no-compile", action="store_true", help="skip the compile stage (--compile-budget 0)")
    parser.add_argument("--train-recipe", help=f"YAML with a train: section (default {DEFAULT_RECIPE}); its method "
                                               "(dpo, kto, sft) chooses the export format")
    add_recipe_flags(parser, ("concurrency",))
    parser.add_argument("--fresh", action="store_true", help="delete OUT's rounds and start over")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    add_executor_flags(parser)
    parser.epilog = ("A --key=value naming a bootstrap option sets it (e.g. --eval_limit=20); training "
                     "hyper-parameters: --train.key=value (e.g. --train.max_steps=20); any other is a knob of the "
                     "program (e.g. --strawberry.max_turns=4). Needs the [train] extra.")


def settings_from_args(args: argparse.Namespace):
    """The bootstrap settings a command line describes."""
    from strawberry_dspy.bootstrap import BootstrapSettings
    from strawberry_dspy.errors import UserError
    from strawberry_dspy.program_file import load_program_file
    from strawberry_dspy.recipes import not_found_hint, resolve_recipe
    from strawberry_dspy.train.recipe import load_recipe

    if not Path(args.program).is_file():
        raise UserError(f"program not found: {args.program!r}; {not_found_hint()}")
    options, overrides = split_options(BootstrapSettings, parse_overrides(args.overrides))
    train_overrides = overrides.pop("train", None) or {}
    if args.no_compile:
        if hasattr(args, "compile_budget"):
            raise UserError(f"--no-compile and --compile-budget {args.compile_budget} contradict each other: pass one")
        options["compile_budget"] = 0
    overrides = recipe_overrides(args, overrides)
    config = load_program_file(args.program, overrides)[0]  # bad knobs fail here, before any work
    recipe_path = resolve_recipe(args.train_recipe or DEFAULT_RECIPE)
    fixed = {"program": args.program, "benchmark": config.benchmark, "model": config.model,
             "recipe": load_recipe(recipe_path, train_overrides), "overrides": overrides}
    return options_from_args(BootstrapSettings, args, options, fixed)


def main(args: argparse.Namespace) -> int:
    from strawberry_dspy.bootstrap import bootstrap
    from strawberry_dspy.executors import use_executor

    settings = settings_from_args(args)
    command = "strawberry " + shlex.join(sys.argv[1:]) if "bootstrap" in sys.argv[1:3] else None
    with use_executor(args.executor, args.ray_address):
        result = bootstrap(settings, args.out, fresh=args.fresh, progress=not args.no_progress,
                           command=command or f"strawberry bootstrap {args.program} ...")
    print((result.out / "rounds.md").read_text())
    print(f"loop directory: {result.out}\nround table: {result.out / 'rounds.md'}   plot: {result.out / 'rounds.png'}")
    print(f"next round's model: {result.model}")
    return 0
