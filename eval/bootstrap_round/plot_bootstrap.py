"""Plot bootstrap rounds side by side: held-out accuracy before / after (95% Wilson intervals), and the
harvest's DPO pairs per 1 000 generated tokens, one group per program.

    python eval/bootstrap_round/plot_bootstrap.py strawberry=runs/bootstrap-strawberry cot=17/100:23/100:56:21495 \
        --out eval/bootstrap_round/bootstrap_programs.png

NAME=DIR reads round 1 of a `strawberry bootstrap` output directory; NAME=B/N:A/N:PAIRS:TOKENS gives a round
recorded before its directory was kept (before correct/problems, after correct/problems, DPO pairs,
harvest completion tokens), e.g. the CoT round of eval/bootstrap_round/report.md.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from strawberry_dspy.stats import wilson  # noqa: E402


def read_round(spec: str) -> dict:
    """{before: (correct, n), after: (correct, n), pairs, tokens} of a bootstrap directory or a recorded round."""
    if Path(spec).is_dir():
        stage = {s: json.loads((Path(spec) / "round-1" / s / "done.json").read_text())
                 for s in ("baseline", "harvest", "export", "eval")}
        return {"before": (stage["baseline"]["correct"], stage["baseline"]["problems"]),
                "after": (stage["eval"]["correct"], stage["eval"]["problems"]),
                "pairs": stage["export"]["pairs"], "tokens": stage["harvest"]["completion_tokens"]}
    before, after, pairs, tokens = spec.split(":")
    (bc, bn), (ac, an) = (tuple(int(x) for x in part.split("/")) for part in (before, after))
    return {"before": (bc, bn), "after": (ac, an), "pairs": int(pairs), "tokens": int(tokens)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("rounds", nargs="+", help="NAME=DIR or NAME=B/N:A/N:PAIRS:TOKENS")
    parser.add_argument("--out", default="eval/bootstrap_round/bootstrap_programs.png")
    args = parser.parse_args()
    rounds = {name: read_round(spec) for name, spec in (r.split("=", 1) for r in args.rounds)}
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5), gridspec_kw={"width_ratios": [3, 2]})
    names = list(rounds)
    for offset, key, label, colour in ((-0.12, "before", "before (starting model)", "#8c8c8c"),
                                       (0.12, "after", "after one DPO round", "#d62728")):
        xs, ys, errs = [], [], [[], []]
        for i, name in enumerate(names):
            correct, n = rounds[name][key]
            lo, hi = wilson(correct, n)
            xs.append(i + offset)
            ys.append(100 * correct / n)
            errs[0].append(100 * (correct / n - lo))
            errs[1].append(100 * (hi - correct / n))
        left.errorbar(xs, ys, yerr=errs, fmt="o", capsize=5, color=colour, label=label)
        for x, y, name in zip(xs, ys, names):
            left.annotate(f"{rounds[name][key][0]}/{rounds[name][key][1]}", (x, y), textcoords="offset points",
                          xytext=(8 if offset > 0 else -30, 0), fontsize=8)
    left.set_xticks(range(len(names)), [f"harvested with\n{n}" for n in names])
    left.set_xlim(-0.6, len(names) - 0.4)
    left.set_ylabel("held-out accuracy, % (95% Wilson interval)")
    left.legend(fontsize=8, frameon=False)
    left.set_title("test split, same problems and seeds", fontsize=10)
    rates = [1000 * rounds[n]["pairs"] / rounds[n]["tokens"] if rounds[n]["tokens"] else 0.0 for n in names]
    right.bar(range(len(names)), rates, color="tab:orange")
    right.set_xticks(range(len(names)), [f"{n}\n{rounds[n]['pairs']} pairs / {rounds[n]['tokens']} tok" for n in names],
                     fontsize=8)
    right.set_ylabel("DPO pairs per 1 000 harvest tokens")
    right.set_title("the round's harvest (32 train problems x 8)", fontsize=10)
    fig.suptitle("one bootstrap round, SmolLM2-135M, basic arithmetic (2 one-digit terms)")
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
