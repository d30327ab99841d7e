"""Step weighting of preference pairs, as the seed asks: a shorter correct trace and a longer incorrect one weigh more.

For a pair with chosen length c and rejected length r (steps, or completion tokens):
    x = (r - c) / max(r, c, 1)          in [-1, 1]: > 0 when the correct trace is the shorter one
    weight = exp(alpha * x), then scaled so the weights average 1 over the dataset.
alpha sets the strength (0 = uniform) and its sign the direction (< 0 favours long correct traces).
TRL has no per-row weight, so the weight is written as a column and, optionally, realised by
resampling: each row repeated about weight x factor times (systematic resampling, seeded).
"""

from __future__ import annotations

import math
import random


def length_advantage(chosen: int, rejected: int) -> float:
    """How much shorter the correct trace is than the incorrect one, in [-1, 1]."""
    return (rejected - chosen) / max(rejected, chosen, 1)


def pair_weights(lengths: list[tuple[int, int]], alpha: float) -> list[float]:
    """Weights (mean 1) of (chosen length, rejected length) pairs."""
    if not lengths:
        return []
    raw = [math.exp(alpha * length_advantage(c, r)) for c, r in lengths]
    mean = sum(raw) / len(raw)
    return [w / mean for w in raw]


def resample_counts(weights: list[float], factor: float = 1.0, seed: int = 0) -> list[int]:
    """How often to repeat each row: floor or ceil of weight x factor, equal to it in expectation over seeds."""
    offset = random.Random(seed).random()
    counts, total = [], 0.0
    for weight in weights:
        start, total = total, total + weight * factor
        counts.append(math.floor(total + offset) - math.floor(start + offset))
    return counts


def resample(rows: list[dict], counts: list[int]) -> list[dict]:
    """Rows repeated by their counts, order kept (trainers shuffle)."""
    return [row for row, count in zip(rows, counts) for _ in range(count)]
