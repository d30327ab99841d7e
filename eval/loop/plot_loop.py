"""Plot the loop experiment: held-out accuracy with 95% Wilson intervals, and DPO pairs per 1 000 generated tokens.

    python eval/loop/plot_loop.py --accuracy eval/loop/results/loop_programs.json eval/loop/results/loop_compiled.json \
        --yield eval/loop/results/loop_yield.json --out eval/loop/loop.png

The accuracy files are compare_programs.py's summaries (program name -> run summary); the yield file is
loop_yield.py's output (program name -> harvest yield).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from strawberry_dspy.stats import wilson  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accuracy", nargs="+", required=True)
    parser.add_argument("--yield", dest="yields", required=True)
    parser.add_argument("--out", default="eval/loop/loop.png")
    parser.add_argument("--label", nargs="*", default=[], help="NAME=LABEL: show a program under another name")
    args = parser.parse_args()
    labels = dict(pair.split("=", 1) for pair in args.label)
    summaries: dict = {}
    for path in args.accuracy:
        for name, summary in json.loads(Path(path).read_text()).items():
            name = labels.get(name, name.rsplit(".", 1)[0])
            while name in summaries:  # the same program drawn again
                name += " again"
            summaries[name] = summary
    yields = {labels.get(name, name): y for name, y in json.loads(Path(args.yields).read_text()).items()}
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5))
    names = list(summaries)
    acc = [summaries[n]["correct"] / summaries[n]["problems"] for n in names]
    bounds = [wilson(summaries[n]["correct"], summaries[n]["problems"]) for n in names]
    errors = [[a - lo for a, (lo, _) in zip(acc, bounds)], [hi - a for a, (_, hi) in zip(acc, bounds)]]
    left.bar(range(len(names)), [100 * a for a in acc], yerr=[[100 * e for e in row] for row in errors], capsize=6,
             color="tab:blue")
    left.set_xticks(range(len(names)), [f"{n}\n{summaries[n]['correct']}/{summaries[n]['problems']}" for n in names],
                    fontsize=8, rotation=35, ha="right")
    left.set_ylabel("held-out accuracy, % (95% Wilson interval)")
    left.set_title("test split")
    ynames = list(yields)
    right.bar(range(len(ynames)), [yields[n]["pairs_per_1k_tokens"] for n in ynames], color="tab:orange")
    right.set_xticks(range(len(ynames)), [f"{n}\n{yields[n]['pairs']} pairs, {yields[n]['in_band']} in band"
                                          for n in ynames], fontsize=8, rotation=35, ha="right")
    right.set_ylabel("DPO pairs per 1 000 generated tokens")
    right.set_title("train-split harvest")
    fig.suptitle("SmolLM2-135M, basic arithmetic (2 one-digit terms)")
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
