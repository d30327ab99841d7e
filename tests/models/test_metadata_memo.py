"""DSPy's model-metadata lookup (a scan of its whole table for an unknown model) runs once per model, not per call.

The real dspy.LM that lm_for builds talks to a real loopback server; the lookup is counted on DSPy's own module.
"""

import pytest
from dspy.clients import model_metadata

from strawberry_dspy.config import ProgramSettings
from strawberry_dspy.models import lm_for, metadata
from strawberry_dspy.testing.loopback_openai import LoopbackOpenAI

CALLS = 12


@pytest.fixture
def counted(monkeypatch):
    """Every call of DSPy's model_info (the scan), by (provider, model)."""
    calls = []
    original = model_metadata.model_info

    def counting(provider, model, **kwargs):
        calls.append((provider, model))
        return original(provider, model, **kwargs)

    monkeypatch.setattr(model_metadata, "model_info", counting)
    yield calls
    metadata.uninstall()  # forget what the counting wrapper answered
    metadata.install()


def use(lm, calls: int) -> None:
    for index in range(calls):
        assert lm(f"question {index}") and lm.supported_params  # the turn loop reads supported_params every turn


def test_the_metadata_scan_runs_once_per_model_not_per_call(counted):
    with LoopbackOpenAI() as server:
        lm = lm_for(ProgramSettings(model="openai/stub-model", api_base=server.url))
        metadata.uninstall()  # DSPy as shipped: the scan runs on every call (so this test can tell the two apart)
        metadata.install()
        use(lm, 1)
        assert metadata.installed() and 1 <= len(counted) <= 2  # DSPy asked; the memo asked the table once per key
        counted.clear()
        use(lm, CALLS)
        assert counted == []
        assert len(server.completions()) == CALLS + 1


def test_without_the_memo_the_scan_runs_on_every_call(counted):
    with LoopbackOpenAI() as server:
        lm = lm_for(ProgramSettings(model="openai/stub-model", api_base=server.url))
        metadata.uninstall()
        use(lm, CALLS)
        assert len(counted) >= 2 * CALLS  # what the memo removes: capabilities and pricing, every call


def test_memoized_answers_are_dspys_and_callers_get_copies():
    metadata.install()
    for provider, model in [("openai", "gpt-4o-mini"), ("openai-chat", "stub-model"), ("anthropic", "claude-3-5-haiku-latest")]:
        first = metadata.cached_model_info(provider, model)
        assert first == model_metadata.model_info(provider, model)
        first["mutated"] = True
        assert "mutated" not in metadata.cached_model_info(provider, model)
