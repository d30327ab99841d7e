"""Preference pairs: per problem, correct traces against incorrect ones, capped and deterministic."""

from __future__ import annotations

import math
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
    # pair t is (t mod n, t mod m), shifted by one every lcm(n, m) pairs: the first max(n, m) pairs use
    # every trace of the larger side once and cycle the smaller side evenly; all n * m pairs come out once
    n, m = len(chosen), len(rejected)
    cycle = math.lcm(n, m)
    return [(chosen[t % n], rejected[(t + t // cycle) % m]) for t in range(min(cap, n * m))]
