"""The `strawberry` command: a thin dispatcher over the stages (one module per command)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Iterator, Mapping
from importlib import import_module
from types import ModuleType

from loguru import logger

from strawberry_dspy.errors import UserError
from strawberry_dspy.recipes import resolve_recipe


class _Commands(Mapping[str, ModuleType]):
    """command -> its module under strawberry_dspy.cli, imported on first look-up (for the command that runs, or
    for the command list): `export` and `stats` then never import dspy, optuna or reasoning-gym."""

    NAMES = ("run", "harvest", "stats", "review", "export", "train", "compile", "bootstrap", "compare", "ui", "programs")

    def __getitem__(self, name: str) -> ModuleType:
        if name not in self.NAMES:
            raise KeyError(name)
        return import_module(f"strawberry_dspy.cli.{name}")

    def __iter__(self) -> Iterator[str]:
        return iter(self.NAMES)

    def __len__(self) -> int:
        return len(self.NAMES)


COMMANDS = _Commands()


def _enable_logging(verbose: bool) -> None:
    logger.enable("strawberry_dspy")
    logger.remove()
    logger.add(sys.stderr, level="DEBUG" if verbose else "INFO", format="<green>{time:HH:mm:ss}</green> {message}")
    for name in ("LiteLLM", "litellm", "httpx", "dspy"):
        logging.getLogger(name).setLevel(logging.DEBUG if verbose else logging.ERROR)


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad command line is one line on stderr (what, the value, where to look) and exit 2."""

    def error(self, message: str):
        self.exit(2, f"error: {self.prog}: {message}; see `{self.prog} --help`\n")


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser; with a command named in argv, only that command's module is imported (None: every command)."""
    parser = OneLineParser(prog="strawberry", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    # the top-level options take no value, so the first other word is the command
    chosen = next((a for a in argv or () if not a.startswith("-")), None)
    for name in COMMANDS:
        if chosen in COMMANDS and name != chosen:
            sub.add_parser(name)  # never shown: argparse prints only the chosen command's help
            continue
        module = COMMANDS[name]
        text = (module.__doc__ or "").replace("%", "%%")  # argparse formats a help (not a description) with %
        module.add_arguments(sub.add_parser(name, help=text, description=module.__doc__))
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point: user errors are one line on stderr and exit code 2, never a traceback."""
    argv = sys.argv[1:] if argv is None else argv  # the console script passes None: read the command from sys.argv
    for arg in argv:
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError as exc:  # the OS gave bytes that are not UTF-8 (Python kept them as surrogates)
            shown = arg.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            byte = arg[exc.start].encode("utf-8", "surrogateescape")[0]
            print(f"error: the argument {shown!r} is not UTF-8 text (byte 0x{byte:02x} at character {exc.start}); "
                  "pass it in UTF-8", file=sys.stderr)
            return 2
    parser = build_parser(argv)
    args, extra = parser.parse_known_args(argv)
    bad = [a for a in extra if not (a.startswith("--") and "=" in a)]
    if bad:
        parser.error(f"unrecognized arguments: {' '.join(bad)} (overrides are written --key=value)")
    args.overrides = extra
    for name in ("program", "recipe"):  # a packaged recipe's name (or programs/NAME.yaml) works from any folder
        if getattr(args, name, None):
            setattr(args, name, str(resolve_recipe(getattr(args, name))))
    _enable_logging(args.verbose)
    try:
        return COMMANDS[args.command].main(args) or 0
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        on_interrupt(getattr(COMMANDS[args.command], "INTERRUPTED", "interrupted"))


def on_interrupt(message: str) -> None:
    """Ctrl-C: what was finished is kept (stage_output removed what was half-written); say how to go on, exit 130.

    Exits at once rather than waiting for worker threads whose LM calls are still in flight.
    """
    print(message, file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(130)


if __name__ == "__main__":
    sys.exit(main())
