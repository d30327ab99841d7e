"""The `hf:DIR` model spec: a Hugging Face folder (e.g. a model trained by `strawberry train`) as a dspy.LM.

By default the folder is written once to GGUF (`DIR/model-<weights version>.q8_0.gguf`; the name, under which
llama.cpp serves it and DSPy caches its replies, changes whenever the weights do) and
served by the embedded llama.cpp engine, like `local`. `hf:DIR?engine=transformers` generates with
transformers instead (batched; slower), which is also the only way for folders that cannot be written as GGUF.
`?quant=f16|q8_0|q4_1|f32` chooses the GGUF's quantization.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import dspy
from loguru import logger

from strawberry_dspy.errors import UserError
from strawberry_dspy.models.engine import SERVER_ENGINE, shared_engine
from strawberry_dspy.provenance import MODEL_CARD, check_versions

ENGINES = ("llama.cpp", "transformers")
OPTIONS = ("engine", "quant")


def parse_hf_spec(spec: str) -> tuple[Path, dict[str, str]]:
    """Split 'hf:DIR?engine=transformers' into the folder and its options, checking both."""
    raw, _, query = spec.removeprefix("hf:").strip().partition("?")
    options = dict(parse_qsl(query, keep_blank_values=True))
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise UserError(f"unknown option {unknown[0]!r} in model spec '{spec}': valid options are {', '.join(OPTIONS)}")
    if options.get("engine", ENGINES[0]) not in ENGINES:
        raise UserError(f"unknown engine {options['engine']!r} in model spec '{spec}': expected {' or '.join(ENGINES)}")
    folder = Path(raw).expanduser()
    if not raw or not (folder / "config.json").is_file():
        raise UserError(f"Hugging Face model folder not found for spec '{spec}' (no config.json in '{raw}'); "
                        "pass a folder written by `strawberry train` or save_pretrained(), as hf:/path/to/folder")
    return folder, options


def hf_lm(spec: str, slots: int, settings: dict[str, Any], make: Callable[..., dspy.LM] = dspy.LM) -> dspy.LM:
    """A dspy.LM (built by `make`) for an 'hf:DIR' spec: llama.cpp on a GGUF written from the folder, or transformers."""
    from strawberry_dspy.extras import require_train_extra

    folder, options = parse_hf_spec(spec)
    check_model_versions(folder)
    if "api_base" in settings:
        raise UserError(f"api_base={settings['api_base']!r} does not apply to '{spec}' (it is served in-process)")
    require_train_extra("torch", "transformers", "gguf", "safetensors", purpose=f"the model spec '{spec}'")
    from strawberry_dspy.models.to_gguf import DEFAULT_QUANT, gguf_supported, hf_to_gguf, weights_version

    engine_name = options.get("engine", ENGINES[0])
    if engine_name == "llama.cpp" and gguf_supported(folder) is None:
        engine = shared_engine(hf_to_gguf(folder, options.get("quant", DEFAULT_QUANT)), slots=slots)
        return make(f"openai/{engine.alias}", api_base=f"{engine.url}/v1", api_key="local",
                    **{"engine": SERVER_ENGINE, **settings})
    if engine_name == "llama.cpp" and "engine" in options:
        raise UserError(f"cannot serve '{spec}' with llama.cpp: {gguf_supported(folder)}; use hf:{folder}?engine=transformers")
    from strawberry_dspy.models.hf_engine import TransformersEngine

    if "engine" not in options:
        logger.info(f"serving {folder} with transformers (slower than llama.cpp): {gguf_supported(folder)}")

    key = (folder.resolve(), weights_version(folder))  # the version names the model: DSPy's cache keys on it
    with _engines_lock:
        if key not in _engines:
            _engines[key] = TransformersEngine(folder, max_batch=max(slots, 1) * 4)
    return make(f"hf/{folder.name}-{key[1]}", engine=_engines[key], **settings)


def check_model_versions(folder: Path) -> None:
    """Warn once when the versions a trained or converted folder's card recorded differ from the installed ones."""
    try:
        card = json.loads((folder / MODEL_CARD).read_text())
    except (OSError, ValueError):  # a folder not made here has no card: nothing recorded to compare
        return
    check_versions(card.get("versions") if isinstance(card, dict) else None, f"model {folder}")


_engines: dict[tuple, Any] = {}  # one loaded transformers model per folder (and weights version)
_engines_lock = threading.Lock()
