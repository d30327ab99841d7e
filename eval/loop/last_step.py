"""Diagnose a run: how often the last step's own "= N" is right, and how often the final answer repeats it.

    python eval/loop/last_step.py RUN_DIR/results.jsonl [...]

A diagnostic for eval/loop/report.md, never a score: it reads the number after the last "=" of the last step.
"""

from __future__ import annotations

import argparse
import json
import re


def last_result(trace: dict) -> str | None:
    """The number after the last '=' of the trace's last step (None when it has none)."""
    steps = [t["content"] for t in trace["turns"] if t["kind"] == "step"]
    found = re.findall(r"=\s*(-?\d+)", steps[-1] if steps else "")
    return found[-1] if found else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", nargs="+", help="a run directory's results.jsonl")
    for path in parser.parse_args().results:
        rows = [json.loads(line) for line in open(path)]
        results = [last_result(r["trace"]) for r in rows]
        right = sum(n is not None and n == str(r["gold"]).strip() for n, r in zip(results, rows))
        repeated = sum(n is not None and n == str(r["answer"]).strip() for n, r in zip(results, rows))
        print(f"{path}: {len(rows)} problems, correct {sum(r['correct'] for r in rows)}, "
              f"last step's '= N' right {right}, final answer repeats it {repeated}")


if __name__ == "__main__":
    main()
