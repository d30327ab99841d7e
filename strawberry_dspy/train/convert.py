"""GGUF -> Hugging Face folder, once and cached: the trainable form of the embedded model.

transformers loads a GGUF (dequantizing it) but refuses to train or save a model loaded that way, so the
model is rebuilt from its config and the dequantized weights are copied in. The folder also keeps a
header-only copy of the GGUF's metadata (tokenizer, chat template, architecture) so a trained model can be
written back to GGUF for the fast llama.cpp engine (`strawberry_dspy.models.to_gguf`).
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

from loguru import logger

from strawberry_dspy.errors import UserError
from strawberry_dspy.cache_dir import ENV, cache_root
from strawberry_dspy.provenance import MODEL_CARD, package_versions
from strawberry_dspy.stage_output import OutputKind, staged
from strawberry_dspy.train import require_train_extra

CONVERTED_MODEL = OutputKind("convert", "converted base model", (MODEL_CARD,))
BASE_SPECS = "'local', 'local:/path/model.gguf', 'hf:/path/to/hf_folder' or a Hugging Face model folder"


def gguf_key(path: Path) -> str:
    """A cache key for a GGUF file: its name, size and modification time (hashing 100 MB on every call is not needed)."""
    stat = path.stat()
    digest = hashlib.sha1(f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:12]
    return f"{path.stem}-{digest}"


def gguf_to_hf(gguf_path: str | Path, cache_dir: str | Path | None = None) -> Path:
    """The HF folder (config, safetensors, tokenizer, chat template) of a GGUF model, converted on first use."""
    gguf_path = Path(gguf_path).expanduser()
    if not gguf_path.is_file():
        raise UserError(f"GGUF model file not found: '{gguf_path}'; pass an existing file as local:/path/model.gguf")
    root = cache_root()
    if cache_dir is None and root is None:
        raise UserError(f"{ENV}=off, but the GGUF model must be converted into a folder that is kept: set {ENV} "
                        "to a folder (or unset it), or pass an hf: model folder")
    folder = Path(cache_dir or root / "hf") / gguf_key(gguf_path)
    if (folder / MODEL_CARD).is_file():
        return folder
    require_train_extra("torch", "transformers", "gguf", "safetensors")
    # atomic: a half-written folder is never seen as converted; a concurrent conversion that won the race is kept
    with staged(folder, CONVERTED_MODEL, keep_existing=True) as staging:
        _convert(gguf_path, staging)
    return folder


def _convert(gguf_path: Path, out: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    from strawberry_dspy.models.to_gguf import write_template

    started = time.perf_counter()
    logger.info(f"converting {gguf_path.name} to a Hugging Face folder (once; cached in {out.parent})")
    hf_logging.disable_progress_bar()
    try:
        loaded = AutoModelForCausalLM.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name)
        tokenizer = AutoTokenizer.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name)
    except (ValueError, OSError, NotImplementedError, KeyError) as error:
        raise UserError(f"transformers cannot read the GGUF '{gguf_path}' ({str(error).splitlines()[0][:160]}); "
                        "pass a GGUF of an architecture transformers supports (llama, qwen2, mistral, ...)") from None
    finally:
        hf_logging.enable_progress_bar()
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config  # the GGUF marker is what makes transformers refuse to train or save
    model = AutoModelForCausalLM.from_config(config)
    model.load_state_dict(loaded.state_dict(), strict=True)
    model.generation_config.eos_token_id = config.eos_token_id
    model.generation_config.pad_token_id = config.pad_token_id
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    write_template(gguf_path, out)
    card = {"source": str(gguf_path.resolve()), "source_bytes": gguf_path.stat().st_size,
            "converted_s": round(time.perf_counter() - started, 1), "versions": package_versions()}
    (out / MODEL_CARD).write_text(json.dumps(card, indent=2) + "\n")
    logger.info(f"converted in {card['converted_s']}s")


def is_hf_folder(path: Path) -> bool:
    """Whether `path` is a Hugging Face model folder (has config.json and weights)."""
    return (path / "config.json").is_file() and (any(path.glob("*.safetensors")) or any(path.glob("*.bin")))


def base_model_folder(spec: str = "local") -> Path:
    """The HF folder of a base-model spec: 'local', 'local:/x.gguf' (converted, cached), 'hf:DIR' or a DIR."""
    from strawberry_dspy.models.engine import local_model_path

    spec = (spec or "local").strip()
    if spec == "local":
        return gguf_to_hf(local_model_path())
    if spec.startswith("local:"):
        return gguf_to_hf(spec.removeprefix("local:"))
    path = Path(spec.removeprefix("hf:")).expanduser()
    if path.is_file() and path.suffix == ".gguf":
        return gguf_to_hf(path)
    if not path.is_dir() or not is_hf_folder(path):
        raise UserError(f"base model not found: {spec!r} is not a Hugging Face model folder (config.json + "
                        f"*.safetensors) nor a GGUF file; use {BASE_SPECS}")
    return path
