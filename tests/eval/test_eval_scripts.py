"""Every eval script runs: `--help` for each, and a tiny run of those a tiny size makes sense for, chained in one
scratch folder against a loopback OpenAI-compatible server (the results they write go there, never to eval/)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from strawberry_dspy.cli import main as strawberry
from strawberry_dspy.testing.loopback_openai import LoopbackOpenAI

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = sorted((ROOT / "eval").glob("*/*.py"))
SHELL_SCRIPTS = sorted((ROOT / "eval").glob("*/*.sh"))
pytestmark = pytest.mark.slow


def script(path: str, *args: str, timeout: float = 300) -> str:
    """Run an eval script as its README says, from the repository's root: `python eval/STUDY/SCRIPT.py ...`, or
    `python -m eval.STUDY.SCRIPT ...` for one that reads the tests' own cases (the root's packages on its path)."""
    file = ROOT / "eval" / path
    command = ["-m", ".".join(file.relative_to(ROOT).with_suffix("").parts)] if "from tests." in file.read_text() \
        else [str(file)]
    result = subprocess.run([sys.executable, *command, *args], cwd=ROOT, capture_output=True, text=True,
                            timeout=timeout)
    assert result.returncode == 0, f"eval/{path} {' '.join(args)}: {result.stderr[-3000:]}"
    return result.stdout


def test_every_study_has_a_readme_with_its_question_command_result_and_date():
    studies = [d for d in (ROOT / "eval").iterdir() if d.is_dir() and d.name != "bootstrap_power"]
    assert len(studies) >= 10 and not (ROOT / "eval" / "results").exists()
    for study in studies:
        text = (study / "README.md").read_text()
        for field in ("**Question:**", "**Command:**", "**Result:**", "**Date:**"):
            assert field in text, f"eval/{study.name}/README.md lacks {field}"
    assert not list((ROOT / "eval").glob("*.yaml")) and not list((ROOT / "eval").glob("*/*.yaml")), \
        "recipe variants are --key=value overrides, not copied YAML files"


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_script_answers_help(path):
    assert "usage:" in script(str(path.relative_to(ROOT / "eval")), "--help", timeout=120)


@pytest.mark.parametrize("path", SHELL_SCRIPTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_shell_script_parses(path):
    result = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_tiny_runs_of_the_scripts_chain(tmp_path, monkeypatch):
    problems = tmp_path / "problems.jsonl"
    problems.write_text("".join(json.dumps({"question": f"What is {i} + 2?", "answer": str(i + 2)}) + "\n"
                                for i in range(30)))
    with LoopbackOpenAI(lambda body: f"<final_answer>{len(json.dumps(body)) % 3 + 2}</final_answer>") as server:
        script("programs/compare_programs.py", f"cot=cot --api_base={server.url}",
               f"zs=programs/zero_shot.yaml --api_base={server.url}", "--model", "openai/loopback", "--benchmark",
               f"jsonl:{problems}", "--split", "train", "--limit", "3", "--keep", str(tmp_path / "runs"),
               "--out", str(tmp_path / "compare.md"))
        accuracy = json.loads((tmp_path / "compare.json").read_text())
        assert set(accuracy) == {"cot", "zs"} and accuracy["cot"]["problems"] == 3
        runs = [str(tmp_path / "runs" / f"run{i}" / "results.jsonl") for i in (0, 1)]
        assert "McNemar p" in script("programs/paired.py", *runs)
        assert "last step's '= N' right" in script("loop/last_step.py", runs[0])
        monkeypatch.chdir(tmp_path)
        assert strawberry(["harvest", "cot", "--model", "openai/loopback", "--api-base", server.url, "--benchmark",
                           f"jsonl:{problems}", "--limit", "3", "--samples", "2", "--no-progress",
                           "--out", "harvest"]) == 0
    script("loop/loop_yield.py", f"cot={tmp_path / 'harvest'}", "--out", str(tmp_path / "yield.json"))
    script("loop/plot_loop.py", "--accuracy", str(tmp_path / "compare.json"), "--yield", str(tmp_path / "yield.json"),
           "--out", str(tmp_path / "loop.png"))
    script("bootstrap_round/plot_bootstrap.py", "cot=17/100:23/100:56:21495", "--out", str(tmp_path / "b.png"))
    script("throughput/synthetic_store.py", str(tmp_path / "synthetic"), "--traces", "40")
    assert (tmp_path / "loop.png").stat().st_size and (tmp_path / "b.png").stat().st_size
    assert (tmp_path / "synthetic" / "traces.sqlite").is_file()


def test_the_scoring_study_recomputes_its_report(tmp_path):
    out = tmp_path / "scoring.md"
    script("scoring/scoring_eval.py", "--out", str(out))
    assert "no scorer" in out.read_text().lower() or "precision" in out.read_text().lower()


def test_the_lm_overhead_benchmark_runs_tiny(tmp_path):
    script("lm_overhead/lm_overhead.py", "--traces", "1", "--rounds", "1", "--out", str(tmp_path / "lm.md"))
    assert "per call" in (tmp_path / "lm.md").read_text()
