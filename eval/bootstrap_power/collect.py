"""Collect a bootstrap run's per-problem rows and stage records into this study's committed files.

    python eval/bootstrap_power/collect.py OUT [--study eval/bootstrap_power] [--name cot]
    python eval/bootstrap_power/collect.py --family WORD_OUT/zero_shot WORD_OUT/cot WORD_OUT/strawberry

writes STUDY/rows.jsonl.gz — one JSON line per trace: arm, round, problem_id, split (test for held-out, dev,
train for the harvest), sample, correct, and for harvest traces steps_check (True / False / None: whether
every arithmetic equation its steps write holds) — and STUDY/stages.json (each stage's marker: wall and CPU
seconds, rows, pairs, test reads). reproduce.py recomputes every table from these two files alone.
`--name cot` writes a second bootstrap of the same design (the round harvested with chain-of-thought) to
STUDY/cot_rows.jsonl.gz and STUDY/cot_stages.json instead.
"""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path

from strawberry_dspy.scoring.steps import check_text
from strawberry_dspy.stage_output import DONE_MARKER as MARKER
from strawberry_dspy.store import TraceStore


def eval_rows(run_dir: Path, arm: str, round_number: int) -> list[dict]:
    """One row per trace of an evaluation run directory."""
    rows = []
    for line in (run_dir / "results.jsonl").read_text().splitlines():
        if line.strip():
            r = json.loads(line)
            split = r.get("trace", {}).get("split") or None
            rows.append({"arm": arm, "round": round_number, "problem_id": r["problem_id"], "split": split,
                         "sample": r.get("sample", 0), "correct": bool(r["correct"])})
    return rows


def harvest_rows(store_dir: Path, round_number: int) -> list[dict]:
    """One row per finished harvest trace, with whether its steps' equations check out."""
    rows = []
    with TraceStore.open(store_dir, readonly=True) as store:
        for trace in store.traces(include_failed=False):
            steps = [t for t in store.turns(trace.id) if t.role == "assistant" and t.kind == "step"]
            check = sum((check_text(t.content) for t in steps), start=check_text(""))
            rows.append({"arm": "harvest", "round": round_number, "problem_id": trace.problem_id, "split": "train",
                         "sample": trace.sample, "correct": bool(trace.correct), "steps_check": check.holds})
    return rows


def collect(out: Path) -> tuple[list[dict], dict]:
    """Every finished stage's rows and markers under a bootstrap directory."""
    rows, stages = [], {}
    for round_dir in sorted(out.glob("round-*"), key=lambda p: int(p.name.split("-")[1])):
        number = int(round_dir.name.split("-")[1])
        for stage_dir in sorted(p for p in round_dir.iterdir() if (p / MARKER).is_file()):
            marker = json.loads((stage_dir / MARKER).read_text())
            stages[f"{number}/{stage_dir.name}"] = marker
            name = stage_dir.name
            if name == "baseline" and not marker.get("reused"):
                rows += [{**r, "split": "test"} for r in eval_rows(Path(marker["run"]), "base", number)]
            elif name.startswith(("eval-", "dev-")) and not marker.get("reused"):
                kind, arm = name.split("-", 1)
                split = "test" if kind == "eval" else "dev"
                rows += [{**r, "split": split} for r in eval_rows(Path(marker["run"]), arm, number)]
            elif name == "harvest":
                rows += harvest_rows(Path(marker["dir"]), number)
    return rows, stages


def write_rows(path: Path, rows: list[dict]) -> None:
    with gzip.open(path, "wt", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, nargs="?", help="the bootstrap directory")
    parser.add_argument("--study", type=Path, default=Path(__file__).parent)
    parser.add_argument("--name", default="", choices=("", "cot"),
                        help="the second bootstrap's name (cot: the CoT-harvested round), read by reproduce.py")
    parser.add_argument("--family", type=Path, nargs="+", metavar="RUN",
                        help="run directories of word_family.sh instead: rows into STUDY/family_rows.jsonl.gz")
    args = parser.parse_args()
    if args.family:
        rows = []
        for run in args.family:
            summary = json.loads((run / "summary.json").read_text())
            rows += [{**r, "arm": run.name, "split": summary.get("split", "test")} for r in eval_rows(run, run.name, 0)]
        write_rows(args.study / "family_rows.jsonl.gz", rows)
        print(f"{len(rows)} rows of {len(args.family)} runs -> {args.study / 'family_rows.jsonl.gz'}")
        return
    rows, stages = collect(args.out)
    prefix = f"{args.name}_" if args.name else ""
    write_rows(args.study / f"{prefix}rows.jsonl.gz", rows)
    identity = json.loads((args.out / "bootstrap.json").read_text())
    text = json.dumps({"bootstrap": identity, "stages": stages}, indent=1, default=str)
    # the records name files of this machine: written relative to the bootstrap directory and the home folder
    text = text.replace(str(args.out.resolve()), "OUT").replace(str(Path.home()), "~")
    (args.study / f"{prefix}stages.json").write_text(text)
    print(f"{len(rows)} rows, {len(stages)} finished stages -> {args.study}")


if __name__ == "__main__":
    main()
