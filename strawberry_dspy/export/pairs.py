"""Preference pairs: per problem, correct traces against incorrect ones, capped and deterministic."""

from __future__ import annotations

import random
from typing import TypeVar

T = TypeVar("T")


def make_pairs(correct: list[T], incorrect: list[T], cap: int, seed: int, key: str) -> list[tuple[T, T]]:
    """Up to `cap` (correct, incorrect) pairs of one problem, spread so each trace is reused as little as possible.

    The order of candidates is a seeded shuffle keyed by the problem, so the choice does not depend on
    trace length (the weighting, not the selection, expresses the length preference) and is the same
    on every run.
    """
    if not correct or not incorrect:
        return []
    rng = random.Random(f"{seed}:{key}")
    chosen, rejected = correct[:], incorrect[:]
    rng.shuffle(chosen)
    rng.shuffle(rejected)
    # walk the diagonals of the chosen x rejected grid: pair k of diagonal d is (k, k + d), so the
    # first min(n, m) pairs use every trace of the smaller side once before any trace repeats
    pairs: list[tuple[T, T]] = []
    n, m = len(chosen), len(rejected)
    for diagonal in range(max(n, m)):
        for k in range(min(n, m)):
            i, j = (k, (k + diagonal) % m) if n <= m else ((k + diagonal) % n, k)
            pairs.append((chosen[i], rejected[j]))
            if len(pairs) >= cap:
                return pairs
    return pairs
