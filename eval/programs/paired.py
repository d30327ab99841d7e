"""Paired comparison of two runs on the same problems: solved by both, by one only, exact McNemar p.

    python eval/programs/paired.py A/results.jsonl B/results.jsonl [C/results.jsonl ...]   (each against the first)
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from strawberry_dspy.stats import mcnemar_p


def correct_by_problem(path: str) -> dict[str, bool]:
    return {row["problem_id"]: bool(row["correct"]) for row in map(json.loads, Path(path).open())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("first", help="the reference run's results.jsonl")
    parser.add_argument("others", nargs="+", help="results.jsonl of the runs compared with it")
    args = parser.parse_args()
    first, others = args.first, args.others
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
