"""Flags several commands share: `--band LO HI` (harvest, compile, export, stats, bootstrap)."""

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
