"""GGUF -> HF folder -> GGUF: the converted model is trainable, cached, and generates what llama.cpp generates."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("trl")
pytestmark = pytest.mark.train

from strawberry_dspy.models import local_model_path  # noqa: E402
from strawberry_dspy.models.engine import LocalEngine  # noqa: E402
from strawberry_dspy.train.convert import MODEL_CARD, base_model_folder, gguf_to_hf  # noqa: E402
from strawberry_dspy.models.to_gguf import TEMPLATE, hf_to_gguf  # noqa: E402

CONFIDENT = [{"role": "user", "content": "What is 2 + 3?"}]
# The model's first two tokens here are a near tie: Q4_1/Q8_0 weights answer "L'Étoile, ...", full precision
# "The capital of France is Paris." -- a sensitive check that the written weights are exactly the model's.
NEAR_TIE = [{"role": "user", "content": "What is the capital of France?"}]
WORDS = 4  # greedy replies must agree on their first words (weights differ by quantization only)


def _transformers_greedy(folder, prompt: list[dict], max_new_tokens: int = 16) -> str:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32)
    inputs = tokenizer.apply_chat_template(prompt, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    with torch.inference_mode():
        output = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False)
    return tokenizer.decode(output[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)


def _llama_greedy(gguf_path, prompt: list[dict], max_tokens: int = 16) -> str:
    engine = LocalEngine(gguf_path)
    try:
        return engine.chat(prompt, temperature=0.0, max_tokens=max_tokens)["choices"][0]["message"]["content"]
    finally:
        engine.stop()


def test_converted_folder_is_a_plain_trainable_hf_model(hf_base):
    from transformers import AutoConfig, AutoTokenizer

    names = {p.name for p in hf_base.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "chat_template.jinja", TEMPLATE, MODEL_CARD} <= names
    config = AutoConfig.from_pretrained(str(hf_base))
    assert getattr(config, "quantization_config", None) is None  # a GGUF-marked model refuses to train or save
    assert config.model_type == "llama" and config.num_hidden_layers == 30
    tokenizer = AutoTokenizer.from_pretrained(str(hf_base))
    text = tokenizer.apply_chat_template(CONFIDENT, add_generation_prompt=True, tokenize=False)
    assert text.endswith("<|im_start|>assistant\n") and tokenizer.eos_token == "<|im_end|>"
    card = json.loads((hf_base / MODEL_CARD).read_text())
    assert card["source"] == str(local_model_path().resolve())


def test_conversion_is_cached(hf_base):
    before = (hf_base / "model.safetensors").stat().st_mtime_ns
    assert gguf_to_hf(local_model_path(), cache_dir=hf_base.parent) == hf_base
    assert (hf_base / "model.safetensors").stat().st_mtime_ns == before


def test_greedy_generation_matches_llama_cpp(hf_base):
    ours = _transformers_greedy(hf_base, CONFIDENT)
    theirs = _llama_greedy(local_model_path(), CONFIDENT)
    assert ours.split()[:WORDS] == theirs.split()[:WORDS], (ours, theirs)


def test_full_precision_gguf_written_back_generates_exactly_what_transformers_does(hf_base, tmp_path):
    written = hf_to_gguf(hf_base, "f32", out=tmp_path / "model.f32.gguf")
    assert _llama_greedy(written, NEAR_TIE) == _transformers_greedy(hf_base, NEAR_TIE)


def test_quantized_gguf_written_back_serves_the_model(hf_base, tmp_path):
    written = hf_to_gguf(hf_base, "q8_0", out=tmp_path / "model.q8_0.gguf")
    mtime = written.stat().st_mtime_ns
    assert hf_to_gguf(hf_base, "q8_0", out=written) == written and written.stat().st_mtime_ns == mtime  # reused
    ours = _llama_greedy(written, CONFIDENT)
    theirs = _llama_greedy(local_model_path(), CONFIDENT)
    assert ours.split()[:WORDS] == theirs.split()[:WORDS], (ours, theirs)


def test_base_specs(hf_base):
    assert base_model_folder(f"hf:{hf_base}") == hf_base
    assert base_model_folder(str(hf_base)) == hf_base
