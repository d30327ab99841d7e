"""Shared fixtures: scripted LMs (dspy.utils.DummyLM) speaking through the TextAdapter."""

from __future__ import annotations

import dataclasses
import os
import tempfile

# one fresh DSPy disk cache per test session (inherited by child processes): no reply leaks between runs
os.environ.setdefault("DSPY_CACHEDIR", tempfile.mkdtemp(prefix="dspy-cache-"))
# and one fresh project cache (generated problems, converted models: cache_dir.py), never the user's own
os.environ["STRAWBERRY_CACHE_DIR"] = tempfile.mkdtemp(prefix="strawberry-cache-")

import dspy
import pytest
from dspy.clients.engines.dummy_engine import DummyEngine
from dspy.lm15 import Usage
from dspy.utils.dummies import DummyLM
from loguru import logger

from strawberry_dspy.program.adapter import TextAdapter


class _CountingEngine(DummyEngine):
    """DummyLM's engine, but reporting one completion token per word so token budgets can be tested."""

    def _complete_messages(self, messages):
        response = super()._complete_messages(messages)
        words = len("".join(p.text for p in response.message.parts if hasattr(p, "text")).split())
        prompt = sum(len(m["content"].split()) for m in messages)
        usage = Usage(input_tokens=prompt, output_tokens=words, total_tokens=prompt + words)
        return dataclasses.replace(response, usage=usage)


def scripted_lm(answers, count_tokens: bool = False) -> DummyLM:
    """A DummyLM whose replies are free text (the TextAdapter's format)."""
    lm = DummyLM(answers, adapter=TextAdapter())
    if count_tokens:
        lm._engine_spec = _CountingEngine(lm)
    return lm


@pytest.fixture
def use_lm():
    """Configure DSPy with a scripted LM for the test: use_lm(answers) -> lm."""
    contexts = []

    def _use(answers, count_tokens: bool = False):
        lm = scripted_lm(answers, count_tokens)
        ctx = dspy.context(lm=lm, adapter=TextAdapter())
        ctx.__enter__()
        contexts.append(ctx)
        return lm

    yield _use
    for ctx in reversed(contexts):
        ctx.__exit__(None, None, None)


def all_prompt_text(lm: DummyLM) -> str:
    """Every message content the LM was ever sent."""
    return "\n".join(m["content"] for h in lm.history for m in h["messages"])


# Test files left out of the quick loop as a whole (`pytest -m "not slow"`), and why; CI runs them (make test).
SLOW_FILES = {
    "tests/compile/test_cli_compile.py": "a CLI subprocess per case, each importing dspy and optuna",
    "tests/cli/test_cli.py": "a CLI subprocess per case",
    "tests/executors/test_ray_executor.py": "starts a local Ray instance and worker processes",
    "tests/harvest/test_harvest_kill.py": "kills and reruns harvest subprocesses",
    "tests/compile/test_search.py": "optuna studies of many trials",
    "tests/scoring/test_task_golds.py": "imports and grades every reasoning-gym task family",
    "tests/cli/test_outputs.py": "CLI subprocesses: the --out rules and Ctrl-C end to end",
    "tests/cli/test_hostile_input.py": "a CLI subprocess per hostile input",
    "tests/cli/test_lazy_imports.py": "fresh interpreters that record what a command imports",
    "tests/benchmarks/test_problem_cache.py": "fresh interpreters that must not import reasoning-gym",
}


def pytest_collection_modifyitems(items):
    """Integration and train tests, and the files above, are slow: `pytest -m "not slow"` is the quick loop."""
    for item in items:
        if (item.get_closest_marker("integration") or item.get_closest_marker("train")
                or item.nodeid.split("::")[0] in SLOW_FILES):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def quiet_library_logging():
    """The CLI turns loguru on with a sink bound to the stderr of the moment (pytest's capture): undo it after each test."""
    yield
    logger.remove()
    logger.disable("strawberry_dspy")
