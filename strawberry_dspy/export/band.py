"""The pass-rate band: keep the problems the model solves some of the time ("barely solvable")."""

from __future__ import annotations

from collections import defaultdict

from strawberry_dspy.export.reader import StoredTrace


def by_problem(traces: list[StoredTrace]) -> dict[str, list[StoredTrace]]:
    """Traces grouped by problem id, in store order."""
    groups: dict[str, list[StoredTrace]] = defaultdict(list)
    for trace in traces:
        groups[trace.problem_id].append(trace)
    return dict(groups)


def pass_rates(groups: dict[str, list[StoredTrace]]) -> dict[str, float]:
    """Fraction of each problem's finished traces that are correct."""
    return {pid: sum(t.correct for t in traces) / len(traces) for pid, traces in groups.items() if traces}


def in_band(groups: dict[str, list[StoredTrace]], band: tuple[float, float]) -> dict[str, list[StoredTrace]]:
    """The groups whose pass rate lies in [lo, hi] (inclusive, with a little float slack)."""
    lo, hi = band
    rates = pass_rates(groups)
    return {pid: traces for pid, traces in groups.items() if lo - 1e-9 <= rates.get(pid, -1.0) <= hi + 1e-9}
