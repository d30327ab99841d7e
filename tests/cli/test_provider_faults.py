"""`run` and `harvest` through a faulty provider: a real fault-injecting server on 127.0.0.1, the real CLI.

An outage is ridden out with every trace stored and one line saying so; a provider that never answers is one
error line naming the cause and the fix, and exit code 1; failed traces are sampled again by a plain rerun.
"""

import json

import pytest

from strawberry_dspy.cli import main
from strawberry_dspy.harvest.following import PROGRESS_META
from strawberry_dspy.store import TraceStore
from tests.harvest.scripted import write_problems
from strawberry_dspy.testing.loopback_openai import LoopbackOpenAI

FAST = ["--retry.backoff_base_s=0.05", "--retry.backoff_cap_s=0.2", "--retry.request_timeout_s=1"]


@pytest.fixture
def server():
    with LoopbackOpenAI(retry_after_s=0.2, hang_s=5.0) as loopback:
        yield loopback


@pytest.fixture
def problems(tmp_path):
    return write_problems(tmp_path / "problems.jsonl", 40)


def strawberry(server, problems, command, *args):
    return main([command, "programs/zero_shot.yaml", "--model", "openai/stub-model", "--api-base", server.url,
                 "--benchmark", f"jsonl:{problems}", "--concurrency", "2", *FAST, *args])


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


@pytest.mark.slow  # waits on real time or round-trips through TRL / the Hub: out of the quick loop
@pytest.mark.parametrize("command, extra", [("run", ["--split", "test", "--limit", "4"]),
                                            ("harvest", ["--limit", "4", "--samples", "2", "--no-progress"])])
def test_a_provider_that_never_answers_is_one_line_and_exit_1(server, problems, tmp_path, capsys, command, extra):
    server.outage(600.0, "503")
    code = strawberry(server, problems, command, *extra, "--retry.budget_s=0.3", "--out", str(tmp_path / "out"))
    captured = capsys.readouterr()
    assert code == 1
    (line,) = error_lines(captured.err)
    assert "HTTP 503" in line and "retry.budget_s=0.3" in line  # the cause
    assert "check the model and its server" in line  # the fix
    if command == "harvest":  # its first trace is sampled before the store exists: nothing is left behind
        assert "did not answer the harvest's first request" in line and "nothing was written" in line
        assert not (tmp_path / "out").exists()
    else:
        assert "traces failed" in line and "rerun" in line
    assert "accuracy" not in captured.out  # no table that reads like a result
    assert captured.err.count("retrying") <= 1  # at most the one outage line, not a line per retry


@pytest.mark.slow  # waits on real time (time limits, Retry-After, an outage): out of the quick loop
def test_a_harvest_rides_out_an_outage_and_says_so_once(server, problems, tmp_path, capsys):
    server.outage(3.0, "503")
    server.inject("429", "reset", "truncated", "empty")
    code = strawberry(server, problems, "harvest", "--limit", "6", "--samples", "2", "--no-progress",
                      "--retry.budget_s=30", "--out", str(tmp_path / "h"))
    captured = capsys.readouterr()
    assert code == 0, captured.err
    with TraceStore.open(tmp_path / "h") as store:
        traces = list(store.traces())
    assert len(traces) == 12 and not any(t.failed or t.error for t in traces)
    assert sum(server.faults_served.values()) >= 10
    assert captured.err.count("provider unavailable (HTTP 503") == 1
    assert captured.err.count("provider answering again") == 1
    assert "failed; rerunning" not in captured.out


def test_a_harvest_counts_429s_and_retries_and_says_rate_limited_once(server, problems, tmp_path, capsys):
    server.inject(*["429"] * 6)
    code = strawberry(server, problems, "harvest", "--limit", "4", "--samples", "2", "--no-progress",
                      "--retry.budget_s=30", "--out", str(tmp_path / "h"))
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert server.faults_served["429"] == 6
    row = next(line for line in captured.out.splitlines() if line.startswith("429s and retries"))
    assert "6 call(s) refused for the provider's rate (429), 6 call(s) tried again" in row
    assert captured.err.count("rate limited") <= 1 and "provider unavailable" not in captured.err
    with TraceStore.open(tmp_path / "h") as store:
        record = json.loads(store.meta()[PROGRESS_META])
    assert {k: record[k] for k in ("state", "done", "total", "planned", "failed", "rate_limited", "retries")} == {
        "state": "finished", "done": 8, "total": 8, "planned": 8, "failed": 0, "rate_limited": 6, "retries": 6}


def test_a_rerun_samples_failed_traces_again_unless_kept(server, problems, tmp_path, capsys):
    out = str(tmp_path / "h")
    server.inject(None, "503", "503")  # never retried with a zero budget: two traces after the first fail
    assert strawberry(server, problems, "harvest", "--limit", "6", "--samples", "1", "--no-progress",
                      "--retry.budget_s=0", "--out", out) == 0
    assert "2 trace(s) failed; rerunning the same command samples them again" in capsys.readouterr().out
    before = len(server.completions())
    assert strawberry(server, problems, "harvest", "--limit", "6", "--samples", "1", "--no-progress",
                      "--keep-failed", "--out", out) == 0
    assert len(server.completions()) == before and "2 trace(s) failed" in capsys.readouterr().out
    assert strawberry(server, problems, "harvest", "--limit", "6", "--samples", "1", "--no-progress",
                      "--out", out) == 0
    assert len(server.completions()) == before + 2
    with TraceStore.open(tmp_path / "h") as store:
        assert store.outcomes()[:2] == (6, 0)
