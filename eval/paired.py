"""Paired comparison of two runs on the same problems: solved by both, by one only, exact McNemar p.

    python eval/paired.py A/results.jsonl B/results.jsonl [C/results.jsonl ...]   (each against the first)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from strawberry_dspy.stats import mcnemar_p


def correct_by_problem(path: str) -> dict[str, bool]:
    return {row["problem_id"]: bool(row["correct"]) for row in map(json.loads, Path(path).open())}


def main() -> None:
    first, *others = sys.argv[1:]
    a = correct_by_problem(first)
    for other in others:
        b = correct_by_problem(other)
        shared = sorted(set(a) & set(b))
        both = sum(a[p] and b[p] for p in shared)
        only_a = sum(a[p] and not b[p] for p in shared)
        only_b = sum(b[p] and not a[p] for p in shared)
        print(f"{other} vs {first}: {len(shared)} problems, both {both}, only first {only_a}, only second {only_b}, "
              f"McNemar p = {mcnemar_p(only_a, only_b):.2f}")


if __name__ == "__main__":
    main()
