"""eval/bootstrap_power/reproduce.py recomputes the study's tables from committed rows (here a small fixture)."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "eval" / "bootstrap_power" / "reproduce.py"


def _fixture(study: Path) -> None:
    rows = []
    for i in range(40):  # 40 held-out problems x 2 samples: base solves 10, rft 20 (the first 20), dpo the same as base
        for sample in range(2):
            rows.append({"arm": "base", "round": 1, "problem_id": f"p{i}", "split": "test", "sample": sample,
                         "correct": i < 10})
            rows.append({"arm": "rft", "round": 1, "problem_id": f"p{i}", "split": "test", "sample": sample,
                         "correct": i < 20})
            rows.append({"arm": "dpo", "round": 1, "problem_id": f"p{i}", "split": "test", "sample": sample,
                         "correct": i < 10})
    rows += [{"arm": "rft", "round": 1, "problem_id": f"d{i}", "split": "dev", "sample": 0, "correct": i < 3}
             for i in range(10)]
    rows += [{"arm": "harvest", "round": 1, "problem_id": f"t{i}", "split": "train", "sample": s, "correct": s == 0,
              "steps_check": i % 2 == 0} for i in range(8) for s in range(4)]
    with gzip.open(study / "rows.jsonl.gz", "wt") as f:
        f.write("".join(json.dumps(r) + "\n" for r in rows))
    stages = {"1/baseline": {"wall_s": 60, "cpu_s": 120, "test_reads": 1, "trivial": {"always '-1'": 0.05}},
              "1/harvest": {"wall_s": 100, "cpu_s": 200, "test_reads": 0},
              "1/export-dpo": {"rows": 12, "pairs": 12, "wall_s": 1, "cpu_s": 1},
              "1/eval-rft": {"wall_s": 60, "cpu_s": 120, "test_reads": 1},
              "1/eval-dpo": {"wall_s": 60, "cpu_s": 120, "test_reads": 1},
              "1/advance": {"arm": "rft"}}
    (study / "stages.json").write_text(json.dumps({"bootstrap": {}, "stages": stages}))


def test_reproduce_recomputes_the_tables_from_rows(tmp_path):
    _fixture(tmp_path)
    out = tmp_path / "results.md"
    done = subprocess.run([sys.executable, str(SCRIPT), "--study", str(tmp_path), "--out", str(out)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    assert "25.0% [11.0%, 39.0%] (n=40 x 2)" in text  # base: 10 of 40 problems, both samples
    assert "50.0% [33.8%, 66.2%] (n=40 x 2)" in text  # rft
    assert "+25.0 pts [+11.0, +39.0], p=0.00195" in text and "10 / 0" in text  # rft gains 10 problems (p = 2/2^10)
    assert "+0.0 pts: the same pass rate on all 40 problems" in text  # dpo: the same answers as base
    assert "30.0% [10.8%, 60.3%] (n=10)" in text  # rft's dev accuracy (one sample: Wilson)
    assert "always '-1': 5.0%" in text
    assert "4/8 (50%)" in text and "0.040" in text and "0.060" in text  # steps that check out; yield per CPU-second
    assert "total         4.7       9.3      3" in text  # wall and CPU minutes, and three reads of the test split


def test_a_second_harvest_program_gets_its_own_tables_and_a_paired_comparison(tmp_path):
    _fixture(tmp_path)
    rows = [{"arm": arm, "round": 1, "problem_id": f"p{i}", "split": "test", "sample": sample, "correct": i < 5}
            for arm in ("base", "rft") for i in range(40) for sample in range(2)]  # the cot loop: 5 of 40 either way
    with gzip.open(tmp_path / "cot_rows.jsonl.gz", "wt") as f:
        f.write("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "cot_stages.json").write_text(json.dumps({"bootstrap": {}, "stages": {
        "1/baseline": {"wall_s": 30, "cpu_s": 60, "test_reads": 1}}}))
    done = subprocess.run([sys.executable, str(SCRIPT), "--study", str(tmp_path)], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert "## Held-out accuracy per round and arm (harvested and evaluated with chain-of-thought)" in text
    assert "12.5% [1.8%, 23.2%] (n=40 x 2)" in text  # the cot loop's base and rft
    comparison = text.split("## The strawberry loop against the chain-of-thought loop")[1]
    assert "+12.5 pts [+1.8, +23.2]" in comparison.split("\nbase")[1].splitlines()[0]  # 25 % vs 12.5 %: 5 problems
    assert "+37.5 pts" in comparison.split("\nrft")[1].splitlines()[0]  # 50 % vs 12.5 %
    assert "dpo minus rft" in text or "rft minus dpo" in text  # the arms against each other
