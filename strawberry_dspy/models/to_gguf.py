"""Hugging Face folder -> GGUF, so a trained model is served by the fast embedded llama.cpp engine.

A pure-Python writer on `gguf` (llama.cpp's gguf-py): the tokenizer, chat template and architecture keys are
copied from a header-only template kept in the folder (written when the base GGUF was converted, carried
along by training); the weights are renamed to GGUF's names, the q/k projections permuted back to llama.cpp's
rotary layout (the inverse of what transformers undoes when loading a GGUF), and quantized.
Supported: the llama architecture (SmolLM2, Llama, ...) with a template; other folders are served by
transformers instead (`strawberry_dspy.models.hf_engine`).
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

from loguru import logger

from strawberry_dspy.errors import UserError
from strawberry_dspy.stage_output import remove_created, write_file

TEMPLATE = "gguf_template.gguf"
# the weights' version is in the name: llama.cpp serves a GGUF under its file name, which DSPy's cache keys on
GGUF_NAME = "model-{version}.{quant}.gguf"
# the quantizations written (gguf-py implements them in numpy); q8_0 is near-lossless and fast on CPUs
QUANTS = {"q8_0": ("Q8_0", "MOSTLY_Q8_0"), "f16": ("F16", "MOSTLY_F16"), "f32": ("F32", "ALL_F32"),
          "q4_1": ("Q4_1", "MOSTLY_Q4_1")}
DEFAULT_QUANT = "q8_0"
# config.json key -> template key, checked equal so a template never describes another model
SHAPE_KEYS = {"num_hidden_layers": "block_count", "hidden_size": "embedding_length",
              "intermediate_size": "feed_forward_length", "num_attention_heads": "attention.head_count",
              "num_key_value_heads": "attention.head_count_kv", "vocab_size": "vocab_size"}
REPLACED_KEYS = ("general.architecture", "general.file_type", "general.name", "tokenizer.chat_template")


def write_template(source_gguf: str | Path, folder: str | Path) -> Path:
    """Copy a GGUF's metadata (no tensors) into `folder` as the template for writing GGUFs later."""
    import gguf

    reader = gguf.GGUFReader(str(source_gguf))
    arch = reader.get_field("general.architecture").contents()
    path = Path(folder) / TEMPLATE
    writer = gguf.GGUFWriter(str(path), arch)
    _copy_fields(reader, writer, skip=("general.architecture",))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    writer.close()
    return path


def gguf_supported(folder: str | Path) -> str | None:
    """Why `folder` cannot be written as GGUF here, or None when it can."""
    import gguf

    folder = Path(folder)
    if not (folder / TEMPLATE).is_file():
        return f"it has no {TEMPLATE} (it was not converted or trained by strawberry)"
    config = json.loads((folder / "config.json").read_text())
    reader = gguf.GGUFReader(str(folder / TEMPLATE))
    arch = reader.get_field("general.architecture").contents()
    if arch != "llama" or config.get("model_type") != "llama":
        return f"only the llama architecture is written, this is {config.get('model_type')!r}"
    for hf_key, gguf_key in SHAPE_KEYS.items():
        field = reader.get_field(f"{arch}.{gguf_key}")
        if field is not None and field.contents() != config.get(hf_key):
            return f"its {hf_key}={config.get(hf_key)} differs from the template's {field.contents()}"
    return None


def weights_version(folder: str | Path) -> str:
    """A short id of the weights in `folder` (names, sizes, modification times): changes when they are rewritten."""
    stats = [(w.name, w.stat().st_size, w.stat().st_mtime_ns) for w in sorted(Path(folder).glob("*.safetensors"))]
    return hashlib.sha1(repr(stats).encode()).hexdigest()[:8]


def hf_to_gguf(folder: str | Path, quant: str = DEFAULT_QUANT, out: str | Path | None = None) -> Path:
    """Write (or reuse) `folder`/model-<weights version>.<quant>.gguf for llama.cpp; return its path."""
    import gguf

    folder = Path(folder)
    if quant not in QUANTS:
        raise UserError(f"unknown GGUF quantization {quant!r}: expected one of {', '.join(QUANTS)}")
    why_not = gguf_supported(folder)
    if why_not:
        raise UserError(f"cannot write '{folder}' as GGUF: {why_not}; serve it with hf:{folder}?engine=transformers")
    out = Path(out) if out else folder / GGUF_NAME.format(version=weights_version(folder), quant=quant)
    weights = sorted(folder.glob("*.safetensors"))
    if out.is_file() and out.stat().st_mtime >= max(w.stat().st_mtime for w in weights):
        return out
    # written here from weights that have since been replaced
    remove_created(folder, [stale.name for stale in folder.glob(GGUF_NAME.format(version="*", quant=quant))])
    started = time.perf_counter()
    config = json.loads((folder / "config.json").read_text())
    reader = gguf.GGUFReader(str(folder / TEMPLATE))
    write_file(out, lambda tmp: _write_gguf(tmp, folder, reader, config, weights, quant))
    logger.info(f"wrote {out} ({quant}, {out.stat().st_size / 2**20:.0f} MiB) in {time.perf_counter() - started:.1f}s")
    return out


def _write_gguf(tmp: Path, folder: Path, reader, config: dict, weights: list[Path], quant: str) -> None:
    """The GGUF of `folder`'s weights into `tmp`: metadata from the template, tensors renamed and quantized."""
    import gguf
    import numpy as np

    writer = gguf.GGUFWriter(str(tmp), "llama")
    _copy_fields(reader, writer, skip=REPLACED_KEYS)
    writer.add_name(folder.name)
    chat_template = folder / "chat_template.jinja"
    if chat_template.is_file():
        writer.add_chat_template(chat_template.read_text())
    elif (template := reader.get_field("tokenizer.chat_template")) is not None:
        writer.add_chat_template(template.contents())
    qtype_name, ftype_name = QUANTS[quant]
    writer.add_file_type(getattr(gguf.LlamaFileType, ftype_name))
    qtype = getattr(gguf.GGMLQuantizationType, qtype_name)
    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, config["num_hidden_layers"])
    for name, array in _read_weights(weights):
        if name == "lm_head.weight" and config.get("tie_word_embeddings"):
            continue  # llama.cpp reuses token_embd when output.weight is absent
        base, _, suffix = name.rpartition(".")
        mapped = names.get_name(base)
        if mapped is None:
            raise UserError(f"cannot write '{folder}' as GGUF: no GGUF name for tensor {name!r}; "
                            f"serve it with hf:{folder}?engine=transformers")
        if base.endswith("self_attn.q_proj"):
            array = _permute(array, config["num_attention_heads"], config["num_attention_heads"])
        elif base.endswith("self_attn.k_proj"):
            array = _permute(array, config["num_attention_heads"], config["num_key_value_heads"])
        if array.ndim == 1 or array.shape[-1] % 32:
            writer.add_tensor(f"{mapped}.{suffix}", array.astype(np.float32))
        else:
            writer.add_tensor(f"{mapped}.{suffix}", gguf.quants.quantize(array, qtype), raw_dtype=qtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def _read_weights(files: list[Path]):
    from safetensors import safe_open

    for file in files:
        with safe_open(str(file), framework="pt") as handle:  # "pt": numpy has no bfloat16
            for name in handle.keys():
                yield name, handle.get_tensor(name).float().numpy()


def _permute(weights, n_head: int, n_head_kv: int):
    """llama.cpp's rotary layout for q/k (convert_hf_to_gguf.py's LlamaModel.permute)."""
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return (weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *weights.shape[1:])
            .swapaxes(1, 2).reshape(weights.shape))


def _copy_fields(reader, writer, skip: tuple[str, ...]) -> None:
    """Copy a GGUF reader's key/value fields to a writer (as gguf-py's gguf_new_metadata does)."""
    import gguf

    for field in reader.fields.values():
        if field.name.startswith("GGUF.") or field.name in skip:
            continue
        value_type = field.types[0]
        sub_type = field.types[-1] if value_type == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(field.name, field.contents(), value_type, sub_type=sub_type)
