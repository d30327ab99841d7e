"""One model spec string -> a ready `dspy.LM`: the embedded engine, ollama, or any hosted provider."""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import dspy
from loguru import logger

from strawberry_dspy.errors import UserError
from strawberry_dspy.models import metadata
from strawberry_dspy.models.dotenv_keys import dotenv_server, host_of
from strawberry_dspy.models.engine import SERVER_ENGINE, local_model_path, shared_engine
from strawberry_dspy.models.hf import hf_lm
from strawberry_dspy.models.retry import RetryingLM
from strawberry_dspy.retry_settings import RetrySettings

# provider prefix -> environment variables it needs (read by DSPy/litellm themselves, never passed by us)
PROVIDER_ENV: dict[str, tuple[str, ...]] = {
    "ollama_chat": (),
    "ollama": (),
    "openai": ("OPENAI_API_KEY",),  # never sent to an api_base= server (vLLM, llama.cpp, any compatible server)
    "anthropic": ("ANTHROPIC_API_KEY",),
    "gemini": ("GEMINI_API_KEY",),
    "groq": ("GROQ_API_KEY",),
    "azure": ("AZURE_API_KEY", "AZURE_API_BASE"),  # AZURE_API_BASE may be given as api_base= instead
    "cerebras": ("CEREBRAS_API_KEY",),
}
ACCEPTED = "'local', 'local:/path/model.gguf', or " + ", ".join(f"'{p}/MODEL'" for p in PROVIDER_ENV)
PROVIDER_HOSTS = {"openai": "api.openai.com", "anthropic": "api.anthropic.com",
                  "gemini": "generativelanguage.googleapis.com", "groq": "api.groq.com", "cerebras": "api.cerebras.ai",
                  "ollama": "localhost:11434", "ollama_chat": "localhost:11434"}
PROBE_TIMEOUT_S = 3.0
# Any non-empty key satisfies OpenAI clients; a keyless compatible server ignores it.
NO_KEY = "local"
# Providers whose api_base= names the provider's own endpoint (an Azure resource), so its key belongs there.
OWN_BASE = ("azure",)


def is_embedded(spec: str) -> bool:
    """Whether a spec is served by an engine inside this process ('local', 'local:PATH', 'hf:DIR')."""
    spec = spec.strip() if isinstance(spec, str) else ""
    return spec == "local" or spec.startswith(("local:", "hf:"))


def resolve_lm(spec: str = "local", *, temperature: float = 0.7, max_tokens: int = 256,
               slots: int = 1, num_retries: int = 3, api_key_env: str | None = None,
               retry: RetrySettings | None = None, **lm_kwargs: Any) -> dspy.LM:
    """Turn a model spec ('local', 'local:/path.gguf', 'provider/model') into a checked, ready dspy.LM.

    A provider's key goes only to that provider's API: a server named by api_base= gets the key in the
    variable `api_key_env` names, or none at all. With `retry` the LM is a RetryingLM (its timeout and
    retries, DSPy's `num_retries` ignored); without it DSPy's own retries apply.
    """
    metadata.install()  # every LM this project builds skips DSPy's per-call metadata scan
    if "api_key" in lm_kwargs:
        raise UserError("api_key= was passed to the model spec; API keys come only from the environment "
                        "or a .env file in the working directory, e.g. OPENAI_API_KEY=...")
    if not isinstance(slots, int) or slots < 1:
        raise UserError(f"slots must be a positive integer, got {slots!r}; use e.g. slots=4")
    settings = dict(temperature=temperature, max_tokens=max_tokens, num_retries=num_retries, **lm_kwargs)
    make = partial(RetryingLM, retry=retry) if retry else dspy.LM
    if api_key_env and not lm_kwargs.get("api_base"):
        raise UserError(f"api_key_env={api_key_env!r} names the key of an api_base server, but no api_base is set; "
                        "set api_base (--api-base) or remove api_key_env")
    if not isinstance(spec, str) or not spec.strip():
        raise UserError(f"model spec must be a non-empty string, got {spec!r}; use {ACCEPTED}")
    spec = spec.strip()
    if spec == "local" or spec.startswith("local:"):
        return _local_lm(spec, slots, settings, make)
    if spec.startswith("hf:"):  # a Hugging Face folder, e.g. a model trained by `strawberry train`
        return hf_lm(spec, slots, settings, make)

    provider, _, model = spec.partition("/")
    if provider not in PROVIDER_ENV or not model:
        raise UserError(f"unknown model spec '{spec}'; use {ACCEPTED}")
    from_file = dotenv_server(provider, (PROVIDER_ENV[provider] or (None,))[0])  # also loads ./.env's keys
    if provider in ("ollama", "ollama_chat"):
        settings["api_base"] = _check_ollama(spec, model, lm_kwargs.get("api_base"))
        if api_key_env:
            settings["api_key"] = _server_key(api_key_env)
    elif from_file and not lm_kwargs.get("api_base"):
        # a base URL from ./.env: used with the key from that file only (never the shell's key)
        settings["api_base"], settings["api_key"] = from_file
        if provider == "openai":
            settings.setdefault("engine", SERVER_ENGINE)
    elif lm_kwargs.get("api_base") and provider not in OWN_BASE:
        # explicit, so DSPy/litellm never fall back to the provider's own key from the environment
        settings["api_key"] = _server_key(api_key_env) if api_key_env else NO_KEY
        if provider == "openai":
            _check_openai_server(spec, lm_kwargs["api_base"])
            settings.setdefault("engine", SERVER_ENGINE)
    else:
        _require_env(spec, provider, lm_kwargs)
        if api_key_env:
            settings["api_key"] = _server_key(api_key_env)
    logger.info("model {}: calls go to {}", spec, destination(provider, settings.get("api_base")))
    return make(spec, **settings)


def destination(provider: str, api_base: str | None) -> str:
    """The host a provider spec's calls go to: its api_base, the shell's base-URL variable, or the provider's own."""
    if api_base:
        return host_of(api_base)
    prefix = provider.upper()
    for name in (prefix + "_BASE_URL", prefix + "_API_BASE"):
        if os.environ.get(name):
            return f"{host_of(os.environ[name])} (from {name})"
    return PROVIDER_HOSTS.get(provider, f"{provider}'s API")


def _server_key(variable: str) -> str:
    """The key in the environment variable the user named for an api_base server (never a provider's own)."""
    if not variable.isidentifier():
        raise UserError(f"api_key_env must name an environment variable, got {variable!r}; e.g. api_key_env: MY_SERVER_KEY")
    key = os.environ.get(variable)
    if not key:
        raise UserError(f"api_key_env names {variable}, which is not set; export {variable}=... or add it to .env "
                        "in the working directory")
    return key


def _local_lm(spec: str, slots: int, settings: dict[str, Any], make: Callable[..., dspy.LM]) -> dspy.LM:
    if "api_base" in settings:
        raise UserError(f"api_base={settings['api_base']!r} does not apply to '{spec}' (the embedded engine "
                        "picks its own loopback address); use spec 'openai/NAME' with api_base= for a server")
    if spec == "local":
        path = local_model_path()
    else:
        raw = spec.removeprefix("local:").strip()
        path = Path(raw).expanduser()
        if not raw or not path.is_file():
            raise UserError(f"GGUF model file not found for spec '{spec}'; pass an existing file as local:/path/model.gguf")
    engine = shared_engine(path, slots=slots)
    logger.info("model {}: calls go to the embedded engine on {} (this machine)", spec, host_of(engine.url))
    return make(f"openai/{engine.alias}", api_base=f"{engine.url}/v1", api_key=NO_KEY, **{"engine": SERVER_ENGINE, **settings})


def _require_env(spec: str, provider: str, lm_kwargs: dict[str, Any]) -> None:
    for name in PROVIDER_ENV[provider]:
        if name.endswith("_API_BASE") and lm_kwargs.get("api_base"):
            continue
        if not os.environ.get(name):
            raise UserError(f"model '{spec}' needs {name}, which is not set; "
                            f"export {name}=... or add it to .env in the working directory")


def _check_ollama(spec: str, model: str, api_base: str | None) -> str:
    """Check that an ollama server answers and has `model` pulled; return its base URL."""
    import httpx
    import ollama
    from ollama._client import _parse_host  # the client's own OLLAMA_HOST normalisation

    host = _parse_host(api_base or os.environ.get("OLLAMA_HOST"))
    try:
        with ollama.Client(host=host, timeout=PROBE_TIMEOUT_S) as client:
            pulled = {entry.model for entry in client.list().models}
    except (ConnectionError, httpx.HTTPError, ollama.ResponseError) as error:
        raise UserError(f"no ollama server answers at {host} for '{spec}' ({type(error).__name__}); "
                        "start it with: ollama serve (or point OLLAMA_HOST / api_base at it)") from None
    if model not in pulled and f"{model}:latest" not in pulled:
        raise UserError(f"ollama at {host} has no model '{model}' (spec '{spec}'); fetch it with: ollama pull {model}")
    return host


def _check_openai_server(spec: str, api_base: str) -> None:
    """Check that an OpenAI-compatible server answers GET {api_base}/models."""
    url = api_base.rstrip("/") + "/models"
    try:
        with urllib.request.urlopen(url, timeout=PROBE_TIMEOUT_S):
            return
    except urllib.error.HTTPError as error:
        if error.code != 404:
            return  # it answered (401/403 mean a key is needed: name its variable with api_key_env)
        reason = "HTTP 404: api_base usually ends in /v1"
    except (urllib.error.URLError, OSError) as error:
        reason = str(getattr(error, "reason", error))
    raise UserError(f"no OpenAI-compatible server answers at api_base={api_base!r} for '{spec}' (GET {url}: {reason}); "
                    "start the server (vllm serve / llama-server) or fix api_base")
