"""Shared fixtures: scripted LMs (strawberry_dspy.testing.scripted_lm) speaking through the TextAdapter."""

from __future__ import annotations

import os
import tempfile

# one fresh DSPy disk cache per test session (inherited by child processes): no reply leaks between runs
os.environ.setdefault("DSPY_CACHEDIR", tempfile.mkdtemp(prefix="dspy-cache-"))
# and one fresh project cache (generated problems, converted models: cache_dir.py), never the user's own
os.environ["STRAWBERRY_CACHE_DIR"] = tempfile.mkdtemp(prefix="strawberry-cache-")

import dspy
import pytest
from loguru import logger

from strawberry_dspy.program.adapter import TextAdapter
from strawberry_dspy.testing import scripted_lm


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


# Test files left out of the quick loop as a whole (`pytest -m "not slow"`), and why; CI runs them (make test).
SLOW_FILES = {
    "tests/compile/test_cli_compile.py": "a CLI subprocess per case, each importing dspy and optuna",
    "tests/cli/test_cli.py": "a CLI subprocess per case",
    "tests/executors/test_ray_executor.py": "starts a local Ray instance and worker processes",
    "tests/harvest/test_harvest_kill.py": "kills and reruns harvest subprocesses",
    "tests/harvest/test_harvest_batch_kill.py": "kills a --batch harvest subprocess, then reruns it",
    "tests/compile/test_search.py": "optuna studies of many trials",
    "tests/scoring/test_task_golds.py": "imports and grades every reasoning-gym task family",
    "tests/cli/test_outputs.py": "CLI subprocesses: the --out rules and Ctrl-C end to end",
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
