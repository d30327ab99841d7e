"""The train stage: fine-tune a base model on an export with TRL (DPO, KTO or SFT) into a Hugging Face folder.

The output folder is the next round's model: `hf:OUT` serves it (through a GGUF written beside the weights
and the embedded llama.cpp engine). It also holds the trainer's log history, the resolved recipe and the
run's provenance; it appears all at once, when training has finished.
"""

from __future__ import annotations

import json
import math
import shutil
import time
from dataclasses import fields
from pathlib import Path

import yaml
from loguru import logger

from strawberry_dspy.errors import UserError
from strawberry_dspy.provenance import package_versions
from strawberry_dspy.stage_output import OutputKind, check_replace, default_dir, staged
from strawberry_dspy.train import require_train_extra
from strawberry_dspy.train.convert import MODEL_CARD, base_model_folder
from strawberry_dspy.train.data import load_export
from strawberry_dspy.train.recipe import TrainSettings
from strawberry_dspy.models.to_gguf import GGUF_NAME, TEMPLATE, gguf_supported, hf_to_gguf

LOG_FILE = "trainer_log.json"
RECIPE_FILE = "train_config.yaml"
# replaced only when marked (no legacy names); serving it as hf:DIR adds a GGUF beside the weights
TRAINED_MODEL = OutputKind("train", "trained model", (RECIPE_FILE,),
                           added_later=(GGUF_NAME.format(version="*", quant="*"),))
# TRL's defaults are for GPUs; at 135M on a CPU these are what work (recipe fields and `trl:` come after)
CPU_DEFAULTS = dict(bf16=False, fp16=False, activation_checkpointing=False, report_to="none", save_strategy="no",
                    logging_steps=1, dataloader_num_workers=0, dataloader_pin_memory=False, disable_tqdm=False,
                    remove_unused_columns=True)


def default_out(recipe: TrainSettings, data: str | Path) -> Path:
    """runs/train-<method>-<hash of the data path, base and recipe>: the same inputs name the same folder."""
    return default_dir(f"train-{recipe.method}", {"data": str(Path(data).resolve()), **recipe.to_dict()}, length=10)


def optimizer_steps(recipe: TrainSettings, rows: int) -> int:
    """How many optimizer steps a recipe takes on `rows` examples (one device)."""
    if recipe.max_steps > 0:
        return recipe.max_steps
    per_epoch = max(1, math.ceil(rows / recipe.batch_size) // recipe.gradient_accumulation_steps)
    return math.ceil(per_epoch * recipe.epochs)


def trl_config(recipe: TrainSettings, output_dir: Path, rows: int = 1):
    """The TRL config (DPOConfig / KTOConfig / SFTConfig) for a recipe; unknown `trl:` keys raise."""
    import torch
    import trl

    config_class = {"dpo": trl.DPOConfig, "kto": trl.KTOConfig, "sft": trl.SFTConfig}[recipe.trainer]
    valid = {f.name for f in fields(config_class)}
    unknown = sorted(set(recipe.trl) - valid)
    if unknown:
        raise UserError(f"unknown key 'trl.{unknown[0]}' for {config_class.__name__}: use a field of TRL's "
                        f"{config_class.__name__} (e.g. trl.loss_type, trl.truncation_mode)")
    settings = dict(CPU_DEFAULTS, output_dir=str(output_dir), learning_rate=recipe.learning_rate,
                    num_train_epochs=recipe.epochs, max_steps=recipe.max_steps,
                    per_device_train_batch_size=recipe.batch_size,
                    gradient_accumulation_steps=recipe.gradient_accumulation_steps, max_length=recipe.max_length,
                    warmup_steps=int(recipe.warmup_ratio * optimizer_steps(recipe, rows)),  # rounded down: none in tiny runs
                    lr_scheduler_type=recipe.lr_scheduler,
                    weight_decay=recipe.weight_decay, seed=recipe.seed, model_init_kwargs={"dtype": torch.float32})
    if recipe.method in ("dpo", "kto"):
        settings["beta"] = recipe.beta
    settings.update(recipe.trl)
    if recipe.rpo_alpha:  # Iterative RPO's NLL term on the chosen response: TRL's 'sft' loss beside the DPO loss
        losses = list(settings.get("loss_type") or ["sigmoid"])
        weights = list(settings.get("loss_weights") or [1.0] * len(losses))
        settings["loss_type"], settings["loss_weights"] = losses + ["sft"], weights + [recipe.rpo_alpha]
    try:
        return config_class(**settings)
    except (ValueError, TypeError) as error:
        raise UserError(f"TRL rejected the recipe for {recipe.method}: {str(error).splitlines()[0]}; fix the train: keys") from None


def train(recipe: TrainSettings, data: str | Path, out: str | Path | None = None, overwrite: bool = False) -> Path:
    """Fine-tune `recipe.base` on the export `data` with TRL; return the trained model's HF folder."""
    require_train_extra()
    out = Path(out) if out else default_out(recipe, data)
    check_replace(out, TRAINED_MODEL, overwrite=overwrite, sources=[data])  # refused before the model loads
    dataset = load_export(data, recipe.method)
    base = base_model_folder(recipe.base)
    if recipe.method == "dpo" and "weight" in dataset.column_names and not _resampled(data):
        logger.info("the 'weight' column is not read by TRL's DPO; export with --resample FACTOR to apply the weights")
    if recipe.threads:
        import torch

        torch.set_num_threads(recipe.threads)
    started = time.perf_counter()
    with staged(out, TRAINED_MODEL, sources=[data, base]) as staging:  # the folder appears when training has finished
        trainer = _trainer(recipe, base, dataset, staging)
        logger.info(f"{recipe.method.upper()} on {len(dataset)} rows from {data}, base {base}")
        result = trainer.train()
        trainer.save_model(str(staging))
        trainer.processing_class.save_pretrained(str(staging))
        wall = time.perf_counter() - started
        _write_records(staging, recipe, data, base, len(dataset), trainer, result, wall)
        if recipe.gguf and gguf_supported(staging) is None:
            hf_to_gguf(staging, recipe.gguf)
    logger.info(f"trained {recipe.method.upper()} in {wall:.0f}s -> {out} (serve it as hf:{out})")
    return out


def _resampled(data: str | Path) -> bool:
    """Whether an export folder's rows were already repeated by their weights (its export.yaml says resample)."""
    path = Path(data) / "export.yaml"
    try:
        return bool(path.is_file() and (yaml.safe_load(path.read_text()) or {}).get("resample"))
    except (OSError, yaml.YAMLError, AttributeError):
        return False


def _trainer(recipe: TrainSettings, base: Path, dataset, output_dir: Path):
    import trl
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(base))
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    trainer_class = {"dpo": trl.DPOTrainer, "kto": trl.KTOTrainer, "sft": trl.SFTTrainer}[recipe.trainer]
    args = trl_config(recipe, output_dir, len(dataset))
    try:
        return trainer_class(model=str(base), args=args, train_dataset=dataset, processing_class=tokenizer)
    except (ValueError, KeyError, TypeError) as error:
        raise UserError(f"TRL could not prepare the {recipe.method} data or model ({str(error).splitlines()[0][:200]}); "
                        "check that the export matches the method") from None


def _write_records(folder: Path, recipe: TrainSettings, data, base: Path, rows: int, trainer, result, wall: float) -> None:
    """Log history, resolved recipe, provenance card, and the GGUF template carried over from the base."""
    (folder / LOG_FILE).write_text(json.dumps(trainer.state.log_history, indent=2) + "\n")
    (folder / RECIPE_FILE).write_text(yaml.safe_dump({"train": recipe.to_dict()}, sort_keys=False))
    if (base / TEMPLATE).is_file():
        shutil.copy2(base / TEMPLATE, folder / TEMPLATE)
    base_card = json.loads((base / MODEL_CARD).read_text()) if (base / MODEL_CARD).is_file() else {}
    card = {"method": recipe.method, "data": str(Path(data).resolve()), "rows": rows, "base": str(base.resolve()),
            "base_card": base_card, "steps": trainer.state.global_step, "train_loss": result.training_loss,
            "train_s": round(wall, 1), "versions": package_versions()}
    (folder / MODEL_CARD).write_text(json.dumps(card, indent=2) + "\n")
