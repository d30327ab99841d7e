"""Nothing lost: `--out` onto a path a command did not create is one line and exit 2, with every byte left as it was."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from strawberry_dspy.cli import COMMANDS, main
from strawberry_dspy.harvest import harvest
from strawberry_dspy.store import TraceStore
from strawberry_dspy.stage_output import MARKER
from tests.export.store_fixture import build_mixed_store
from tests.harvest.scripted import HarvestLM, gold_of, harvest_config, write_problems
from tests.test_stage_output import snapshot

EXPORT = ["--decontam-limit", "20"]
ROOT = Path(__file__).resolve().parents[2]


def refused(capsys, argv: list[str], root: Path, message: str) -> None:
    """The command exits 2 with one line naming the problem, and nothing under root changed."""
    before = snapshot(root)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
    assert snapshot(root) == before


@pytest.fixture
def runs(tmp_path):
    """A folder of the user's: two run directories and a harvest, as `runs/` is after a while."""
    root = tmp_path / "runs"
    for name in ("zero_shot-a", "cot-b"):
        (root / name).mkdir(parents=True)
        (root / name / "summary.json").write_text('{"accuracy": 0.5}')
        (root / name / "results.jsonl").write_text("{}\n")
    build_mixed_store(root / "harvest")
    return root


@pytest.fixture
def problems(tmp_path):
    return write_problems(tmp_path / "problems.jsonl", 60)


def test_run_refuses_a_folder_of_runs_a_harvest_and_a_file(tmp_path, runs, problems, capsys):
    run = ["run", "programs/zero_shot.yaml", "--benchmark", f"jsonl:{problems}", "--out"]
    refused(capsys, [*run, str(runs)], tmp_path, "holds 3 item(s) that are not a run directory")
    refused(capsys, [*run, str(runs / "harvest")], tmp_path, "not a run directory")
    (tmp_path / "notes.txt").write_text("a user's notes")
    refused(capsys, [*run, str(tmp_path / "notes.txt")], tmp_path, "is a file, not a run directory")


def test_harvest_refuses_a_file_and_a_folder_holding_anything_else(tmp_path, runs, problems, capsys):
    harvest_cmd = ["harvest", "programs/zero_shot.yaml", "--benchmark", f"jsonl:{problems}", "--out"]
    (tmp_path / "notes.txt").write_text("a user's notes")
    refused(capsys, [*harvest_cmd, str(tmp_path / "notes.txt")], tmp_path, "is a file, not a harvest directory")
    refused(capsys, [*harvest_cmd, str(runs)], tmp_path, "not a harvest directory")


def test_export_never_replaces_its_source_a_file_or_another_output(tmp_path, runs, capsys):
    source = runs / "harvest"
    export = ["export", str(source), *EXPORT, "--overwrite", "--out"]
    refused(capsys, [*export, str(source)], tmp_path, "the input of this export: it is never replaced")
    refused(capsys, [*export, str(runs)], tmp_path, "the input of this export")
    (tmp_path / "data.jsonl").write_text('{"prompt": "mine"}\n')
    refused(capsys, [*export, str(tmp_path / "data.jsonl")], tmp_path, "is a file, not a dataset export")
    refused(capsys, [*export, str(runs / "cot-b")], tmp_path, "not a dataset export")


def test_export_replaces_its_own_output_and_nothing_else(tmp_path, runs, capsys):
    source, out = runs / "harvest", tmp_path / "exports" / "data"
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "keep.txt").write_text("beside the export")
    assert main(["export", str(source), *EXPORT, "--out", str(out)]) == 0
    sft = (out / "train.jsonl").read_text()
    store_before, beside = snapshot(source), (tmp_path / "exports" / "keep.txt").read_bytes()
    assert main(["export", str(source), *EXPORT, "--format", "kto", "--overwrite", "--out", str(out)]) == 0
    assert (out / "train.jsonl").read_text() != sft and '"label"' in (out / "train.jsonl").read_text()
    assert sorted(p.name for p in (tmp_path / "exports").iterdir()) == ["data", "keep.txt"]
    assert (tmp_path / "exports" / "keep.txt").read_bytes() == beside and snapshot(source) == store_before
    (out / "my_notes.md").write_text("written into the export by hand")
    capsys.readouterr()
    refused(capsys, ["export", str(source), *EXPORT, "--overwrite", "--out", str(out)], tmp_path,
            "did not write (my_notes.md)")


def test_train_never_replaces_its_data_a_file_or_another_output(tmp_path, runs, capsys):
    pytest.importorskip("trl")
    data = tmp_path / "export"
    assert main(["export", str(runs / "harvest"), *EXPORT, "--format", "dpo", "--out", str(data)]) == 0
    capsys.readouterr()
    train = ["train", "--data", str(data), "--overwrite", "--out"]
    refused(capsys, [*train, str(data)], tmp_path, "the input of this train: it is never replaced")
    (tmp_path / "model.bin").write_bytes(b"\x00weights")
    refused(capsys, [*train, str(tmp_path / "model.bin")], tmp_path, "is a file, not a trained model")
    refused(capsys, [*train, str(runs / "harvest")], tmp_path, "not a trained model")


def harvested(out: Path, problems: Path) -> Path:
    """A real harvest store (the scripted LM answers every question right)."""
    config = harvest_config(problems, limit=2)
    harvest(config, out, samples=1, lm=HarvestLM(gold_of(config), {q: 1 for q in gold_of(config)}), progress=False)
    return out


def test_stats_plot_to_a_bad_path_is_one_line(tmp_path, runs, problems, capsys):
    harvest_dir = harvested(tmp_path / "h", problems)
    assert main(["stats", str(harvest_dir)]) == 0
    assert main(["stats", str(harvest_dir)]) == 0  # its own plot is replaced
    capsys.readouterr()
    (tmp_path / "photo.png").write_bytes(b"\x89PNG a user's picture")
    refused(capsys, ["stats", str(harvest_dir), "--plot", str(tmp_path / "photo.png")], tmp_path,
            "exists and is not a pass-rate plot")
    (tmp_path / "a_file").write_text("x")
    refused(capsys, ["stats", str(harvest_dir), "--plot", str(tmp_path / "a_file" / "plot.png")], tmp_path,
            "cannot write the plot to")
    refused(capsys, ["stats", str(harvest_dir), "--plot", str(runs)], tmp_path, "is a directory")


def test_compile_refuses_a_foreign_file_and_folder(tmp_path, runs, problems, capsys):
    compile_cmd = ["compile", "programs/zero_shot.yaml", "--benchmark", f"jsonl:{problems}", "--dev-limit", "2",
                   "--test-limit", "2", "--out"]
    (tmp_path / "notes.json").write_text('{"mine": true}')
    refused(capsys, [*compile_cmd, str(tmp_path / "notes.json")], tmp_path, "exists and is not a compiled program")
    refused(capsys, [*compile_cmd, str(runs)], tmp_path, "not a compiled program")


def test_bootstrap_refuses_a_folder_holding_anything_else(tmp_path, runs, problems, capsys):
    pytest.importorskip("trl")
    refused(capsys, ["bootstrap", "programs/zero_shot.yaml", "--benchmark", f"jsonl:{problems}", "--limit", "2",
                     "--eval-limit", "2", "--out", str(runs)], tmp_path, "not a bootstrap loop")


def test_fresh_removes_the_store_and_nothing_else(tmp_path, problems):
    out = harvested(tmp_path / "h", problems)
    with TraceStore.open(out) as store:
        assert all(r.correct for r in store.traces())
    (out / "notes.txt").write_text("the user's notes")
    (out / "exports").mkdir()
    (out / "exports" / "keep.jsonl").write_text("{}\n")
    config = harvest_config(problems, limit=2)
    harvest(config, out, samples=1, lm=HarvestLM(gold_of(config), {}), progress=False, fresh=True)
    assert (out / "notes.txt").read_text() == "the user's notes" and (out / "exports" / "keep.jsonl").is_file()
    with TraceStore.open(out) as store:  # the store was started over: this LM answers wrong
        assert store.count() == 2 and not any(r.correct for r in store.traces())
    assert (out / MARKER).is_file()


@pytest.mark.integration
def test_run_replaces_its_own_run_directory_and_nothing_beside_it(tmp_path, capsys):
    from tests.cli.test_cli import BENCHMARK, strawberry

    out = tmp_path / "runs" / "mine"
    (tmp_path / "runs" / "other-run").mkdir(parents=True)
    (tmp_path / "runs" / "other-run" / "summary.json").write_text('{"accuracy": 1.0}')
    argv = ["run", "programs/zero_shot.yaml", "--limit", "1", "--benchmark", BENCHMARK, "--out", str(out)]
    assert strawberry(*argv).returncode == 0
    first = out.stat().st_ino
    other = snapshot(tmp_path / "runs" / "other-run")
    result = strawberry(*argv)
    assert result.returncode == 0, result.stderr
    assert out.stat().st_ino != first and (out / "results.jsonl").read_text().count("\n") == 1  # a new directory
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["mine", "other-run"]
    assert snapshot(tmp_path / "runs" / "other-run") == other
    (out / "notes.txt").write_text("my notes on this run")
    refused(capsys, argv, tmp_path, "did not write (notes.txt)")


def test_compile_to_a_json_path_refuses_a_report_it_did_not_write(tmp_path, problems, capsys):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "report.md").write_text("my own report")
    refused(capsys, ["compile", "programs/zero_shot.yaml", "--benchmark", f"jsonl:{problems}", "--dev-limit", "2",
                     "--test-limit", "2", "--out", str(tmp_path / "mine" / "prog.json")], tmp_path,
            "report.md exists and is not a compile report")


@pytest.mark.parametrize("command", ["run", "harvest", "bootstrap"])
def test_ctrl_c_is_one_line_from_the_command_and_exit_130(command):
    # the command's entry raises KeyboardInterrupt as Ctrl-C would; the dispatcher's one handler answers
    code = (f"import sys\nfrom strawberry_dspy import cli\nfrom strawberry_dspy.cli import {command} as module\n"
            "def interrupted(args):\n    raise KeyboardInterrupt\n"
            f"module.main = interrupted\nsys.exit(cli.main(['{command}', 'programs/zero_shot.yaml']))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 130
    assert result.stderr == COMMANDS[command].INTERRUPTED + "\n"
