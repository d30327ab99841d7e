"""Recompute every table of this study's report from its committed rows (rows.jsonl.gz) and stage records.

    python eval/bootstrap_power/reproduce.py [--study eval/bootstrap_power] [--out results.md]

Held-out figures come from the per-trace rows alone: accuracy is the mean per-problem pass rate over the
samples, with a 95% t-interval over problems; each arm is compared with its round's starting model on the same
problems and seeds by the paired difference of pass rates (95% interval, sign-flip permutation p, and the
smallest difference the comparison detects with 80% power).
"""

from __future__ import annotations

import argparse
import gzip
import json
from collections import defaultdict
from pathlib import Path

from strawberry_dspy.report import format_grid
from strawberry_dspy.stats import accuracy, paired, pass_rates


# a second bootstrap of the same design whose harvest used another program: its files are NAME_rows.jsonl.gz
OTHER_HARVESTS = {"cot": "chain-of-thought"}


def load(study: Path, name: str = "") -> tuple[list[dict], dict]:
    """The rows and stage records of the study's bootstrap (or of the one called `name`)."""
    prefix = f"{name}_" if name else ""
    with gzip.open(study / f"{prefix}rows.jsonl.gz", "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return rows, json.loads((study / f"{prefix}stages.json").read_text())


def _group(rows: list[dict]) -> dict[tuple[int, str, str], list[dict]]:
    groups: dict[tuple[int, str, str], list[dict]] = defaultdict(list)
    for row in rows:
        groups[(row["round"], row["arm"], row["split"])].append(row)
    return groups


def _acc(rows: list[dict]):
    rates, counts = pass_rates(rows)
    return accuracy(list(rates.values()), [counts[p] for p in rates]), rates


def heldout_table(rows: list[dict], stages: dict) -> str:
    """Per round and arm: held-out accuracy before / after, the paired difference, dev accuracy."""
    groups, body = _group(rows), []
    rounds = sorted({r for r, _, _ in groups})
    for number in rounds:
        base = groups.get((number, "base", "test"))
        if base is None and number > 1:  # a later round's start was the previous round's winner, evaluated there
            winner = stages.get(f"{number - 1}/advance", {}).get("arm")
            base = groups.get((number - 1, winner, "test"))
        if not base:
            continue
        before, before_rates = _acc(base)
        body.append([str(number), "base (start of round)", before.cell(), "-", "-",
                     _dev(groups.get((number, "base", "dev")))])
        arms = [a for (r, a, s) in groups if r == number and s == "test" and a != "base"]
        for arm in dict.fromkeys(arms):
            after, after_rates = _acc(groups[(number, arm, "test")])
            diff = paired(before_rates, after_rates)
            body.append([str(number), arm, after.cell(), diff.cell(), f"{diff.only_b} / {diff.only_a}",
                         _dev(groups.get((number, arm, "dev")))])
    return format_grid(["round", "arm", "held-out accuracy (95% CI)", "minus start of round (95% CI), p, detectable",
                        "problems better / worse", "dev accuracy"], body)


def arms_table(rows: list[dict]) -> str:
    """Every two arms of a round against each other on the same held-out problems and seeds (later minus earlier), and
    each later round's arms against the base model the loop began with."""
    groups, body = _group(rows), []
    for number in sorted({r for r, _, _ in groups}):
        arms = list(dict.fromkeys(a for (r, a, s) in groups if r == number and s == "test" and a != "base"))
        rates = {arm: _acc(groups[(number, arm, "test")])[1] for arm in arms}
        for i, first in enumerate(arms):
            for second in arms[i + 1:]:
                diff = paired(rates[first], rates[second])
                body.append([str(number), f"{second} minus {first}", diff.cell(), f"{diff.only_b} / {diff.only_a}"])
        if number > 1 and (1, "base", "test") in groups:  # every round so far, against the model the loop began with
            start = _acc(groups[(1, "base", "test")])[1]
            for arm in arms:
                diff = paired(start, rates[arm])
                body.append([str(number), f"{arm} minus round 1's base", diff.cell(), f"{diff.only_b} / {diff.only_a}"])
    return format_grid(["round", "arms", "difference (95% CI), p, detectable", "problems better / worse"], body)


def _dev(rows: list[dict] | None) -> str:
    return _acc(rows)[0].cell() if rows else "-"


def harvest_table(rows: list[dict], stages: dict) -> str:
    """Per round: the harvest's traces, correct ones, steps that check out, rows made, yield per CPU-second."""
    body = []
    for (number, arm, split), group in sorted(_group(rows).items()):
        if arm != "harvest":
            continue
        correct = [r for r in group if r["correct"]]
        checked = [r for r in correct if r.get("steps_check") is not None]
        holds = sum(bool(r["steps_check"]) for r in checked)
        harvest = stages.get(f"{number}/harvest", {})
        cpu = harvest.get("cpu_s") or 0.0
        exports = {k.split("/", 1)[1]: v for k, v in stages.items() if k.startswith(f"{number}/export-")}
        made = ", ".join(f"{v.get('rows', 0)} {name[7:]}" for name, v in sorted(exports.items())) or "-"
        pairs = exports.get("export-dpo", {}).get("pairs", 0)
        rates, _ = pass_rates(group)
        in_band = sum(0.1 <= rate <= 0.9 for rate in rates.values())
        body.append([str(number), f"{len(rates)} x {len(group) // max(len(rates), 1)}", f"{len(correct)}",
                     f"{in_band}/{len(rates)}", f"{holds}/{len(checked)} ({holds / len(checked):.0%})" if checked else "- (no step turns)",
                     made, f"{len(correct) / cpu:.3f}" if cpu else "-", f"{pairs / cpu:.3f}" if cpu else "-"])
    return format_grid(["round", "problems x samples", "correct traces", "in band [0.1, 0.9]",
                        "correct traces whose steps check out", "export rows", "correct traces / CPU-s",
                        "DPO pairs / CPU-s"], body)


def time_table(stages: dict) -> str:
    """Wall and CPU time of every finished stage, and how often it read the test split."""
    body = [[key, f"{m.get('wall_s', 0) / 60:.1f}", f"{m.get('cpu_s', 0) / 60:.1f}", str(m.get("test_reads", 0))]
            for key, m in stages.items()]
    total_wall = sum(m.get("wall_s", 0) for m in stages.values()) / 60
    total_cpu = sum(m.get("cpu_s", 0) for m in stages.values()) / 60
    reads = sum(m.get("test_reads", 0) for m in stages.values())
    body.append(["total", f"{total_wall:.1f}", f"{total_cpu:.1f}", str(reads)])
    return format_grid(["round/stage", "wall min", "CPU min", "test reads"], body)


def trivial_lines(stages: dict) -> list[str]:
    """The trivial baselines recorded with each round's held-out evaluation."""
    lines = []
    for key, marker in stages.items():
        if key.endswith("/baseline") and marker.get("trivial"):
            lines.append(f"- round {key.split('/')[0]}: " + ", ".join(f"{name}: {value:.1%}"
                                                                      for name, value in marker["trivial"].items()))
    return lines


def family_table(study: Path) -> list[str]:
    """The shipped programs on the task family nothing was tuned on, each against chain-of-thought (if collected)."""
    path = study / "family_rows.jsonl.gz"
    if not path.is_file():
        return []
    with gzip.open(path, "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    by_program: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_program[row["arm"]].append(row)
    reference = "cot" if "cot" in by_program else next(iter(by_program))
    ref_rates = pass_rates(by_program[reference])[0]
    body = []
    for program, group in by_program.items():
        acc, rates = _acc(group)
        body.append([program, acc.cell(), "reference" if program == reference else paired(ref_rates, rates).cell()])
    return ["## A task family nothing was tuned on", "", "```",
            format_grid(["program", "held-out accuracy (95% CI)", f"minus {reference} (95% CI), p, detectable"], body),
            "```", ""]


def harvest_comparison(rows: list[dict], other: list[dict], name: str) -> str:
    """Round 1 end to end: each arm of the strawberry-harvested loop against the same arm of the loop harvested
    (and evaluated) with program `name`, paired on the held-out problems both evaluated."""
    mine, theirs, body = _group(rows), _group(other), []
    for arm in dict.fromkeys(a for (r, a, s) in mine if r == 1 and s == "test"):
        if (1, arm, "test") not in theirs:
            continue
        (acc_a, rates_a), (acc_b, rates_b) = _acc(theirs[(1, arm, "test")]), _acc(mine[(1, arm, "test")])
        body.append([arm, acc_b.cell(), acc_a.cell(), paired(rates_a, rates_b).cell()])
    return format_grid(["arm", "strawberry loop", f"{name} loop", f"strawberry minus {name} (95% CI), p, detectable"],
                       body)


def sections(rows: list[dict], stages: dict, title: str) -> list[str]:
    """The held-out, trivial-baseline, harvest and stage-time tables of one bootstrap."""
    between = arms_table(rows)
    return [f"## Held-out accuracy per round and arm{title}", "", "```", heldout_table(rows, stages), "```", "",
            *(["Arms against each other:", "", "```", between, "```", ""] if len(between.splitlines()) > 2 else []),
            "Trivial baselines on the same held-out problems:", *trivial_lines(stages), "",
            f"## Harvests{title}", "", "```", harvest_table(rows, stages), "```", "",
            f"## Stage times{title}", "", "```", time_table(stages), "```", ""]


def report(study: Path) -> str:
    """The study's tables as markdown."""
    rows, record = load(study)
    parts = sections(rows, record["stages"], "") + family_table(study)
    for name, label in OTHER_HARVESTS.items():
        if (study / f"{name}_rows.jsonl.gz").is_file():
            other, other_record = load(study, name)
            parts += sections(other, other_record["stages"], f" (harvested and evaluated with {label})")
            parts += [f"## The strawberry loop against the {label} loop (round 1, same held-out problems and seeds)",
                      "", "```", harvest_comparison(rows, other, name), "```", ""]
    return "\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", type=Path, default=Path(__file__).parent)
    parser.add_argument("--out", type=Path, help="write the tables here (default: print them)")
    args = parser.parse_args()
    text = report(args.study)
    if args.out:
        args.out.write_text(text)
    else:
        print(text)


if __name__ == "__main__":
    main()
