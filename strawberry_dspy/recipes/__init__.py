"""The packaged recipes: the YAML files beside this module, usable by name from any folder.

This folder is the recipes' one home; the repository's `programs/` is a link to it, so `programs/strawberry.yaml`
in a checkout is the same file. Wherever a command takes a recipe:

- an existing file is used as it is (your own recipe, or `programs/strawberry.yaml` inside the checkout);
- otherwise a packaged recipe's name (`strawberry`, `strawberry.yaml`) or its path in the repository
  (`programs/strawberry.yaml`, from any folder) means the packaged file.
"""

from __future__ import annotations

import re
from pathlib import Path

RECIPES_DIR = Path(__file__).resolve().parent
REPO_FOLDER = "programs"  # the repository's link to this folder
TRAIN_PREFIX = "train_"  # train_<method>.yaml: training recipes (`strawberry train`), not programs


def recipe_names(train: bool | None = None) -> list[str]:
    """The packaged recipes' names, sorted (train: only training recipes; False: only programs; None: all)."""
    names = sorted(p.stem for p in RECIPES_DIR.glob("*.yaml"))
    if train is None:
        return names
    return [n for n in names if n.startswith(TRAIN_PREFIX) == train]


def packaged(name_or_path: str | Path) -> Path | None:
    """The packaged recipe that a name or a `programs/NAME.yaml` path means, or None."""
    text = str(name_or_path)
    path = Path(text)
    if path.suffix not in ("", ".yaml", ".yml"):
        return None
    if len(path.parts) == 1 or (len(path.parts) == 2 and path.parts[0] == REPO_FOLDER):
        candidate = RECIPES_DIR / f"{path.stem}.yaml"
        return candidate if path.stem and candidate.is_file() else None
    return None


def resolve_recipe(name_or_path: str | Path) -> Path:
    """The file a command's recipe argument names: an existing file, else the packaged recipe it names, else the
    argument as given (the caller reports it missing)."""
    path = Path(name_or_path)
    if path.exists():
        return path
    return packaged(name_or_path) or path


FILE_SOURCES = ("jsonl", "csv", "parquet")  # benchmark specs that name a file


def anchor_packaged_paths(data: dict, recipe: Path) -> dict:
    """A packaged recipe's benchmark file named relative to the package's folder (`jsonl:strawberry_dspy/...`), as
    an absolute path, so the recipe runs from any folder; a user's recipe, or a path that exists here, as given."""
    spec = data.get("benchmark")
    if recipe.resolve().parent != RECIPES_DIR or not isinstance(spec, str):
        return data
    source, sep, rest = spec.partition(":")
    target, query, options = rest.partition("?")
    packaged_file = RECIPES_DIR.parents[1] / target
    if source in FILE_SOURCES and sep and not Path(target).is_absolute() and not Path(target).exists() \
            and packaged_file.exists():
        return {**data, "benchmark": f"{source}:{packaged_file}{query}{options}"}
    return data


def describe(name: str) -> str:
    """The first sentence of a recipe's opening comment (what the recipe is), or ''."""
    lines = []
    for line in (RECIPES_DIR / f"{name}.yaml").read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("# ").strip())
    return re.split(r"(?<=\.)\s", " ".join(lines), maxsplit=1)[0]


def not_found_hint() -> str:
    """The end of a 'recipe not found' message: what can be passed instead."""
    return f"pass a YAML file or a packaged recipe ({', '.join(recipe_names(train=False))}; `strawberry programs` lists them)"
