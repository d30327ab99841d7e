"""A `--batch` harvest killed (SIGKILL) while it waits for a batch: the rerun re-attaches to that batch (the
loopback counts the batches submitted: exactly one per turn in all) and stores what a live harvest stores."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

from strawberry_dspy.cli import main
from strawberry_dspy.config import config_from_dict
from strawberry_dspy.harvest import harvest
from strawberry_dspy.testing.loopback_openai import LoopbackOpenAI
from tests.harvest.batch_scripted import LOOP, PROBLEMS, SAMPLES, ledger_rows, reply, stored, waves_needed
from tests.harvest.scripted import write_problems

ROOT = Path(__file__).resolve().parents[2]


def test_a_killed_batch_harvest_reattaches_to_its_batch_in_flight(tmp_path, capsys):
    problems = write_problems(tmp_path / "problems.jsonl", 40)
    program = tmp_path / "program.yaml"
    program.write_text(yaml.safe_dump({"program": "strawberry", "benchmark": f"jsonl:{problems}", "split": "train",
                                       "limit": PROBLEMS, "strawberry": LOOP}))
    with LoopbackOpenAI(reply=reply) as server:
        assert harvest(config_from_dict({**yaml.safe_load(program.read_text()), "model": "openai/stub-model",
                                         "api_base": server.url, "concurrency": 1}),
                       tmp_path / "live", samples=SAMPLES, progress=False).new == PROBLEMS * SAMPLES
    expected = stored(tmp_path / "live")
    out = tmp_path / "batch"
    with LoopbackOpenAI(reply=reply) as server:
        args = ["harvest", str(program), "--model", "openai/stub-model", "--api-base", server.url, "--samples",
                str(SAMPLES), "--out", str(out), "--batch", "--batch-poll-s", "0", "--no-progress"]
        server.batches.hold(after=1)  # the second batch stays in progress: the harvest is killed waiting for it
        child = subprocess.Popen([sys.executable, "-m", "strawberry_dspy.cli", *args], cwd=ROOT,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            while not server.batches.wait_polled(2, timeout=1.0):  # the event: batch 2 recorded, and awaited
                assert child.poll() is None, f"the harvest ended before its second batch: {child.communicate()}"
        finally:
            child.kill()
            child.wait(timeout=60)
        assert server.batches.submitted == 2
        assert {batch_id for batch_id, status in ledger_rows(out) if status is None} == {"batch_0002"}

        server.batches.release()
        capsys.readouterr()
        assert main(args) == 0
        printed = capsys.readouterr().out
        assert server.batches.submitted == waves_needed(expected)  # batch 2 was not sent again
    assert stored(out) == expected
    # the first batch's answers replayed, the second re-attached to, the rest sent
    assert re.search(rf"batches +\d+ submitted, 1 re-attached; \d+ request\(s\) sent, {PROBLEMS * SAMPLES} answered "
                     "by an earlier run's batch", printed)
