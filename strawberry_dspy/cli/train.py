"""Fine-tune a model on an export with TRL (DPO, KTO or SFT); the result is served as hf:OUT."""

from __future__ import annotations

import argparse

from strawberry_dspy.config import parse_overrides
from strawberry_dspy.train.recipe import METHODS, load_recipe

INTERRUPTED = "interrupted: nothing was written (the model folder appears only when training has finished)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("recipe", nargs="?", help="a YAML file with a train: section, or a packaged training recipe's "
                                                  "name (train_dpo); default: the packaged train_<method>")
    parser.add_argument("--method", choices=METHODS, help="dpo, kto, sft or rft (SFT on an export of correct traces; "
                                                          "default: the recipe's); DPO with an NLL term: --rpo_alpha=1.0")
    parser.add_argument("--data", required=True, help="the export: a folder from strawberry export, or a .jsonl/.parquet "
                                                      "file or save_to_disk folder in TRL's format")
    parser.add_argument("--base", help="base model: local (default), local:/path.gguf, hf:/path/to/folder")
    parser.add_argument("--out", help="output folder (default: runs/train-<method>-<hash>)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output folder")
    parser.epilog = ("Any hyper-parameter: --key=value, e.g. --max_steps=20 --learning_rate=1e-5 --beta=0.2 "
                     "--trl.loss_type=[ipo]. Needs the [train] extra: pip install -e '.[train]'")


def main(args: argparse.Namespace) -> int:
    from pathlib import Path

    from strawberry_dspy.recipes import resolve_recipe
    from strawberry_dspy.train.trainer import train

    overrides = parse_overrides(args.overrides)
    for flag in ("method", "base"):
        if getattr(args, flag):
            overrides[flag] = getattr(args, flag)
    recipe_path = args.recipe
    if recipe_path is None:  # the packaged train_<method>.yaml
        recipe_path = resolve_recipe(f"train_{'sft' if args.method == 'rft' else args.method or 'dpo'}")
    recipe = load_recipe(recipe_path, overrides)
    out = train(recipe, args.data, args.out, overwrite=args.overwrite)
    print(f"trained model: {out}\nuse it with: --model hf:{out}")
    return 0
