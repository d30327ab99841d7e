"""A new harvest samples its first trace before it writes anything: a model that does not answer leaves no folder;
one that does starts the store with that trace (and the rest follow)."""

import pytest

from strawberry_dspy.errors import ProviderFailure
from strawberry_dspy.harvest import harvest
from strawberry_dspy.store import TraceStore
from strawberry_dspy.testing.loopback_openai import LoopbackOpenAI
from tests.harvest.scripted import harvest_config, write_problems


def test_a_server_whose_completions_fail_leaves_nothing_behind(tmp_path):
    """It lists its models (so the model is built) but every completion is refused, as with a wrong key."""
    with LoopbackOpenAI() as server:
        server.outage(600.0, "503")
        config = harvest_config(write_problems(tmp_path / "p.jsonl", 10), model="openai/stub-model",
                                api_base=server.url, retry={"budget_s": 0})
        with pytest.raises(ProviderFailure, match="did not answer the harvest's first request.*nothing was written"):
            harvest(config, tmp_path / "h", samples=2, progress=False)
    assert not (tmp_path / "h").exists()


def test_the_first_trace_is_stored_once_and_the_rest_follow(tmp_path):
    with LoopbackOpenAI("<final_answer>3</final_answer>") as server:
        config = harvest_config(write_problems(tmp_path / "p.jsonl", 10), model="openai/stub-model",
                                api_base=server.url, limit=4)
        summary = harvest(config, tmp_path / "h", samples=2, progress=False)
    assert summary.new == 8
    with TraceStore.open(tmp_path / "h") as store:
        assert sorted((t.problem_id, t.sample) for t in store.traces()) == sorted(
            {(t.problem_id, t.sample) for t in store.traces()})  # none twice
        assert len(list(store.traces())) == 8


def test_a_first_trace_that_fails_for_its_own_reason_is_stored_as_data(tmp_path):
    """A 400 (say, a request too long for the model) is the trace's outcome, not a provider that does not answer."""
    with LoopbackOpenAI("<final_answer>3</final_answer>") as server:
        server.inject("400")
        config = harvest_config(write_problems(tmp_path / "p.jsonl", 10), model="openai/stub-model",
                                api_base=server.url, limit=4, retry={"budget_s": 0})
        summary = harvest(config, tmp_path / "h", samples=1, progress=False)
    assert summary.new == 4 and summary.new_failed == 1 and (tmp_path / "h").is_dir()
