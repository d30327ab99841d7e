"""The pass-rate band: which problems count as "barely solvable", and a problem's pass rate.

Every stage and every `--band LO HI` flag (harvest, compile's band objective, export, stats,
bootstrap) uses this one type and this one default. (0.1, 0.9) with fewer than 10 samples per
problem means "at least one right and at least one wrong answer": the problems whose traces
hold preference pairs, which is what a harvest is for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator

from strawberry_dspy.errors import UserError

SLACK = 1e-9  # 3 of 10 samples is 0.30000000000000004: a rate on the edge counts as inside


@dataclass(frozen=True)
class Band:
    """An inclusive range [lo, hi] of pass rates with 0 <= lo < hi <= 1; unpacks as `lo, hi = band`."""

    lo: float
    hi: float

    def __post_init__(self) -> None:
        if not 0.0 <= self.lo < self.hi <= 1.0:
            raise UserError(f"--band {self.lo:g} {self.hi:g} is not a range of pass rates: need --band LO HI with "
                            f"0 <= LO < HI <= 1, e.g. --band {DEFAULT_LO:g} {DEFAULT_HI:g}")

    @classmethod
    def of(cls, value: Band | Iterable[float]) -> Band:
        """A Band from a Band or any (lo, hi) pair (a tuple, a YAML list, argparse's nargs=2 list)."""
        if isinstance(value, Band):
            return value
        lo, hi = value
        return cls(float(lo), float(hi))

    def contains(self, rate: float | None) -> bool:
        """Whether a pass rate lies in the band (None, a problem with no finished sample yet, never does)."""
        return rate is not None and self.lo - SLACK <= rate <= self.hi + SLACK

    def __iter__(self) -> Iterator[float]:
        return iter((self.lo, self.hi))

    def __str__(self) -> str:
        return f"[{self.lo:g}, {self.hi:g}]"


def pass_rate(correct: int, total: int) -> float | None:
    """Correct samples over non-failed samples; None when there is no non-failed sample."""
    return correct / total if total else None


DEFAULT_LO, DEFAULT_HI = 0.1, 0.9
DEFAULT_BAND = Band(DEFAULT_LO, DEFAULT_HI)
