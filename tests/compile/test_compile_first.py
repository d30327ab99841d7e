"""`compile` asks a remote model one short request before it claims its folder: a model that does not answer (a
wrong key, a server whose completions fail) leaves nothing behind; one that answers compiles as before.

A real OpenAI-compatible server on 127.0.0.1 (testing/loopback_openai.py), the real CLI."""

import pytest

from strawberry_dspy.cli import main
from strawberry_dspy.models.probe import PROBE
from strawberry_dspy.testing.loopback_openai import LoopbackOpenAI
from tests.harvest.scripted import write_problems

FAST = ["--retry.backoff_base_s=0.05", "--retry.backoff_cap_s=0.1", "--retry.request_timeout_s=5",
        "--retry.budget_s=0"]


def compile_with(server, tmp_path, *args):
    problems = write_problems(tmp_path / "problems.jsonl", 40)
    return main(["compile", "programs/zero_shot.yaml", "--model", "openai/stub-model", "--api-base", server.url,
                 "--benchmark", f"jsonl:{problems}", "--dev-limit", "2", "--test-limit", "0", "--budget", "1",
                 "--concurrency", "1", *FAST, "--out", str(tmp_path / "compiled"), *args])


def only_error_line(stderr: str) -> str:
    (line,) = [line for line in stderr.splitlines() if line.startswith("error:")]
    return line


def test_a_server_whose_completions_fail_leaves_nothing_behind(tmp_path, capsys):
    """It lists its models (so the model is built), but every completion fails."""
    with LoopbackOpenAI() as server:
        server.outage(600.0, "503")
        code = compile_with(server, tmp_path)
    line = only_error_line(capsys.readouterr().err)
    assert code == 1
    assert "did not answer compile's first request" in line and "HTTP 503" in line and "nothing was written" in line
    assert not (tmp_path / "compiled").exists()


def test_a_wrong_key_leaves_nothing_behind(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SWEEP_SERVER_KEY", "wrong")
    with LoopbackOpenAI(api_key="right") as server:
        code = compile_with(server, tmp_path, "--api_key_env=SWEEP_SERVER_KEY")
    line = only_error_line(capsys.readouterr().err)
    assert code == 1 and "LMAuthError" in line and "nothing was written" in line, line
    assert not (tmp_path / "compiled").exists()


@pytest.mark.slow  # a whole compile: out of the quick loop
def test_a_model_that_answers_compiles_and_is_asked_past_the_cache(tmp_path, capsys):
    with LoopbackOpenAI("<final_answer>3</final_answer>") as server:
        assert compile_with(server, tmp_path) == 0, capsys.readouterr().err
        first = server.completions()[0].body
    assert first["messages"] == [{"role": "user", "content": PROBE}]
    assert first.get("max_completion_tokens", first.get("max_tokens")) <= 16  # a few tokens: only that it answers
    assert (tmp_path / "compiled" / "compiled.json").is_file()
