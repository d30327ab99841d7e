"""The real thing: `strawberry harvest` on the embedded model, killed with SIGKILL part-way, resumed, then `stats`."""

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from strawberry_dspy.store import TraceStore
from tests.harvest.test_harvest_kill import ROOT, rows, wait_for

pytestmark = [pytest.mark.integration,
              pytest.mark.filterwarnings("ignore:Passing OpenAI-style message:DeprecationWarning")]

CLI = [sys.executable, "-c", "import sys; from strawberry_dspy.cli import main; sys.exit(main(sys.argv[1:]))"]
PROBLEMS, SAMPLES = 2, 2
SHORT = ["--strawberry.max_turns=2", "--strawberry.step_tokens=24", "--strawberry.check_tokens=16"]


def harvest_command(out: Path) -> list[str]:
    return [*CLI, "harvest", "programs/strawberry.yaml", "--benchmark",
            "reasoning_gym:basic_arithmetic?min_terms=2&max_terms=2&max_digits=1", "--limit", str(PROBLEMS),
            "--samples", str(SAMPLES), "--concurrency", "2", "--temperature", "1.0", "--out", str(out), "--no-progress",
            *SHORT]


def test_embedded_model_harvest_survives_a_kill_resumes_and_reports(tmp_path):
    out = tmp_path / "h"
    child = subprocess.Popen(harvest_command(out), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(out, 1, child, timeout=240)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    before, _, _ = rows(out)
    assert 1 <= len(before) < PROBLEMS * SAMPLES

    rerun = subprocess.run(harvest_command(out), cwd=ROOT, capture_output=True, text=True, timeout=400)
    assert rerun.returncode == 0, rerun.stderr
    after, orphans, bare = rows(out)
    assert len(after) == PROBLEMS * SAMPLES and orphans == bare == 0
    assert all(after[key] == row for key, row in before.items())
    with TraceStore.open(out) as store:
        traces = list(store.traces())
        assert store.meta()["temperature"] == "1.0" and store.meta()["model"] == "local"
        assert all(t.completion_tokens > 0 and t.stop_reason != "error" for t in traces)
        assert sum(t.cached_tokens for t in traces) > 0  # later turns reuse the conversation prefix
        firsts = {}
        for t in traces:
            step = next(turn.content for turn in store.turns(t.id) if turn.role == "assistant")
            firsts.setdefault(t.problem_id, set()).add(step)
        assert any(len(steps) == SAMPLES for steps in firsts.values())  # distinct samples, not cached replies

    stats = subprocess.run([*CLI, "stats", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert stats.returncode == 0, stats.stderr
    assert "traces by stop reason" in stats.stdout and "cost               none (served on this machine" in stats.stdout
    assert (out / "pass_rates.png").stat().st_size > 10_000
