"""Flags several commands share: `--band LO HI` (harvest, compile, export, stats, bootstrap) and
`--executor` / `--ray-address` (harvest, run, compile, bootstrap)."""

from __future__ import annotations

import argparse

from strawberry_dspy.band import DEFAULT_BAND, Band


def add_band_flag(parser: argparse.ArgumentParser, what: str, default: Band | None = DEFAULT_BAND) -> None:
    """`--band LO HI`; read it back as a validated Band with `band_of(args)`."""
    shown = "" if default is None else f" (default {default.lo:g} {default.hi:g})"
    parser.add_argument("--band", nargs=2, type=float, metavar=("LO", "HI"),
                        default=None if default is None else list(default), help=f"{what}{shown}")


def band_of(args: argparse.Namespace) -> Band | None:
    """The --band of a command line as a Band (a UserError when LO HI is not a range); None when not given."""
    return None if args.band is None else Band.of(args.band)


def add_executor_flags(parser: argparse.ArgumentParser) -> None:
    """`--executor thread|ray` and `--ray-address`; enter them with `use_executor(args.executor, args.ray_address)`."""
    from strawberry_dspy.executors import EXECUTORS

    parser.add_argument("--executor", default="thread", choices=EXECUTORS,
                        help="where traces run: threads of this process (default) or a Ray cluster (needs the [ray] extra)")
    parser.add_argument("--ray-address", metavar="ADDRESS",
                        help="with --executor ray: 'auto' joins the cluster `ray start` runs on this machine, HOST:PORT "
                             "another one (default: start a local Ray instance)")
