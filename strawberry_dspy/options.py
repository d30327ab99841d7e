"""Command options from dataclasses: each default and its help are written once, beside the field.

As TRL's `HfArgumentParser` does, a command's flags are generated from its options dataclass:
a field declared with `option()` (or `field(metadata={"help": ...})`) becomes `--field-name`, with
the field's type, default, choices and help. The same options can come from a YAML file
(`--config FILE.yaml`) and from `--key=value` overrides, checked as strictly as recipes are
(`config._coerce`): an unknown key or a wrong type is one line naming the key and the file.

Precedence: the dataclass's defaults < `--config FILE` < `--key=value` < the flags themselves.

Adding an option to a command is one line in its dataclass, e.g.

    keep_failed: bool = option(False, "keep failed traces in the export")

which gives `--keep-failed`, `keep_failed: true` in `--config`, and `--keep_failed=true`. Metadata
keys: help (required for a flag), choices, flag (the flag's name when not --field-name), aliases
(more names, e.g. ("-k",)), metavar, nargs/const (an optional value, e.g. `--resample [FACTOR]`),
shown (the default as the help states it, e.g. "the recipe's"). A field without help is settable
from YAML and `--key=value` only. Bool fields are switches: `--name` when the default is False,
`--no-name` when it is True. A nested dataclass field is flattened: its fields get flags of their own.

The recipe's own settings that commands take as flags (--model, --benchmark, --split, --limit, --concurrency,
--api-base) are generated the same way from `ProgramSettings`'s fields declared with help (`add_recipe_flags`), and
read back as overrides of the recipe (`recipe_overrides`).

The validation convention, for every options, config and recipe dataclass: `validate()` returns
None and raises a UserError naming the first broken rule.
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from dataclasses import MISSING, Field
from pathlib import Path
from typing import Any, Iterable, Iterator

from strawberry_dspy.band import Band
from strawberry_dspy.config import ProgramSettings, _merge, dataclass_from_dict, parse_overrides, read_yaml
from strawberry_dspy.errors import UserError

CONFIG_HELP = "read these options from a YAML file of KEY: VALUE (flags and --key=value override it)"
RECIPE_FLAGS = ("model", "api_base", "benchmark", "split", "limit", "concurrency")  # what run and harvest take
RECIPE_DEST = "recipe."  # the recipe flags' namespace in the parsed arguments


def option(default: Any = MISSING, help: str = "", *, default_factory: Any = MISSING, **metadata: Any) -> Field:
    """A dataclass field that is also a flag: `field(default=..., metadata={"help": ..., ...})`."""
    return dataclasses.field(default=default, default_factory=default_factory, metadata={"help": help, **metadata})


def _fields(cls: type, prefix: str = "") -> Iterator[tuple[str, Field, Any]]:
    """(dotted path, field, type hint) of every flag-bearing field, nested dataclasses flattened."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        hint = _unwrap(hints[f.name])
        if dataclasses.is_dataclass(hint) and hint is not Band:
            yield from _fields(hint, f"{prefix}{f.name}.")
        elif f.metadata.get("help"):
            yield f"{prefix}{f.name}", f, hint


def _unwrap(hint: Any) -> Any:
    """`X | None` -> X (the flag's type); anything else as it is."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return args[0]
    return hint


def _default(f: Field) -> Any:
    if f.default is not MISSING:
        return f.default
    return f.default_factory() if f.default_factory is not MISSING else MISSING


def _key(path: str, f: Field) -> str:
    """The --key=value name of an option: its flag's name (`objective` for objective.name), else its field's."""
    return f.metadata["flag"].lstrip("-").replace("-", "_") if "flag" in f.metadata else path.rpartition(".")[2]


def _flag(f: Field) -> str:
    if "flag" in f.metadata:
        return f.metadata["flag"]
    name = f.name.replace("_", "-")
    return f"--no-{name}" if f.default is True else f"--{name}"


def _help(f: Field, hint: Any) -> str:
    default, help = _default(f), f.metadata["help"]
    if "shown" in f.metadata:
        return f"{help} (default: {f.metadata['shown']})"
    if hint is bool or default in (MISSING, None, ""):
        return help
    shown = f"{default.lo:g} {default.hi:g}" if isinstance(default, Band) else f"{default:g}" \
        if isinstance(default, float) else default
    return f"{help} (default {shown})"


def add_options(parser: argparse.ArgumentParser, cls: type) -> None:
    """Add a flag for every option of `cls`, and `--config FILE.yaml`; read them back with `options_from_args`."""
    _add_flags(parser, _fields(cls))
    parser.add_argument("--config", metavar="FILE.yaml", help=CONFIG_HELP)


def add_recipe_flags(parser: argparse.ArgumentParser, names: tuple[str, ...] = RECIPE_FLAGS,
                     defaults: dict | None = None) -> None:
    """Flags for the recipe settings `names` (ProgramSettings fields declared with help); read them with `recipe_overrides`.

    `defaults`: the command's own value for some, set whatever the recipe says (harvest's split: train).
    """
    _add_flags(parser, (item for item in _fields(ProgramSettings) if item[0] in names), defaults or {}, RECIPE_DEST)


def recipe_overrides(args: argparse.Namespace, overrides: dict | None = None) -> dict:
    """The recipe's --key=value overrides (default: all of the command's) with its flags on top, as one nested dict."""
    overrides = parse_overrides(args.overrides) if overrides is None else overrides
    for path, _, _ in _fields(ProgramSettings):
        if hasattr(args, RECIPE_DEST + path):  # only the recipe's own flags: an option may share a name (model)
            _set(overrides, path, getattr(args, RECIPE_DEST + path))
    return overrides


def _add_flags(parser: argparse.ArgumentParser, fields: Iterable[tuple[str, Field, Any]],
               defaults: dict | None = None, dest: str = "") -> None:
    defaults = defaults or {}
    for path, f, hint in fields:
        names = [_flag(f), *f.metadata.get("aliases", ())]
        help = (f"{f.metadata['help']} (default {defaults[path]}, whatever the recipe says)" if path in defaults
                else _help(f, hint))
        kwargs: dict[str, Any] = {"dest": dest + path, "default": defaults.get(path, argparse.SUPPRESS),
                                  "help": help.replace("%", "%%")}  # argparse formats help with %
        if hint is bool:
            kwargs["action"] = "store_false" if f.default is True else "store_true"
        elif hint is Band:
            kwargs.update(nargs=2, type=float, metavar=("LO", "HI"))
        elif typing.get_origin(hint) is list:
            kwargs.update(nargs="+", type=typing.get_args(hint)[0])
        else:
            kwargs["type"] = hint
            if "choices" not in f.metadata:
                kwargs["metavar"] = names[0].lstrip("-").replace("-", "_").upper()
        for key in ("choices", "metavar", "nargs", "const"):
            if key in f.metadata:
                kwargs[key] = f.metadata[key]
        parser.add_argument(*names, **kwargs)


def _set(tree: dict, path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    for part in parents:
        tree = tree.setdefault(part, {})
    tree[leaf] = value


def split_options(cls: type, data: dict) -> tuple[dict, dict]:
    """(the keys that are options of `cls`, the rest): a flag's own name works too (`samples` for objective.samples)."""
    names = {f.name for f in dataclasses.fields(cls)}
    aliases = {_key(path, f): path for path, f, _ in _fields(cls)}
    mine: dict = {}
    rest: dict = {}
    for key, value in data.items():
        if key in aliases and not isinstance(value, dict):
            _set(mine, aliases[key], value)
        elif key in names:
            mine = _merge(mine, {key: value})
        else:
            rest[key] = value
    return mine, rest


def options_from_args(cls: type, args: argparse.Namespace, overrides: dict | None = None,
                      fixed: dict | None = None) -> Any:
    """The validated options of a command line: defaults < --config FILE < `overrides` (--key=value) < flags.

    `overrides` are the --key=value pairs meant for these options (None: all of the command's);
    `fixed` are constructor values that are not options (a loaded recipe, a path).
    """
    config_file = getattr(args, "config", None)
    from_file: dict = {}
    if config_file:
        if not Path(config_file).is_file():
            raise UserError(f"--config {config_file!r} is not a file: pass a YAML file of option: value lines")
        from_file, unknown = split_options(cls, read_yaml(config_file))
        dataclass_from_dict(cls, {**from_file, **unknown}, source=config_file, fixed=fixed)  # the file's keys and types
    if overrides is None:
        overrides = parse_overrides(getattr(args, "overrides", None) or [])
    from_cli, unknown = split_options(cls, overrides)
    for path, _, _ in _fields(cls):
        if hasattr(args, path):
            _set(from_cli, path, getattr(args, path))
    options = dataclass_from_dict(cls, from_file, {**from_cli, **unknown}, "command line", fixed=fixed)
    options.validate()  # its messages name the flag, wherever the value came from
    return options


__all__ = ["add_options", "add_recipe_flags", "option", "options_from_args", "recipe_overrides", "split_options"]


def add_executor_flags(parser: argparse.ArgumentParser) -> None:
    """`--executor thread|ray` and `--ray-address` (run, harvest, compile, bootstrap); enter them with
    `executors.use_executor(args.executor, args.ray_address)`: where work runs, not what it computes."""
    from strawberry_dspy.executors import EXECUTORS

    parser.add_argument("--executor", default="thread", choices=EXECUTORS,
                        help="where traces run: threads of this process (default) or a Ray cluster (needs the [ray] extra)")
    parser.add_argument("--ray-address", metavar="ADDRESS",
                        help="with --executor ray: 'auto' joins the cluster `ray start` runs on this machine, HOST:PORT "
                             "another one (default: start a local Ray instance)")


PROGRAM_HELP = "a packaged recipe's name (strawberry, cot, ...: strawberry programs) or a YAML recipe"
ANY_PROGRAM_HELP = ("a packaged recipe's name (strawberry, cot, ...: strawberry programs), a YAML recipe, or a "
                    "compiled program JSON")


def add_program_command(parser: argparse.ArgumentParser, cls: type, *, name: str, example: str, knob: str,
                        program_help: str = PROGRAM_HELP, recipe_flags: tuple[str, ...] = RECIPE_FLAGS,
                        recipe_defaults: dict | None = None, out_help: str | None = None) -> None:
    """The flags of a command that runs a program (run, harvest, compile): the program, the recipe flags, --out,
    the options of `cls`, the executor; read them back with `program_command_options`."""
    parser.add_argument("program", help=program_help)
    add_recipe_flags(parser, recipe_flags, recipe_defaults)
    if out_help:
        parser.add_argument("--out", help=out_help)
    add_options(parser, cls)
    add_executor_flags(parser)
    parser.epilog = (f"A --key=value naming a {name} option sets it (e.g. {example}); any other is a knob of the "
                     f"recipe, e.g. {knob}")


def program_command_options(cls: type, args: argparse.Namespace) -> tuple[Any, dict]:
    """The options of `cls` and the recipe's overrides that a program command's line holds; bad options fail here,
    before the recipe or the model is read."""
    options, recipe_settings = split_options(cls, parse_overrides(args.overrides))
    return options_from_args(cls, args, options), recipe_overrides(args, recipe_settings)

