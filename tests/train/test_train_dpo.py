"""`strawberry train` end to end: a 2-step DPO run whose model is then served as hf:OUT and answers a chat."""

from __future__ import annotations

import json

import pytest
import yaml

pytest.importorskip("trl")
pytestmark = pytest.mark.train

from strawberry_dspy.cli import main as cli_main  # noqa: E402
from strawberry_dspy.errors import UserError  # noqa: E402
from strawberry_dspy.models import resolve_lm  # noqa: E402
from strawberry_dspy.train.convert import MODEL_CARD  # noqa: E402
from strawberry_dspy.train.trainer import LOG_FILE, RECIPE_FILE  # noqa: E402
from tests.train.tiny_data import dpo_rows, write_jsonl  # noqa: E402

TINY = ["--max_steps=2", "--max_length=96", "--batch_size=2", "--gradient_accumulation_steps=1"]


@pytest.fixture(scope="module")
def trained(hf_base, tmp_path_factory):
    """A model trained for 2 DPO steps from the converted embedded model, through the CLI."""
    folder = tmp_path_factory.mktemp("train")
    data = write_jsonl(folder / "dpo.jsonl", dpo_rows())
    out = folder / "model"
    code = cli_main(["train", "programs/train_dpo.yaml", "--data", str(data), "--base", f"hf:{hf_base}",
                     "--out", str(out), *TINY, "--learning_rate=1e-4"])
    assert code == 0
    return out


def test_training_writes_an_hf_model_with_its_logs_and_provenance(trained, hf_base):
    from safetensors import safe_open

    log = json.loads((trained / LOG_FILE).read_text())
    steps = [entry for entry in log if "loss" in entry]
    assert [entry["step"] for entry in steps] == [1, 2]
    assert steps[0]["learning_rate"] > 0  # a 2-step run gets no warm-up step at learning rate 0
    recipe = yaml.safe_load((trained / RECIPE_FILE).read_text())["train"]
    assert recipe["method"] == "dpo" and recipe["max_steps"] == 2 and recipe["learning_rate"] == 1e-4
    card = json.loads((trained / MODEL_CARD).read_text())
    assert card["steps"] == 2 and card["rows"] == 6 and card["base"] == str(hf_base.resolve())
    assert len(list(trained.glob("model-*.q8_0.gguf"))) == 1 and (trained / "chat_template.jinja").is_file()
    # the weights moved: DPO at lr 1e-4 changes the model
    with safe_open(str(trained / "model.safetensors"), "pt") as new, safe_open(str(hf_base / "model.safetensors"), "pt") as old:
        name = "model.layers.0.self_attn.q_proj.weight"
        assert (new.get_tensor(name) - old.get_tensor(name)).abs().max() > 0


def test_trained_model_serves_through_llama_cpp_as_hf_spec(trained):
    lm = resolve_lm(f"hf:{trained}", temperature=0.0, max_tokens=24, cache=False)
    assert lm.kwargs.get("api_base", "").startswith("http://127.0.0.1")  # the embedded engine, on the written GGUF
    assert lm.model.startswith("openai/model-") and lm.model.endswith(".q8_0")  # the weights' version names it
    reply = lm("What is 2 + 3?")[0]
    assert isinstance(reply, str) and reply.strip()


def test_trained_model_serves_through_transformers_batched(trained):
    from concurrent.futures import ThreadPoolExecutor

    from strawberry_dspy.models import hf

    lm = resolve_lm(f"hf:{trained}?engine=transformers", temperature=0.0, max_tokens=12, slots=2, cache=False)
    assert lm.model.startswith(f"hf/{trained.name}-")
    questions = ["What is 2 + 3?", "What is 4 + 1?", "Name a colour."]
    with ThreadPoolExecutor(3) as pool:
        replies = list(pool.map(lambda q: lm(q)[0], questions))
    assert all(isinstance(r, str) and r.strip() for r in replies)
    assert all(0 < entry["usage"]["completion_tokens"] <= 12 for entry in lm.history)
    (engine,) = [e for key, e in hf._engines.items() if key[0] == trained.resolve()]
    assert sum(engine.batch_sizes) == 3 and max(engine.batch_sizes) > 1  # concurrent requests share a generate()


def test_folder_without_gguf_template_falls_back_to_transformers(trained, tmp_path):
    for item in trained.iterdir():
        if item.name != "gguf_template.gguf" and not item.name.endswith(".gguf"):
            (tmp_path / item.name).symlink_to(item)
    lm = resolve_lm(f"hf:{tmp_path}", cache=False)
    assert lm.model.startswith(f"hf/{tmp_path.name}-")
    with pytest.raises(UserError, match="cannot serve .* with llama.cpp: it has no gguf_template.gguf"):
        resolve_lm(f"hf:{tmp_path}?engine=llama.cpp")
