"""List the packaged recipes: run any of them by name from any folder (`strawberry run strawberry`)."""

from __future__ import annotations

import argparse

from strawberry_dspy.recipes import RECIPES_DIR, describe, recipe_names


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--path", action="store_true", help="print each recipe's file path (copy one to edit it)")


def main(args: argparse.Namespace) -> int:
    from strawberry_dspy.errors import UserError

    if args.overrides:
        raise UserError(f"programs takes no --key=value overrides, got {' '.join(args.overrides)}")
    for title, train in (("programs (strawberry run NAME, harvest, compile, bootstrap)", False),
                         ("training recipes (strawberry train --method ...; bootstrap --train-recipe NAME)", True)):
        print(title)
        for name in recipe_names(train=train):
            shown = RECIPES_DIR / f"{name}.yaml" if args.path else describe(name)
            print(f"  {name:<16} {shown}")
    return 0
