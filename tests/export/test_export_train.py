"""TRL's DPOTrainer and KTOTrainer consume the exports: 2 steps each on the embedded model, CPU.

The GGUF -> Hugging Face conversion is the train stage's (strawberry_dspy.train.convert); without it,
or without the [train] extra (torch, trl), these tests skip.
"""

import math

import pytest

from strawberry_dspy.export import ExportSettings, export
from tests.export.store_fixture import build_mixed_store

pytestmark = pytest.mark.train


@pytest.fixture(scope="module")
def base_model():
    pytest.importorskip("torch", reason="needs the [train] extra (torch==2.13.0)")
    pytest.importorskip("trl", reason="needs the [train] extra (trl==1.16.0)")
    convert = pytest.importorskip("strawberry_dspy.train.convert",
                                  reason="the GGUF -> Hugging Face converter (strawberry_dspy.train.convert) is not here")
    return convert.base_model_folder("local")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    directory = tmp_path_factory.mktemp("run")
    build_mixed_store(directory)
    return directory


def load_rows(out):
    import datasets

    return datasets.load_dataset("json", data_files=str(out / "train.jsonl"), split="train")


def two_steps(trainer_cls, config_cls, base_model, dataset, tmp_path, **settings):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(str(base_model), dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(str(base_model))
    before = {n: p.detach().clone() for n, p in model.named_parameters() if n.endswith("layers.0.mlp.down_proj.weight")}
    args = config_cls(output_dir=str(tmp_path / "trainer"), max_steps=2, learning_rate=1e-4, logging_steps=1,
                      report_to="none", save_strategy="no", use_cpu=True, max_length=256, seed=0,
                      gradient_checkpointing=False, **settings)
    trainer = trainer_cls(model=model, args=args, train_dataset=dataset, processing_class=tokenizer)
    trainer.train()
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    assert trainer.state.global_step == 2 and len(losses) == 2 and all(math.isfinite(x) for x in losses)
    changed = [not torch.equal(before[n], p) for n, p in model.named_parameters() if n in before]
    assert changed and all(changed)  # the weights moved: the rows were trained on, not just read
    return trainer


def test_dpo_trainer_consumes_the_weighted_dpo_export(base_model, store, tmp_path):
    from trl import DPOConfig, DPOTrainer

    report = export(store, ExportSettings(format="dpo", resample=2.0, decontam_limit=20), tmp_path / "dpo")
    dataset = load_rows(report.out)
    assert len(dataset) >= 4
    two_steps(DPOTrainer, DPOConfig, base_model, dataset, tmp_path, per_device_train_batch_size=2)


def test_kto_trainer_consumes_the_kto_export(base_model, store, tmp_path):
    from trl import KTOConfig, KTOTrainer

    report = export(store, ExportSettings(format="kto", style="turns", decontam_limit=20), tmp_path / "kto")
    dataset = load_rows(report.out)
    desirable, undesirable = report.stats["desirable"], report.stats["undesirable"]
    two_steps(KTOTrainer, KTOConfig, base_model, dataset, tmp_path, per_device_train_batch_size=2,
              desirable_weight=round(undesirable / desirable, 2), undesirable_weight=1.0)
