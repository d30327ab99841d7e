"""`--executor ray` on a local Ray instance (2 CPUs, one per module): harvests against a loopback OpenAI-compatible
server and the embedded model, the same traces as threads, a worker killed mid-harvest, a killed driver resumed."""

import dataclasses
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time

import pytest
import yaml

from strawberry_dspy.benchmarks import load_benchmark
from strawberry_dspy.config import config_from_dict
from strawberry_dspy.errors import UserError
from strawberry_dspy.evaluate import run_program
from strawberry_dspy.executors.threads import ThreadExecutor
from strawberry_dspy.harvest import harvest
from strawberry_dspy.program.build import build_program
from tests.harvest.scripted import write_problems
from tests.harvest.test_harvest_kill import ROOT, rows, stored, wait_for
from strawberry_dspy.testing.loopback_openai import LoopbackOpenAI

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

CLI = [sys.executable, "-c", "import sys; from strawberry_dspy.cli import main; sys.exit(main(sys.argv[1:]))"]
LOOP = {"check_every": 1, "verifier_every": 0, "max_turns": 4, "force_answer": False}


@pytest.fixture(scope="module")
def cluster():
    """One local Ray instance for the module: 2 CPUs, no dashboard; yields its address."""
    context = ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield context.address_info["address"]
    ray.shutdown()


@pytest.fixture(scope="module")
def executor(cluster):
    """A Ray executor on the module's instance (it joins it, and leaves it running when closed)."""
    from strawberry_dspy.executors.ray_executor import RayExecutor

    ray_executor = RayExecutor()
    yield ray_executor
    ray_executor.close()


@pytest.fixture
def problems(tmp_path):
    return write_problems(tmp_path / "problems.jsonl", 40)


def loopback_config(problems, url, **extra):
    return config_from_dict({"program": "strawberry", "model": "openai/stub-model", "api_base": url,
                             "benchmark": f"jsonl:{problems}", "split": "train", "limit": 4, "concurrency": 2,
                             "strawberry": LOOP, **extra})


def contents(out):
    """Every stored trace's outcome and turns, by (problem, sample): what two executors must agree on."""
    with sqlite3.connect(f"file:{out / 'traces.sqlite'}?mode=ro", uri=True) as conn:
        traces = {(r[0], r[1]): r[2:] for r in conn.execute(
            "SELECT problem_id, sample, seed, final_answer, correct, stop_reason, steps, completion_tokens, id FROM traces")}
        turns = {}
        for key, row in traces.items():
            turns[key] = conn.execute("SELECT idx, role, kind, content FROM turns WHERE trace_id = ? ORDER BY idx",
                                      (row[-1],)).fetchall()
    return {key: row[:-1] for key, row in traces.items()}, turns


def test_loopback_harvest_on_two_workers_matches_threads(executor, problems, tmp_path):
    with LoopbackOpenAI() as server:
        config = loopback_config(problems, server.url)
        on_ray = harvest(config, tmp_path / "ray", samples=2, progress=False, executor=executor)
        ray_calls = len(server.completions())
        on_threads = harvest(config, tmp_path / "threads", samples=2, progress=False, executor=ThreadExecutor())
        thread_calls = len(server.completions()) - ray_calls
    assert (on_ray.new, on_ray.traces, on_ray.failed, on_ray.rerun) == (8, 8, 0, 0)
    assert len(on_ray.per_node) == 1 and sum(on_ray.per_node.values()) > 0  # one node: this machine
    assert contents(tmp_path / "ray") == contents(tmp_path / "threads")
    assert ray_calls == thread_calls >= 8  # nothing sampled twice


def test_run_program_on_ray_scores_every_problem_in_order(executor, problems):
    with LoopbackOpenAI(reply="<final_answer>7</final_answer>") as server:
        config = loopback_config(problems, server.url, limit=5)
        benchmark = load_benchmark(config.benchmark)
        chosen = benchmark.problems("train", 5)
        on_ray, on_threads = {}, {}
        results = run_program(build_program(config), chosen, benchmark, None, 2, progress=False, config=config,
                              executor=executor, per_node=on_ray)
        run_program(build_program(config), chosen, benchmark, None, 2, progress=False, config=config,
                    executor=ThreadExecutor(), per_node=on_threads)
    assert [r.problem_id for r in results] == [p.id for p in chosen]
    assert [r.correct for r in results] == [p.answer == "7" for p in chosen] and any(r.correct for r in results)
    assert set(on_ray) == set(on_threads) == {socket.gethostname()}  # one label for this host, whichever executor
    assert all(rate > 0 for rate in [*on_ray.values(), *on_threads.values()])


def test_ray_says_what_it_joined(cluster):
    from loguru import logger

    from strawberry_dspy.executors.ray_executor import RayExecutor

    lines = []
    logger.enable("strawberry_dspy")
    sink = logger.add(lambda message: lines.append(message.record["message"]), level="INFO")
    try:
        RayExecutor()  # this process's instance: joined, left running
    finally:
        logger.remove(sink)
    address = ray.get_runtime_context().gcs_address
    assert f"ray: joined this process's Ray instance at {address}: 1 node(s) ({socket.gethostname()}), 2 CPU(s)" in lines


def test_run_on_ray_prints_the_per_node_row_of_a_harvest(cluster, problems, tmp_path):
    program = tmp_path / "program.yaml"
    program.write_text(yaml.safe_dump({"program": "strawberry", "benchmark": f"jsonl:{problems}", "split": "train",
                                       "limit": 3, "strawberry": LOOP}))
    with LoopbackOpenAI() as server:
        done = subprocess.run([*CLI, "run", str(program), "--model", "openai/stub-model", "--api-base", server.url,
                               "--out", str(tmp_path / "r"), "--executor", "ray", "--ray-address", cluster],
                              cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    row = next(line for line in done.stdout.splitlines() if line.startswith("per node"))
    assert f"{socket.gethostname()} " in row and row.endswith("traces/s")
    assert f"ray: joined the running Ray cluster at {cluster} (--ray-address {cluster}): 1 node(s)" in done.stderr


def test_a_worker_killed_mid_harvest_loses_and_duplicates_nothing(executor, problems, tmp_path):
    out = tmp_path / "h"
    with LoopbackOpenAI(latency_s=0.1) as server:
        config = loopback_config(problems, server.url, limit=6)
        done = {}
        thread = threading.Thread(target=lambda: done.update(summary=harvest(
            config, out, samples=2, progress=False, executor=executor)))
        thread.start()
        deadline = time.monotonic() + 120
        while stored(out) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(executor.pids[0], signal.SIGKILL)  # busy: each worker always has a unit in flight
        thread.join(timeout=240)
    summary = done["summary"]
    assert summary.rerun >= 1  # the killed worker's unit ran again ...
    after, orphans, bare = rows(out)
    assert (summary.new, summary.traces, len(after), orphans, bare) == (12, 12, 12, 0, 0)  # ... and was stored once


def test_a_killed_driver_resumes_on_the_cluster(cluster, problems, tmp_path):
    program = tmp_path / "program.yaml"
    program.write_text(yaml.safe_dump({"program": "strawberry", "benchmark": f"jsonl:{problems}", "split": "train",
                                       "limit": 8, "strawberry": LOOP}))
    out = tmp_path / "h"
    with LoopbackOpenAI(latency_s=0.05) as server:
        command = [*CLI, "harvest", str(program), "--model", "openai/stub-model", "--api-base", server.url,
                   "--samples", "4", "--concurrency", "2", "--out", str(out), "--no-progress",
                   "--executor", "ray", "--ray-address", cluster]
        child = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_for(out, 4, child, timeout=180)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        before, _, _ = rows(out)
        assert 4 <= len(before) < 32

        rerun = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert rerun.returncode == 0, rerun.stderr
    after, orphans, bare = rows(out)
    assert len(after) == 32 and orphans == bare == 0
    assert all(after[key] == row for key, row in before.items())  # resumed, not redone
    assert f"32  ({32 - len(before)} new, 0 failed)" in rerun.stdout and "traces/s" in rerun.stdout


def test_a_bad_embedded_model_is_one_user_error(executor, problems, tmp_path):
    config = config_from_dict({"program": "strawberry", "model": f"local:{tmp_path / 'missing.gguf'}",
                               "benchmark": f"jsonl:{problems}", "split": "train", "limit": 2, "strawberry": LOOP})
    with pytest.raises(UserError, match="GGUF model file not found"):
        harvest(config, tmp_path / "h", samples=1, progress=False, executor=executor)


@pytest.mark.integration
def test_embedded_model_on_ray_gives_the_threads_traces_greedy_one_slot(executor, problems, tmp_path):
    config = config_from_dict({"program": "strawberry", "model": "local", "slots": 1, "concurrency": 1,
                               "benchmark": "reasoning_gym:basic_arithmetic?min_terms=2&max_terms=2&max_digits=1",
                               "split": "train", "limit": 3,
                               "strawberry": {"max_turns": 2, "step_tokens": 24, "check_tokens": 16}})
    config.set_temperature(0.0)
    on_ray = harvest(config, tmp_path / "ray", samples=2, progress=False, executor=executor)
    on_threads = harvest(config, tmp_path / "threads", samples=2, progress=False, executor=ThreadExecutor())
    assert on_ray.new == on_threads.new == 6 and on_ray.failed == 0
    ray_traces, ray_turns = contents(tmp_path / "ray")
    thread_traces, thread_turns = contents(tmp_path / "threads")
    # The same units with the same seeds, each stored once. The texts are compared exactly against the loopback
    # server above, not here: llama.cpp reuses cached prompt prefixes, and the batch shapes that reuse leaves
    # change greedy logits slightly, so the driver's engine (warm from earlier work) and the node's fresh one can
    # pick different tokens on near ties (seen in CI; programs.md records the same effect between runs).
    assert {k: v[0] for k, v in ray_traces.items()} == {k: v[0] for k, v in thread_traces.items()}
    assert all(turns and turns[0][1:3] == thread_turns[key][0][1:3] for key, turns in ray_turns.items())
    assert sum(r[5] for r in ray_traces.values()) > 0  # the model really generated
    assert len(executor.engines) == 1  # one engine for the node, not one per worker or task

    two = harvest(dataclasses.replace(config, concurrency=2), tmp_path / "two", samples=2, progress=False,
                  executor=executor)
    assert two.new == 6 and two.failed == 0 and len(executor.engines) == 1
