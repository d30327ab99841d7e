"""A harvest process killed (SIGKILL) or interrupted (SIGINT) part-way resumes with nothing lost or duplicated."""

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import yaml

from strawberry_dspy.harvest import sample_seed
from tests.harvest.scripted import write_problems

ROOT = Path(__file__).resolve().parents[2]
PROBLEMS, SAMPLES = 8, 4
TOTAL = PROBLEMS * SAMPLES


def setup(tmp_path):
    problems = write_problems(tmp_path / "problems.jsonl", 60)
    program = tmp_path / "program.yaml"
    program.write_text(yaml.safe_dump({
        "program": "strawberry", "benchmark": f"jsonl:{problems}", "split": "train", "limit": PROBLEMS,
        "strawberry": {"check_every": 1, "verifier_every": 0, "max_turns": 4, "force_answer": False}}))
    return problems, program


def start(problems, program, out, delay, *extra):
    args = [sys.executable, "-m", "tests.harvest.harvest_child", str(problems), str(delay), "harvest", str(program),
            "--samples", str(SAMPLES), "--concurrency", "2", "--out", str(out), "--no-progress", *extra]
    return subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def stored(out) -> int:
    try:
        with sqlite3.connect(f"file:{out / 'traces.sqlite'}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute("SELECT COUNT(*) FROM traces").fetchone()[0]
    except sqlite3.Error:  # not created yet
        return 0


def wait_for(out, at_least: int, process, timeout=120.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if (count := stored(out)) >= at_least:
            return count
        time.sleep(0.02)
    process.kill()
    raise AssertionError(f"harvest ended or stalled before {at_least} traces: {process.communicate()}")


def rows(out):
    with sqlite3.connect(out / "traces.sqlite") as conn:
        traces = conn.execute("SELECT id, problem_id, sample, seed, created_at, correct FROM traces").fetchall()
        orphans = conn.execute("SELECT COUNT(*) FROM turns WHERE trace_id NOT IN (SELECT id FROM traces)").fetchone()[0]
        bare = conn.execute("SELECT COUNT(*) FROM traces WHERE id NOT IN (SELECT trace_id FROM turns)").fetchone()[0]
    return {(r[1], r[2]): r for r in traces}, orphans, bare


def test_sigkill_mid_harvest_then_rerun_completes_exactly_once(tmp_path):
    problems, program = setup(tmp_path)
    out, paused = tmp_path / "h", tmp_path / "model-paused"
    child = start(problems, program, out, f"pause:14:{paused}")  # >= 6 traces (2 in flight), then it holds every call
    wait_for_file(paused, child)
    wait_for(out, 6, child)  # the last of them may be committed just after the model paused
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    before, orphans, bare = rows(out)
    assert 6 <= len(before) < TOTAL and orphans == bare == 0  # every stored trace is whole

    rerun = start(problems, program, out, 0.0)
    stdout, stderr = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, stderr
    after, orphans, bare = rows(out)
    assert len(after) == TOTAL and orphans == bare == 0
    assert all(after[key] == row for key, row in before.items())  # resumed, not redone
    assert all(row[3] == sample_seed(0, *key) for key, row in after.items())
    assert f"{TOTAL}  ({TOTAL - len(before)} new, 0 failed)" in stdout


def wait_for_file(path: Path, process, timeout=120.0) -> None:
    """Wait until the scripted model creates `path` (its event), or fail when the process ends first."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"the model never paused: {process.communicate()}")
        time.sleep(0.02)


def test_ctrl_c_stops_cleanly_and_the_rerun_finishes(tmp_path):
    problems, program = setup(tmp_path)
    out, paused = tmp_path / "h", tmp_path / "model-paused"
    # the model answers 8 calls (4 traces), then holds every call until the SIGINT: the harvest cannot finish first
    child = start(problems, program, out, f"pause:8:{paused}")
    wait_for_file(paused, child)
    child.send_signal(signal.SIGINT)
    stdout, stderr = child.communicate(timeout=60)
    assert child.returncode == 130, stderr
    assert "Traceback" not in stderr and "interrupted: rerun the same command to resume" in stdout
    before, orphans, bare = rows(out)
    assert 4 <= len(before) < TOTAL and orphans == bare == 0

    rerun = start(problems, program, out, 0.0)
    _, stderr = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, stderr
    assert len(rows(out)[0]) == TOTAL
