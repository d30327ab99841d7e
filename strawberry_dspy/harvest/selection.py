"""Selection: each problem's pass rate over its samples, and which problems lie in the "barely solvable" band."""

from __future__ import annotations

from pathlib import Path

from strawberry_dspy.band import Band
from strawberry_dspy.store import TraceStore


def tallies(store: TraceStore | str | Path) -> dict[str, tuple[int, int]]:
    """problem id -> (correct, non-failed samples), for every problem of the store (0, 0 when none)."""
    if isinstance(store, TraceStore):
        return store.tallies()
    with TraceStore.open(store, readonly=True) as opened:
        return opened.tallies()


def pass_rates(store: TraceStore | str | Path) -> dict[str, float | None]:
    """problem id -> correct / non-failed samples (None for a problem with no non-failed sample yet)."""
    if isinstance(store, TraceStore):
        return store.pass_rates()
    with TraceStore.open(store, readonly=True) as opened:
        return opened.pass_rates()


def in_band(store: TraceStore | str | Path, band: Band | None = None) -> list[str]:
    """Ids of the problems whose pass rate lies in the band (None: the one the harvest used), in store order."""
    if isinstance(store, TraceStore):
        return list(store.in_band(band))
    with TraceStore.open(store, readonly=True) as opened:
        return list(opened.in_band(band))


def refresh_selection(store: TraceStore, band: Band) -> dict[str, float | None]:
    """Write each problem's pass rate and band membership into the store's problems table."""
    rates = store.pass_rates()
    store.set_selection(rates, band)
    return rates


def clearly_out_of_band(correct: int, total: int, band: Band, after: int) -> bool:
    """Early stopping: after `after` non-failed samples that all agree, and whose rate lies outside the band."""
    if after < 1 or total < after or correct not in (0, total):
        return False
    return not band.contains(correct / total)
