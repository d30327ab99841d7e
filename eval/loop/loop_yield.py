"""What a harvest yields for DPO, per program: problems in the band and pairs per 1 000 generated tokens.

    python eval/loop/loop_yield.py NAME=HARVEST_DIR [NAME=HARVEST_DIR ...] --out eval/loop/results/loop_yield.json

Each HARVEST_DIR is a `strawberry harvest` directory. Pairs are what `strawberry export --format dpo`
(default band and --max-pairs) writes; tokens are the harvest's generated (completion) tokens.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from strawberry_dspy.errors import UserError
from strawberry_dspy.export import ExportSettings, export
from strawberry_dspy.harvest.stats import harvest_stats
from strawberry_dspy.report import format_grid
from strawberry_dspy.store import TraceStore


def harvest_yield(directory: str) -> dict:
    """Problems, traces, pass rate, problems in band, DPO pairs and pairs per 1k generated tokens of one harvest."""
    with TraceStore.open(directory, readonly=True) as store:
        s = harvest_stats(store)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            pairs = export(directory, ExportSettings(format="dpo"), Path(tmp) / "dpo").rows
        except UserError:  # no problem in the band: no pairs
            pairs = 0
    return {"problems": len(s.rates), "traces": s.traces, "correct": s.correct, "in_band": len(s.in_band),
            "pairs": pairs, "completion_tokens": s.completion_tokens,
            "pairs_per_1k_tokens": 1000 * pairs / s.completion_tokens if s.completion_tokens else 0.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("harvests", nargs="+", help="NAME=HARVEST_DIR")
    parser.add_argument("--out", default="eval/loop/results/loop_yield.json")
    args = parser.parse_args()
    results = {name: harvest_yield(path) for name, path in (h.split("=", 1) for h in args.harvests)}
    Path(args.out).write_text(json.dumps(results, indent=2))
    rows = [[name, str(r["problems"]), str(r["traces"]), f"{r['correct'] / r['traces']:.1%}" if r["traces"] else "-",
             str(r["in_band"]), str(r["pairs"]), str(r["completion_tokens"]), f"{r['pairs_per_1k_tokens']:.2f}"]
            for name, r in results.items()]
    print("python " + " ".join(sys.argv))
    print(format_grid(["program", "problems", "traces", "pass rate", "in band", "DPO pairs", "gen tokens",
                       "pairs / 1k tok"], rows))


if __name__ == "__main__":
    main()
