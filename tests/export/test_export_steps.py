"""--steps-hold: a right answer reached through a wrong step (an equation of a step that does not hold) is not
trained on; the card counts what was left out, and the bootstrap's rft-checked arm reads such an export."""

import json

from strawberry_dspy.cli import main as cli_main
from strawberry_dspy.export import ExportSettings, export
from tests.export.store_fixture import StoreBuilder, benchmark_problems

FAST = {"decontam_limit": 20, "band": (0.0, 1.0)}


def store(directory):
    b = StoreBuilder()
    p = benchmark_problems("train", 1)[0]
    b.problem(p.id, p.question, p.answer)
    b.add(p.id, ["Step 1: 2 + 2 = 4.", "Step 2: (4 - 1) = 3."], p.answer)  # right answer, steps hold
    b.add(p.id, ["Step 1: 2 + 2 = 5.", "Step 2: I am done."], p.answer)  # right answer through a wrong step
    b.add(p.id, ["Step 1: I think."], p.answer)  # no equation to check: kept
    b.add(p.id, ["Step 1: 2 + 2 = 5."], "999")  # wrong answer: DPO's rejected side either way
    return b.write(directory)


def rows(out):
    return [json.loads(line) for line in next(out.glob("*.jsonl")).read_text().splitlines()]


def test_sft_keeps_only_correct_traces_whose_steps_hold(tmp_path):
    store(tmp_path / "h")
    every = export(tmp_path / "h", ExportSettings(format="sft", **FAST), tmp_path / "all")
    held = export(tmp_path / "h", ExportSettings(format="sft", steps_hold=True, **FAST), tmp_path / "held")
    assert every.rows == 3 and held.rows == 2 and held.counts["steps_wrong"] == 1 and "steps_wrong" not in every.counts
    texts = json.dumps(rows(tmp_path / "held"))
    assert "2 + 2 = 4" in texts and "2 + 2 = 5" not in texts
    assert "1 correct trace(s) whose arithmetic steps" in (tmp_path / "held" / "README.md").read_text()


def test_dpo_chooses_only_traces_whose_steps_hold_and_keeps_the_rejected(tmp_path):
    store(tmp_path / "h")
    held = export(tmp_path / "h", ExportSettings(format="dpo", steps_hold=True, **FAST), tmp_path / "held")
    chosen = [json.dumps(r["chosen"]) for r in rows(tmp_path / "held")]
    assert held.rows == 2 and not any("2 + 2 = 5" in c for c in chosen)
    assert all("999" in json.dumps(r["rejected"]) for r in rows(tmp_path / "held"))


def test_the_flag_on_the_command_line(tmp_path):
    store(tmp_path / "h")
    assert cli_main(["export", str(tmp_path / "h"), "--format", "sft", "--steps-hold", "--band", "0", "1",
                     "--decontam-limit", "20", "--out", str(tmp_path / "out")]) == 0
    assert len(rows(tmp_path / "out")) == 2
