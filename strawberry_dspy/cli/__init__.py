"""The `strawberry` command: a thin dispatcher over the stages (one module per command)."""

from __future__ import annotations

import argparse
import logging
import sys
from importlib import import_module
from types import ModuleType

from loguru import logger

from strawberry_dspy.errors import UserError

# command -> its module under strawberry_dspy.cli, imported only when that command runs (or for the command list):
# `export` and `stats` then never import dspy, optuna or reasoning-gym, which `compile` and `run` need.
COMMANDS = ("run", "harvest", "stats", "export", "train", "compile", "bootstrap")


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


def command_module(name: str) -> ModuleType:
    """The module of one command (`add_arguments(parser)`, `main(args)`)."""
    return import_module(f"strawberry_dspy.cli.{name}")


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser; with a command named in argv, only that command's module is imported."""
    parser = OneLineParser(prog="strawberry", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    # the top-level options take no value, so the first other word is the command
    chosen = next((a for a in (sys.argv[1:] if argv is None else argv) if not a.startswith("-")), None)
    for name in COMMANDS:
        if chosen in COMMANDS and name != chosen:
            sub.add_parser(name)  # never shown: argparse prints only the chosen command's help
            continue
        module = command_module(name)
        module.add_arguments(sub.add_parser(name, help=module.__doc__, description=module.__doc__))
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point: user errors are one line on stderr and exit code 2, never a traceback."""
    parser = build_parser(argv)
    args, extra = parser.parse_known_args(argv)
    bad = [a for a in extra if not (a.startswith("--") and "=" in a)]
    if bad:
        parser.error(f"unrecognized arguments: {' '.join(bad)} (overrides are written --key=value)")
    args.overrides = extra
    _enable_logging(args.verbose)
    try:
        return command_module(args.command).main(args) or 0
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
