"""Statistics of a harvest: pass-rate histogram (PNG), band, stop reasons, tokens and cost, verifier AUROC, nudges."""

from __future__ import annotations

import argparse
from pathlib import Path

from strawberry_dspy.harvest.plots import pass_rate_histogram
from strawberry_dspy.harvest.stats import PLOT_FILE, StatsSettings, format_stats, harvest_stats
from strawberry_dspy.options import add_options, options_from_args
from strawberry_dspy.store import TraceStore


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", metavar="HARVEST_DIR", help="a harvest directory (or its traces.sqlite)")
    add_options(parser, StatsSettings)


def main(args: argparse.Namespace) -> int:
    options = options_from_args(StatsSettings, args)
    with TraceStore.open(args.dir, readonly=True) as store:
        stats = harvest_stats(store, options.band)
        folder = store.path.parent
    print(format_stats(stats))
    rates = [r for r in stats.rates.values() if r is not None]
    if not rates:
        print("\nno plot: no problem has a non-failed sample yet")
        return 0
    title = f"{stats.meta.get('program')} on {stats.meta.get('benchmark', '').split('?')[0]} ({stats.meta.get('model')})"
    path = pass_rate_histogram(rates, stats.band, stats.samples, Path(options.plot) if options.plot else folder / PLOT_FILE, title)
    print(f"\npass-rate histogram: {path}")
    return 0
