"""`strawberry harvest --batch` when the provider fails: a key it refuses, a server without a batch API, transient
errors inside a batch and around it, a trace that fails. Loopback servers, batches that end at a poll, never a clock.
"""

from __future__ import annotations

import pytest

from strawberry_dspy.cli import main
from strawberry_dspy.cost import PER_MILLION
from strawberry_dspy.harvest import harvest
from strawberry_dspy.testing.loopback_anthropic import LoopbackAnthropic
from strawberry_dspy.testing.loopback_openai import LoopbackOpenAI
from tests.harvest.batch_scripted import KEY, PRICES, PROBLEMS, SAMPLES, config, ledger_rows, reply, stored
from tests.harvest.scripted import write_problems

MODEL = "openai/stub-model"


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """(problems file, the live harvest's store): what every batch harvest here must store in the end."""
    folder = tmp_path_factory.mktemp("live")
    problems = write_problems(folder / "problems.jsonl", 40)
    with pytest.MonkeyPatch.context() as patch, LoopbackOpenAI(reply=reply) as server:
        patch.setenv("BATCH_TEST_KEY", KEY)
        harvest(config(problems, MODEL, server.url, concurrency=1), folder / "live", samples=SAMPLES, progress=False)
    return problems, stored(folder / "live")


@pytest.fixture(autouse=True)
def key(monkeypatch):
    """The key every harvest here sends (a server with another `api_key` refuses it)."""
    monkeypatch.setenv("BATCH_TEST_KEY", KEY)


def calls(traces: dict) -> int:
    """LM calls in all: one per assistant turn."""
    return sum(turn[1] == "assistant" for _, turns in traces.values() for turn in turns)


@pytest.mark.parametrize("fault", ["lines", "results", "poll"])
def test_transient_errors_in_and_around_a_batch_are_ridden_out(tmp_path, live, fault):
    problems, expected = live
    with LoopbackOpenAI(reply=reply) as server:
        # no retry budget at all (a real batch's wait outlasts any): only the waves may send a request again
        settings = config(problems, MODEL, server.url, retry={"budget_s": 0})
        if fault == "lines":  # two requests of the first batch answered 500 and 429: they go into the error file
            server.inject("500", None, "429")
        else:  # downloading the results / polling the batch fails transiently, twice
            server.batches.refuse(fault, 503, 502)
        summary = harvest(settings, tmp_path / "batch", samples=SAMPLES, batch=True, batch_poll_s=0.0, progress=False)
        batches = list(server.batches.batches.values())
    assert stored(tmp_path / "batch") == expected and summary.new_failed == 0
    if fault == "lines":
        assert [status for _, status, _ in batches[0].answers][:3] == [500, 200, 429]
        assert summary.batches.sent == calls(expected) + 2  # the two sent again, in the next batch
    else:
        assert summary.batches.sent == calls(expected) and server.batches.refused == [(fault, 503), (fault, 502)]


def test_a_failed_traces_answers_stay_for_its_rerun_which_pays_only_for_the_rest(tmp_path, live):
    problems, expected = live
    out = tmp_path / "batch"
    with LoopbackOpenAI(reply=reply) as server:
        settings = config(problems, MODEL, server.url)
        server.inject(*[None] * (PROBLEMS * SAMPLES), "400")  # the second batch's first request is refused for good
        first = harvest(settings, out, samples=SAMPLES, batch=True, batch_poll_s=0.0, progress=False)
        assert first.new_failed == 1 and first.new == PROBLEMS * SAMPLES
        failed = next(key for key, (row, _) in stored(out).items() if row[5] == "error")
        assert ledger_rows(out) == [("batch_0001", 200)]  # its first answer, kept although the run finished
        second = harvest(settings, out, samples=SAMPLES, batch=True, batch_poll_s=0.0, progress=False)
    assert second.new == 1 and second.new_failed == 0 and second.batches.replayed == 1
    assert stored(out) == expected and ledger_rows(out) == []
    # the rerun's batches brought every reply of that trace but its first (the first run's batch paid for that one)
    turns = [turn for turn in expected[failed][1] if turn[1] == "assistant"][1:]
    usd = sum(t[4] * PRICES["input"] + t[5] * PRICES["output"] for t in turns) / PER_MILLION * 0.5
    assert turns and second.batch_cost.usd == pytest.approx(usd)


@pytest.mark.parametrize("server_class, model, server_args, words", [
    (LoopbackOpenAI, MODEL, {"api_key": "the-right-key"}, "HTTP 401"),
    (LoopbackAnthropic, "anthropic/claude-haiku-4-5", {"api_key": "the-right-key"}, "the provider refused the key"),
    (LoopbackOpenAI, MODEL, {"batch_api": False}, "this server has no batch API"),
])
def test_a_wrong_key_or_a_server_without_a_batch_api_is_one_line_and_leaves_nothing(tmp_path, live, capsys,
                                                                                    server_class, model, server_args,
                                                                                    words):
    problems, _ = live
    out = tmp_path / "never"
    with server_class(reply=reply, **server_args) as server:
        code = main(["harvest", "programs/zero_shot.yaml", "--benchmark", f"jsonl:{problems}", "--split", "train",
                     "--limit", str(PROBLEMS), "--model", model, "--api-base", server.url,
                     "--api_key_env=BATCH_TEST_KEY", "--out", str(out), "--batch", "--no-progress"])
        submitted = server.batches.submitted
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert code == 1 and len(errors) == 1 and words in errors[0] and "nothing was written" in errors[0], err
    assert "Traceback" not in err and not out.exists() and submitted == 0
