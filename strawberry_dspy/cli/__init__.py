"""The `strawberry` command: a thin dispatcher over the stages (one module per command)."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from loguru import logger

from strawberry_dspy.cli import bootstrap as bootstrap_command
from strawberry_dspy.cli import compile as compile_command
from strawberry_dspy.cli import export as export_command
from strawberry_dspy.cli import harvest as harvest_command
from strawberry_dspy.cli import run as run_command
from strawberry_dspy.cli import stats as stats_command
from strawberry_dspy.cli import train as train_command
from strawberry_dspy.cli import ui as ui_command
from strawberry_dspy.errors import UserError

COMMANDS = {
    "run": run_command,
    "harvest": harvest_command,
    "stats": stats_command,
    "export": export_command,
    "train": train_command,
    "compile": compile_command,
    "bootstrap": bootstrap_command,
    "ui": ui_command,
}


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


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="strawberry", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module in COMMANDS.items():
        module.add_arguments(sub.add_parser(name, help=module.__doc__, description=module.__doc__))
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point: user errors are one line on stderr and exit code 2, never a traceback."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    bad = [a for a in extra if not (a.startswith("--") and "=" in a)]
    if bad:
        parser.error(f"unrecognized arguments: {' '.join(bad)} (overrides are written --key=value)")
    args.overrides = extra
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
