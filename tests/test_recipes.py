"""The packaged recipes: by name from any folder, `programs/NAME.yaml` still works, `strawberry programs` lists them."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from strawberry_dspy.cli import main
from strawberry_dspy.config import load_config
from strawberry_dspy.recipes import RECIPES_DIR, packaged, recipe_names, resolve_recipe
from strawberry_dspy.testing.loopback_openai import LoopbackOpenAI

ROOT = Path(__file__).resolve().parents[1]


def test_the_repositorys_programs_folder_is_the_packaged_one():
    assert (ROOT / "programs").resolve() == RECIPES_DIR  # one home: no copies that can drift
    assert {"strawberry", "cot", "zero_shot", "strawberry_full", "train_dpo"} <= set(recipe_names())


@pytest.mark.parametrize("given", ["strawberry", "strawberry.yaml", "programs/strawberry.yaml"])
def test_a_name_or_the_repository_path_means_the_packaged_file_from_any_folder(given, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert resolve_recipe(given) == RECIPES_DIR / "strawberry.yaml"
    assert load_config(given).program == "strawberry"


def test_an_existing_file_wins_and_other_paths_are_not_guessed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "strawberry.yaml").write_text("program: cot\n")
    assert resolve_recipe("strawberry.yaml") == Path("strawberry.yaml")
    assert load_config("strawberry.yaml").program == "cot"
    assert packaged("elsewhere/strawberry.yaml") is None and packaged("strawberry.json") is None


def test_strawberry_programs_lists_them(capsys):
    assert main(["programs"]) == 0
    out = capsys.readouterr().out
    for name in recipe_names():
        assert f"  {name} " in out
    assert main(["programs", "--path"]) == 0
    assert str(RECIPES_DIR / "cot.yaml") in capsys.readouterr().out


def test_an_unknown_recipe_is_one_line_naming_the_packaged_ones(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["run", "strawbery"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "'strawbery'" in err and "strawberry_full" in err


def test_strawberry_run_by_name_outside_the_repository(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    problems = tmp_path / "problems.jsonl"
    problems.write_text("".join(json.dumps({"question": f"What is {i} + 2?", "answer": str(i + 2)}) + "\n"
                                for i in range(12)))
    with LoopbackOpenAI("<final_answer>4</final_answer>") as server:
        code = main(["run", "cot", "--model", "openai/stub", "--api-base", server.url, "--benchmark",
                     f"jsonl:{problems}", "--split", "train", "--limit", "2", "--out", "out"])
    assert code == 0, capsys.readouterr().err
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["problems"] == 2
    assert (tmp_path / "out" / "config.yaml").read_text().startswith("program: cot\n")
    assert server.completions(), "the packaged recipe ran against the server"
    assert not os.path.exists(tmp_path / "programs")


def test_a_packaged_recipes_data_file_is_found_from_any_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = load_config("code_tasks")
    source, _, target = config.benchmark.partition(":")
    assert source == "jsonl" and Path(target).is_absolute() and Path(target).is_file()
    (tmp_path / "mine.yaml").write_text("program: cot\nbenchmark: jsonl:strawberry_dspy/scoring/code_tasks.jsonl\n")
    assert load_config("mine.yaml").benchmark == "jsonl:strawberry_dspy/scoring/code_tasks.jsonl"  # yours: as written
