"""Selection: each problem's pass rate over its samples, and the "barely solvable" band."""

from __future__ import annotations

from pathlib import Path

from strawberry_dspy.errors import UserError
from strawberry_dspy.harvest.store import TraceStore

DEFAULT_BAND = (0.1, 0.9)


def check_band(lo: float, hi: float) -> tuple[float, float]:
    """The band itself, or a UserError when it is not 0 <= LO <= HI <= 1."""
    if not 0.0 <= lo <= hi <= 1.0:
        raise UserError(f"--band {lo} {hi} is not a range of pass rates: need 0 <= LO <= HI <= 1, e.g. --band 0.1 0.9")
    return lo, hi


def tallies(store: TraceStore | str | Path) -> dict[str, tuple[int, int]]:
    """problem id -> (correct, non-failed samples), for every problem of the store (0, 0 when none)."""
    if not isinstance(store, TraceStore):
        with TraceStore.open(store, readonly=True) as opened:
            return tallies(opened)
    counts = {pid: (0, 0) for (pid,) in store.conn.execute("SELECT id FROM problems ORDER BY rowid")}
    query = ("SELECT problem_id, SUM(correct), COUNT(*) FROM traces WHERE stop_reason != 'error' "
             "GROUP BY problem_id")
    for pid, correct, total in store.conn.execute(query):
        counts[pid] = (int(correct), int(total))
    return counts


def pass_rates(store: TraceStore | str | Path) -> dict[str, float | None]:
    """problem id -> correct / non-failed samples (None for a problem with no non-failed sample yet)."""
    return {pid: (correct / total if total else None) for pid, (correct, total) in tallies(store).items()}


def in_band(store: TraceStore | str | Path, lo: float = DEFAULT_BAND[0], hi: float = DEFAULT_BAND[1]) -> list[str]:
    """Ids of the problems whose pass rate lies in [lo, hi], in store order."""
    check_band(lo, hi)
    return [pid for pid, rate in pass_rates(store).items() if rate is not None and lo <= rate <= hi]


def refresh_selection(store: TraceStore, band: tuple[float, float]) -> dict[str, float | None]:
    """Write each problem's pass rate and band membership into the store's problems table."""
    rates = pass_rates(store)
    store.set_selection(rates, band)
    return rates


def clearly_out_of_band(correct: int, total: int, band: tuple[float, float], after: int) -> bool:
    """Early stopping: after `after` non-failed samples that all agree, and whose rate lies outside the band."""
    if after < 1 or total < after or correct not in (0, total):
        return False
    rate = correct / total
    return rate < band[0] or rate > band[1]
