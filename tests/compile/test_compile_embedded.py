"""Compile on the real embedded model (tiny budgets): it completes, and its output runs and reproduces its score."""

import json
from pathlib import Path

import pytest

from strawberry_dspy.compile import CompileSettings, compile_program
from strawberry_dspy.compile.space import STRAWBERRY_DEFAULTS
from strawberry_dspy.config import load_config
from strawberry_dspy.program.adapter import MAX_DEMOS
from strawberry_dspy.program_file import load_program_file
from strawberry_dspy.run import run

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
RECIPE = ROOT / "programs" / "strawberry.yaml"
BENCHMARK = "reasoning_gym:basic_arithmetic?min_terms=2&max_terms=2&max_digits=1"
# Short traces for 2 CPU cores; greedy and one trace at a time, because llama.cpp's sampling is
# only bit-for-bit repeatable when batch composition does not change the logits.
SHORT = {"benchmark": BENCHMARK, "strawberry": {"max_turns": 4}, "concurrency": 1, "temperature": 0.0}


def test_tiny_search_completes_and_run_reproduces_its_test_score(tmp_path):
    space = {**{name: None for name in STRAWBERRY_DEFAULTS}, "check_every": [2, 3]}  # the recipe checks every 2
    config = load_config(RECIPE, {**SHORT, "search": space})
    options = CompileSettings(optimizer="search", budget=1, dev_limit=2, test_limit=2, out=tmp_path / "compiled")
    compiled, meta = compile_program(RECIPE, config, options, progress=False)
    assert set(p.name for p in compiled.parent.iterdir()) >= {"compiled.json", "report.md", "study.sqlite", "compile.log"}
    assert meta["study"]["trials"] == 2 and meta["lm_calls"]["total"] > 0
    after = meta["scores"]["after"]["test"]

    settings, program = load_program_file(compiled)
    assert settings.split == "test" and settings.limit == 2
    assert settings.strawberry.check_every == meta["knobs"]["check_every"][1]
    _, summary, results = run(settings, tmp_path / "run", program, progress=False)
    assert summary["accuracy"] == after["accuracy"]
    assert {r.problem_id: r.answer for r in results} == after["answers"]  # same seeds, same traces


def test_bootstrap_on_the_embedded_model_completes_with_compact_demos(tmp_path):
    config = load_config(RECIPE, SHORT)
    options = CompileSettings(optimizer="bootstrap", budget=2, dev_limit=2, test_limit=1, train_limit=2,
                              out=tmp_path / "compiled")
    compiled, meta = compile_program(RECIPE, config, options, progress=False)
    state = json.loads(compiled.read_text())
    for name in ("step.predict", "check.predict"):
        assert len(state[name]["demos"]) <= MAX_DEMOS
        assert all("conversation" not in demo and demo["prompt"] for demo in state[name]["demos"])
    assert meta["optimizer"] == "bootstrap" and meta["lm_calls"]["optimize"] > 0
    settings, program = load_program_file(compiled, {"limit": 1})
    _, summary, results = run(settings, tmp_path / "run", program, progress=False)
    assert summary["problems"] == 1 and results[0].trace["turns"]
    assert summary["accuracy"] == meta["scores"]["after"]["test"]["accuracy"]
