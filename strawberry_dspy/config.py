"""Config: dataclasses + a YAML recipe + `--key=value` overrides; unknown keys and wrong types raise."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from strawberry_dspy import safe_yaml
from strawberry_dspy.band import Band
from strawberry_dspy.errors import UserError
from strawberry_dspy.knobs import BaselineSettings, StrawberrySettings
from strawberry_dspy.retry_settings import RetrySettings
from strawberry_dspy.recipes import anchor_packaged_paths, not_found_hint, resolve_recipe
from strawberry_dspy.text_input import read_text

PROGRAMS = ("zero_shot", "cot", "strawberry")
PROMPT_CACHE = ("auto", "on", "off")
SCIENTIFIC = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")


@dataclass
class Prices:
    """Dollars per million tokens, for a model litellm's price table does not know (a cache price defaults to input's)."""

    input: float | None = None
    output: float | None = None
    cache_read: float | None = None
    cache_write: float | None = None

    def validate(self) -> None:
        """Raise a UserError naming the first broken rule."""
        problems = [f"prices.{name} is required (dollars per million tokens), e.g. prices: {{input: 3, output: 15}}"
                    for name in ("input", "output") if getattr(self, name) is None]
        problems += [f"prices.{name} must be >= 0, got {value}" for name, value in vars(self).items()
                     if value is not None and value < 0]
        if problems:
            raise UserError(problems[0])


def check_temperature(temperature: float | None) -> None:
    """The --temperature rule of every command that takes one (None: the recipe's)."""
    if temperature is not None and temperature < 0:
        raise UserError(f"--temperature must be >= 0, got {temperature}; e.g. --temperature 1.0")


def _flag(default, help: str, **metadata):
    """A recipe setting that commands also take as a flag (`options.add_recipe_flags`), its default the recipe's."""
    return field(default=default, metadata={"help": help, "shown": "the recipe's", **metadata})


@dataclass
class ProgramSettings:
    """One reproducible run: which program, model and benchmark, and the program's knobs."""

    program: str = "strawberry"  # zero_shot | cot | strawberry
    model: str = _flag("local", "model spec: local, local:/path.gguf, hf:DIR, ollama_chat/NAME, openai/NAME, "
                                "anthropic/NAME, ...")
    api_base: str | None = _flag(None, "base URL of the model's server: an OpenAI-compatible server for openai/NAME "
                                       "(vLLM, llama.cpp), a proxy or gateway for anthropic/NAME and the other "
                                       "providers, ollama's host", metavar="URL")
    api_key_env: str | None = None  # environment variable holding api_base's key (no provider key is ever sent there)
    temperature: float = 0.7  # default sampling temperature of the model
    slots: int = 2  # parallel slots of the embedded engine
    benchmark: str = _flag("reasoning_gym:basic_arithmetic?min_terms=2&max_terms=2&max_digits=1",
                           "benchmark spec, e.g. reasoning_gym:basic_arithmetic or jsonl:FILE")
    # exact | numeric | math_verify | task, or your own DSPy metric as module:function (scoring/plugin.py)
    scorer: str | None = None  # None = the benchmark's default
    split: str = _flag("test", "train, dev or test")
    limit: int = _flag(10, "number of problems")
    concurrency: int = _flag(2, "problems (harvest: traces) in flight at once; the embedded engine gets as many slots")
    seed: int = 0  # seeds nudges and sampling
    # auto | on | off: mark the chat's stable prefix for the provider's prompt cache (auto: on for anthropic/,
    # whose cache needs marks; OpenAI, vLLM and Gemini cache prefixes by themselves). YAML's on/off (true/false) work.
    prompt_cache: str | bool = "auto"
    prices: Prices | None = None  # dollars per million tokens when litellm has no price for the model
    max_requests_per_minute: int | None = None  # LM calls started per minute, at most (None: as the provider allows)
    max_tokens_per_minute: int | None = None  # estimated prompt + max output tokens per minute, at most
    cache: bool = False  # serve repeated LM calls from DSPy's cache (reruns are instant but spend, and report, no tokens)
    max_question_chars: int = 20000  # a longer question is left out, with a warning, before any model call
    max_reply_chars: int = 20000  # a longer model reply is cut, with a warning, before it is parsed, stored or sent back
    strawberry: StrawberrySettings = field(default_factory=StrawberrySettings)
    baseline: BaselineSettings = field(default_factory=BaselineSettings)
    retry: RetrySettings = field(default_factory=RetrySettings)  # request timeout and retry budget (models/retry.py)
    search: dict | None = None  # `strawberry compile --optimizer search`: knob ranges and instruction variants (see compile/space.py)

    def validate(self) -> None:
        """Raise a UserError naming the first broken rule."""
        if self.program not in PROGRAMS:
            raise UserError(f"unknown program {self.program!r}: expected one of {', '.join(PROGRAMS)}")
        for name in ("limit", "concurrency", "slots", "max_question_chars", "max_reply_chars"):
            if getattr(self, name) < 1:
                raise UserError(f"{name} must be >= 1, got {getattr(self, name)}")
        if str(self.prompt_cache_mode) not in PROMPT_CACHE:
            raise UserError(f"prompt_cache must be one of {', '.join(PROMPT_CACHE)}, got {self.prompt_cache!r}")
        for name in ("max_requests_per_minute", "max_tokens_per_minute"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise UserError(f"{name} must be >= 1 (or unset), got {getattr(self, name)}")
        if self.prices is not None:
            self.prices.validate()
        for name, value in (("temperature", self.temperature), ("strawberry.temperature", self.strawberry.temperature),
                            ("baseline.temperature", self.baseline.temperature)):
            if value is not None and value < 0:
                raise UserError(f"{name} must be >= 0, got {value}")
        if self.split not in ("train", "dev", "test"):
            raise UserError(f"unknown split {self.split!r}: expected train, dev or test")
        if self.api_base is not None and not is_url(self.api_base):
            raise UserError(f"api_base must be an http(s) URL with a host, got {self.api_base!r}; "
                            "e.g. --api-base http://127.0.0.1:8000/v1")
        if self.program == "strawberry":
            self.strawberry.validate()
        self.baseline.validate()
        self.retry.validate()

    @property
    def prompt_cache_mode(self) -> str:
        """prompt_cache as auto | on | off (YAML reads a bare on / off as a boolean)."""
        if isinstance(self.prompt_cache, bool):
            return "on" if self.prompt_cache else "off"
        return self.prompt_cache

    def set_temperature(self, temperature: float) -> None:
        """--temperature: the one place that changes it; the model's default and the per-call knob that is set.

        Programs hold no copy (they read their knobs, which are this config's), so every call samples at it.
        """
        check_temperature(temperature)
        self.temperature = temperature
        for knobs in (self.strawberry, self.baseline):
            if knobs.temperature is not None:
                knobs.temperature = temperature

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def fingerprint(self) -> str:
        """A short hash of the program part of the config (what makes two runs' traces comparable)."""
        program = {"program": self.program, "knobs": dataclasses.asdict(self.strawberry if self.program == "strawberry" else self.baseline)}
        return hashlib.sha1(json.dumps(program, sort_keys=True).encode()).hexdigest()[:12]


def is_url(text: str) -> bool:
    """Whether `text` is an http(s) URL with a host (what a server's api_base must be)."""
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and text.isprintable()


def _type_name(tp) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _coerce(value, tp, where: str):
    """Check (and gently convert) a YAML value against a type hint; raise UserError naming the key."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        if len(args) == 2 and type(None) in args:  # `X | None` given a value: X's own message (e.g. the band's rule)
            return _coerce(value, next(a for a in args if a is not type(None)), where)
        for arg in (a for a in args if a is not type(None)):
            try:
                return _coerce(value, arg, where)
            except UserError:
                pass
        raise UserError(f"'{where}' must be {' or '.join(_type_name(a) for a in args)}, got {value!r}")
    if tp is Band:  # a YAML list [lo, hi], argparse's nargs=2 list, or a Band
        if not (isinstance(value, Band) or isinstance(value, (list, tuple)) and len(value) == 2
                and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value)):
            raise UserError(f"'{where}' must be a pair of pass rates [LO, HI], got {value!r}")
        return Band.of(value)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise UserError(f"'{where}' must be a mapping of keys, got {value!r}")
        return _build(tp, value, where + ".")
    if origin is list:
        (item,) = typing.get_args(tp)
        if not isinstance(value, list):
            raise UserError(f"'{where}' must be a list, got {value!r}")
        return [_coerce(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise UserError(f"'{where}' must be a mapping, got {value!r}")
        return dict(value)
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if tp in (int, float) and isinstance(value, bool) or not isinstance(value, tp):
        raise UserError(f"'{where}' must be {_type_name(tp)}, got {value!r}")
    if tp is float and not math.isfinite(value):  # nan / inf pass every `<` check and poison sums, JSON and prices
        raise UserError(f"'{where}' must be a finite number, got {value!r}; e.g. {where.rpartition('.')[2]}=1.0")
    return value


def _build(cls, data: dict, prefix: str = "", fixed: dict | None = None):
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    for key in data:
        if key not in names:
            raise UserError(f"unknown key '{prefix}{key}': valid keys are {', '.join(names)}")
    return cls(**{**(fixed or {}), **{k: _coerce(v, hints[k], f"{prefix}{k}") for k, v in data.items()}})


def parse_overrides(pairs: list[str]) -> dict:
    """Turn ['strawberry.check_every=2', 'limit=5'] into a nested dict; values are read as YAML."""
    nested: dict = {}
    for pair in pairs:
        key, sep, raw = pair.lstrip("-").partition("=")
        if not sep or not key:
            raise UserError(f"override {pair!r} is not KEY=VALUE: write e.g. --strawberry.check_every=2")
        try:
            value = safe_yaml.load(raw) if raw else ""
        except yaml.YAMLError:
            value = raw
        if isinstance(value, str) and SCIENTIFIC.fullmatch(raw):
            value = float(raw)  # YAML 1.1 reads 1e-4 (no dot) as a string
        *parents, leaf = key.split(".")
        node = nested
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return nested


def _merge(base: dict, extra: dict) -> dict:
    merged = dict(base)
    for key, value in extra.items():
        merged[key] = _merge(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key), dict) else value
    return merged


def read_yaml(path: str | Path) -> dict:
    """Read a YAML mapping, turning every problem with the file into one UserError line."""
    path = resolve_recipe(path)
    if not path.exists():
        raise UserError(f"program file not found: {str(path)!r}: {not_found_hint()}")
    try:
        data = safe_yaml.load(read_text(path, "program recipe"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        if isinstance(exc, safe_yaml.RefusedYAML):
            raise UserError(f"{path}{at}: {exc.problem}") from None
        raise UserError(f"{path}: malformed YAML{at}: {getattr(exc, 'problem', exc)}; fix the syntax") from None
    if data is None:
        raise UserError(f"{path} is empty (or only comments): a recipe sets at least one key, e.g. `program: strawberry`")
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a mapping of keys at the top level (key: value lines), got "
                        f"{type(data).__name__}; see programs/strawberry.yaml")
    return data


def dataclass_from_dict(cls, data: dict, overrides: dict | None = None, source: str = "config",
                        fixed: dict | None = None, validate: bool = False):
    """Build any config dataclass from a mapping plus overrides; unknown keys and wrong types raise, naming `source`.

    `fixed`: constructor values taken as they are (objects, not YAML); `validate`: also run the
    dataclass's `validate()` (the one convention: it returns None and raises a UserError), naming `source`.
    """
    try:
        built = _build(cls, _merge(data, overrides or {}), fixed=fixed)
        if validate:
            built.validate()
    except UserError as exc:
        raise UserError(f"{source}: {exc}") from None
    return built


def config_from_dict(data: dict, overrides: dict | None = None, source: str = "config") -> ProgramSettings:
    """Build and validate a ProgramSettings from a mapping plus overrides."""
    return dataclass_from_dict(ProgramSettings, data, overrides, source, validate=True)


def load_config(path: str | Path, overrides: dict | None = None) -> ProgramSettings:
    """Load a program YAML recipe (a file or a packaged recipe's name) with overrides."""
    path = resolve_recipe(path)
    return config_from_dict(anchor_packaged_paths(read_yaml(path), path), overrides, str(path))
