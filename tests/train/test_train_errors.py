"""Bad input to `strawberry train` and `hf:` specs: one clear line, exit 2, nothing trained."""

from __future__ import annotations

import importlib.util

import pytest

pytest.importorskip("trl")
pytestmark = pytest.mark.train

from strawberry_dspy.cli import main as cli_main  # noqa: E402
from strawberry_dspy.errors import UserError  # noqa: E402
from strawberry_dspy.models import resolve_lm  # noqa: E402
from strawberry_dspy.train.recipe import load_recipe, recipe_from_dict  # noqa: E402
from strawberry_dspy.train.trainer import train, trl_config  # noqa: E402
from tests.train.tiny_data import dpo_rows, kto_rows, write_jsonl  # noqa: E402


def _error(capsys, argv: list[str]) -> str:
    assert cli_main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "Traceback" not in err and len(err.splitlines()) == 1
    return err


def test_export_of_the_wrong_format_for_the_method(tmp_path, capsys):
    data = write_jsonl(tmp_path / "kto.jsonl", kto_rows())
    err = _error(capsys, ["train", "--method", "dpo", "--data", str(data), "--out", str(tmp_path / "m")])
    assert "KTO format" in err and "prompt/chosen/rejected" in err and "--method kto" in err
    assert not (tmp_path / "m").exists()


def test_sft_method_on_a_dpo_export(tmp_path, capsys):
    data = write_jsonl(tmp_path / "dpo.jsonl", dpo_rows())
    err = _error(capsys, ["train", "--method", "sft", "--data", str(data), "--out", str(tmp_path / "m")])
    assert "DPO format" in err and "messages or prompt/completion" in err


def test_missing_and_empty_exports(tmp_path, capsys):
    assert "export not found" in _error(capsys, ["train", "--data", str(tmp_path / "nope.jsonl")])
    (tmp_path / "empty.jsonl").write_text("")
    assert "has no rows" in _error(capsys, ["train", "--data", str(tmp_path / "empty.jsonl")])
    (tmp_path / "folder").mkdir()
    assert "no export found" in _error(capsys, ["train", "--data", str(tmp_path / "folder")])


def test_exports_load_from_every_written_form(tmp_path):
    from datasets import Dataset

    from strawberry_dspy.train.data import load_export

    Dataset.from_list(dpo_rows()).to_parquet(str(tmp_path / "train.parquet"))
    Dataset.from_list(dpo_rows()).save_to_disk(str(tmp_path / "saved"))
    write_jsonl(tmp_path / "export.jsonl", dpo_rows())
    for path in (tmp_path / "train.parquet", tmp_path / "saved", tmp_path / "export.jsonl", tmp_path):
        dataset = load_export(path, "dpo")
        assert len(dataset) == 6 and dataset[0]["chosen"][0]["role"] == "assistant"


def test_base_model_not_found(tmp_path, capsys):
    data = write_jsonl(tmp_path / "dpo.jsonl", dpo_rows())
    err = _error(capsys, ["train", "--data", str(data), "--base", f"hf:{tmp_path / 'missing'}", "--out", str(tmp_path / "m")])
    assert "base model not found" in err and "local:/path/model.gguf" in err


def test_train_extra_missing_names_the_install_command(tmp_path, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "trl" else real(name, *a))
    with pytest.raises(UserError, match=r"trl is not installed.*pip install .*\[train\]"):
        train(recipe_from_dict({}), write_jsonl(tmp_path / "dpo.jsonl", dpo_rows()), tmp_path / "m")


def test_recipe_keys_and_types_are_checked(tmp_path):
    with pytest.raises(UserError, match="unknown key 'learnin_rate'"):
        recipe_from_dict({"train": {"learnin_rate": 1e-5}})
    with pytest.raises(UserError, match="'max_steps' must be int"):
        recipe_from_dict({}, {"max_steps": "many"})
    with pytest.raises(UserError, match="unknown gguf quantization 'q3'"):
        recipe_from_dict({}, {"gguf": "q3"})
    with pytest.raises(UserError, match="unknown method 'ppo'"):
        recipe_from_dict({}, {"train": {"method": "ppo"}})
    with pytest.raises(UserError, match="unknown key 'trl.not_a_field' for DPOConfig"):
        trl_config(recipe_from_dict({}, {"trl": {"not_a_field": 1}}), tmp_path)
    assert trl_config(recipe_from_dict({}, {"max_steps": 2}), tmp_path).warmup_steps == 0  # no step wasted at lr 0
    assert trl_config(recipe_from_dict({}, {"max_steps": 100}), tmp_path).warmup_steps == 10
    (tmp_path / "plain.yaml").write_text("program: cot\n")
    with pytest.raises(UserError, match="no 'train:' section"):
        load_recipe(tmp_path / "plain.yaml")
    recipe = load_recipe("programs/train_dpo.yaml", {"beta": 0.3, "train": {"max_steps": 5}})
    assert (recipe.method, recipe.beta, recipe.max_steps) == ("dpo", 0.3, 5)
    assert load_recipe("programs/train_kto.yaml").method == "kto" and load_recipe("programs/train_sft.yaml").method == "sft"


def test_existing_output_needs_overwrite(tmp_path, capsys):
    data = write_jsonl(tmp_path / "dpo.jsonl", dpo_rows())
    (tmp_path / "m").mkdir()
    assert "--overwrite" in _error(capsys, ["train", "--data", str(data), "--out", str(tmp_path / "m")])


def test_bad_hf_specs(tmp_path):
    with pytest.raises(UserError, match="Hugging Face model folder not found"):
        resolve_lm(f"hf:{tmp_path}")
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(UserError, match="unknown option 'engin'"):
        resolve_lm(f"hf:{tmp_path}?engin=transformers")
    with pytest.raises(UserError, match="unknown engine 'vllm'"):
        resolve_lm(f"hf:{tmp_path}?engine=vllm")


def test_a_cache_turned_off_refuses_to_convert_rather_than_writing_a_folder_named_off(tmp_path, monkeypatch):
    from strawberry_dspy.train.convert import gguf_to_hf

    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"GGUF")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STRAWBERRY_CACHE_DIR", "off")
    with pytest.raises(UserError, match="STRAWBERRY_CACHE_DIR=off"):
        gguf_to_hf(gguf)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.gguf"]
