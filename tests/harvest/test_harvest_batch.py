"""`strawberry harvest --batch` end to end: the real DSPy client and the real batch wire formats, against loopback
servers that run OpenAI's Batch API (`/v1/files`, `/v1/batches`) and Anthropic's Message Batches API.

The loopback model answers by the conversation alone (`batch_scripted.reply`), so a live harvest and a batch harvest
of the same seeds get the same replies: their stores must hold the same traces. Batches end after a number of polls,
never on a clock. A killed batch harvest: `test_harvest_batch_kill.py`.
"""

from __future__ import annotations

import pytest

from strawberry_dspy.cli import main
from strawberry_dspy.errors import UserError
from strawberry_dspy.executors.threads import ThreadExecutor
from strawberry_dspy.harvest import harvest
from strawberry_dspy.testing.loopback_anthropic import LoopbackAnthropic
from strawberry_dspy.testing.loopback_openai import LoopbackOpenAI
from tests.harvest.batch_scripted import KEY, PROBLEMS, SAMPLES, config, ledger_rows, reply, stored, waves_needed
from tests.harvest.scripted import write_problems


@pytest.fixture
def problems(tmp_path):
    return write_problems(tmp_path / "problems.jsonl", 40)  # the jsonl is split: limit takes PROBLEMS of train


@pytest.mark.parametrize("server_class, model", [(LoopbackOpenAI, "openai/stub-model"),
                                                 (LoopbackAnthropic, "anthropic/claude-haiku-4-5")])
def test_a_batch_harvest_stores_what_a_live_harvest_stores(tmp_path, problems, monkeypatch, server_class, model):
    monkeypatch.setenv("BATCH_TEST_KEY", KEY)
    with server_class(reply=reply) as server:  # the live reference: one trace after the other
        live = harvest(config(problems, model, server.url, concurrency=1), tmp_path / "live", samples=SAMPLES,
                       progress=False)
    with server_class(reply=reply, batch_polls=1) as server:  # each batch is "in progress" at its first poll
        batch = harvest(config(problems, model, server.url), tmp_path / "batch", samples=SAMPLES, batch=True,
                        batch_poll_s=0.0, progress=False)
        requests = list(server.requests)
        submitted = server.batches.submitted
        batches = list(server.batches.batches.values())
    expected = stored(tmp_path / "live")
    assert stored(tmp_path / "batch") == expected  # the same turns, answers, labels and token counts
    assert len(expected) == PROBLEMS * SAMPLES and 0 < batch.pass_rate < 1 and batch.pass_rate == live.pass_rate
    assert submitted == waves_needed(expected) == batch.batches.submitted >= 4  # one batch per turn, no more
    sizes = [len(b.requests) for b in batches]
    assert sizes[0] == PROBLEMS * SAMPLES and sizes == sorted(sizes, reverse=True)  # finished traces drop out
    assert batch.batches.sent == sum(sizes) and batch.batches.attached == 0
    assert not [r for r in requests if r.path.endswith(("/chat/completions", "/messages"))]  # no live call at all
    # every batch call carried the live call's key (the probe of an OpenAI-compatible server's /models carries none)
    calls = [r for r in requests if not r.path.endswith("/models")]
    if server_class is LoopbackOpenAI:
        assert {r.authorization for r in calls} == {f"Bearer {KEY}"}
    else:
        assert {r.headers.get("x-api-key") for r in calls} == {KEY}
        assert all(r.headers.get("anthropic-version") for r in calls)
        assert sum(turn[6] for _, turns in expected.values() for turn in turns) > 0  # the prompt cache was read
    # priced at half the live price: every trace is this run's
    assert batch.batch_cost.usd == pytest.approx(batch.cost.usd / 2) and batch.cost.usd > 0
    assert ledger_rows(tmp_path / "batch") == []  # a finished run leaves no ledger rows


def test_bad_batch_input_is_one_line_and_exit_2(tmp_path, problems, capsys):
    cases = [(["--model", "local"], "--batch sends the harvest to a provider's batch API, and 'local' is served on "
                                    "this machine; use openai/MODEL and anthropic/MODEL"),
             (["--model", "gemini/gemini-2.5-flash"], "--batch supports openai/MODEL and anthropic/MODEL (OpenAI's "
                                                      "and Anthropic's batch APIs), got 'gemini/gemini-2.5-flash'"),
             *[(["--model", "openai/stub-model", "--batch-poll-s", value],
                f"--batch-poll-s must be a finite number of seconds in [0, 3600], got {value}")
               for value in ("-1", "1e+300")],
             *[(["--model", "openai/stub-model", "--batch-poll-s", value], "must be a finite number, got")
               for value in ("nan", "inf")],
             (["--model", "openai/stub-model", "--cache=true"], "--batch and the recipe's cache: true do not go together")]
    for extra, message in cases:
        out = tmp_path / "never"
        code = main(["harvest", "programs/zero_shot.yaml", "--benchmark", f"jsonl:{problems}", "--split", "train",
                     "--out", str(out), "--batch", "--no-progress", *extra])
        err = capsys.readouterr().err
        errors = [line for line in err.splitlines() if line.startswith("error:")]
        assert code == 2 and len(errors) == 1 and message in errors[0], err
        assert "Traceback" not in err and not out.exists()  # refused before anything was written

    for poll_s in (float("nan"), 1e300):  # the Python API's too (a nan polled without a pause, 1e300 overflowed)
        with pytest.raises(UserError, match=r"--batch-poll-s must be a finite number of seconds in \[0, 3600\]"):
            harvest(config(problems, "openai/stub-model", "http://127.0.0.1:9/v1"), tmp_path / "nan", batch=True,
                    batch_poll_s=poll_s)

    class RayLike(ThreadExecutor):
        kind = "ray"

    with pytest.raises(UserError, match="--batch runs every trace on threads of this process"):
        harvest(config(problems, "openai/stub-model", "http://127.0.0.1:9/v1"), tmp_path / "ray", batch=True,
                executor=RayLike())
