"""Throughput at scale, side by side in one run: harvest vs plain httpx, export and stats on large stores, cold start.

    python eval/throughput/throughput.py --out eval/throughput/report.md [--sizes 10000 30000 100000] [--in-flight 1 8 32 64]
        [--latencies 0 0.1] [--baseline-tree /work/main [--baseline-every-size]] [--repeats N]
        [--only harvest executor storage cold]

1. Harvest: `strawberry_full` (27 LM calls a trace) through `harvest()` against a loopback OpenAI-compatible server
   in a child process (`strawberry_dspy/testing/loopback_fast.py`: one asyncio loop, keep-alive, DELAY_S of latency per request as a
   timer, ~0.1 ms of its CPU a request), C traces in flight, each harvest a child process running this tree's code
   (and the baseline tree's, in turn); then the same chat bodies (each call's chat so far, rebuilt from the store)
   replayed by C plain `httpx` threads against the same server, one trace per thread at a time. Framework CPU per
   turn = harvest CPU per LM call - httpx CPU per call (each the client process's). --only writes just the parts
   measured into an existing --out, the other sections as they were.
2. The executor's bookkeeping: DSPy's ParallelExecutor vs the harvest's `ThreadExecutor` (executors/) on 6,400
   sleeping tasks, 64 threads.
3. Export (sft and dpo, jsonl) and stats on synthetic stores (`eval/throughput/synthetic_store.py`, written through the store's
   write API) of each size, each command a child process: wall time, CPU time and peak RSS (wait4). With
   --baseline-tree, the tree's own code runs on a schema-2 copy (no stated_answers) of the smallest store, beside it;
   with --baseline-every-size too, on the same store at every size.
4. Cold start: `strawberry run programs/strawberry.yaml --limit 1` until its first request reaches a zero-latency
   server (= its first token there): wall and CPU (the child's, from /proc), median of --cold-runs; this tree with an
   empty problem cache and with a filled one (benchmarks/problem_cache.py), and the baseline tree.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import httpx

from synthetic_store import grow  # beside this script, whose folder Python puts first on sys.path
from strawberry_dspy.config import load_config
from strawberry_dspy.harvest import harvest
from strawberry_dspy.report import format_grid
from strawberry_dspy.store import TraceStore
from strawberry_dspy.testing.loopback_openai import LoopbackOpenAI

SECTIONS = ("harvest", "executor", "storage", "cold")
REPLY = "Let me add the two numbers."  # never a final answer: every trace runs its whole budget
HARVEST_HEADING = "## Harvest vs plain httpx"
PYTHON = sys.executable


class Server:
    """The cheap loopback server (`strawberry_dspy/testing/loopback_fast.py`) in a child process, so its CPU is not the client's."""

    def __init__(self, delay: float):
        self.process = subprocess.Popen([PYTHON, "-m", "strawberry_dspy.testing.loopback_fast", REPLY, str(delay)], cwd=ROOT,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.url = self.process.stdout.readline().strip()

    def stats(self, reset: bool = False) -> dict:
        """The server's counters (requests served, connections and requests in flight at their peak, its CPU s);
        with `reset`, the peaks restart first."""
        self.process.stdin.write("reset\n" if reset else "\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


def problems_file(folder: Path, count: int) -> str:
    path = folder / "problems.jsonl"
    path.write_text("".join(json.dumps({"question": f"What is {i} + {i % 7}?", "answer": str(i + i % 7)}) + "\n"
                            for i in range(count)))
    return f"jsonl:{path}"


# One harvest in a child process with a tree's code first on the path (this checkout or --baseline-tree), after a
# 2-trace warm-up (imports, the client's set-up, first connections); prints {calls, cpu, wall, traces}.
HARVEST = """
import json, logging, sys, time
from strawberry_dspy.config import load_config
from strawberry_dspy.harvest import harvest
from strawberry_dspy.store import TraceStore

ROOT = Path(__file__).resolve().parents[2]
url, benchmark, out = sys.argv[1:4]
traces, in_flight = map(int, sys.argv[4:6])
logging.getLogger("dspy").setLevel(logging.ERROR)
def once(traces, in_flight, out):
    config = load_config("programs/strawberry_full.yaml", {
        "model": "openai/stub-model", "api_base": url, "cache": False, "concurrency": in_flight,
        "benchmark": benchmark, "split": "train", "limit": traces, "scorer": "numeric"})
    cpu, wall = time.process_time(), time.perf_counter()
    summary = harvest(config, out, samples=1, progress=False, fresh=True)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    assert summary.new_failed == 0, "a benchmark trace failed"
    with TraceStore.open(out) as store:
        calls = store.conn.execute("SELECT COUNT(*) FROM turns WHERE role IN ('assistant', 'verifier')").fetchone()[0]
    return {"calls": calls, "cpu": cpu, "wall": wall, "traces": summary.new}
once(2, min(2, in_flight), out + "-warm")  # no wider than the run: the peak at the server is the run's
sys.stderr.flush()
print("RESULT " + json.dumps(once(traces, in_flight, out)))
"""


def run_harvest(tree: Path, server: Server, benchmark: str, traces: int, in_flight: int, out: Path) -> dict:
    """`traces` strawberry_full traces, `in_flight` at a time, by `tree`'s code; with the server's counters."""
    before = server.stats(reset=True)
    done = subprocess.run([PYTHON, "-c", HARVEST, server.url, benchmark, str(out), str(traces), str(in_flight)],
                          cwd=tree, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(tree)})
    if done.returncode:
        raise SystemExit(f"the harvest of {tree} failed: {done.stderr[-3000:]}")
    result = json.loads(done.stdout.rpartition("RESULT ")[2])
    return {**result, "server": _server_figures(before, server.stats())}


def _server_figures(before: dict, after: dict) -> dict:
    """The server's peak of requests in flight and its CPU seconds per request between two readings."""
    return {"peak_in_flight": after["peak_in_flight"],
            "cpu_per_call": (after["cpu_s"] - before["cpu_s"]) / max(after["served"] - before["served"], 1)}


def replay_bodies(out: Path) -> list[list[dict]]:
    """Per trace, one chat-completions body per LM call: the main chat up to that call."""
    plans = []
    with TraceStore.open(out) as store:
        for row in store.traces(include_failed=False):
            chat, bodies = [], []
            for turn in store.turns(row.id):
                if turn.role in ("assistant", "verifier"):
                    bodies.append({"model": "stub-model", "max_tokens": 64, "temperature": 0.7,
                                   "messages": list(chat)})
                if turn.role in ("system", "user") or (turn.role == "assistant" and turn.kind != "title"):
                    chat.append({"role": turn.role, "content": turn.content})
            plans.append(bodies)
    return plans


def run_httpx(server: Server, plans: list[list[dict]], in_flight: int) -> dict:
    limits = httpx.Limits(max_connections=in_flight, max_keepalive_connections=in_flight)
    with httpx.Client(base_url=server.url, headers={"Authorization": "Bearer local"}, limits=limits) as client:
        client.post("/chat/completions", json=plans[0][0]).raise_for_status()  # connection set-up outside the timing
        queue, lock = list(plans), threading.Lock()

        def worker() -> None:
            while True:
                with lock:
                    if not queue:
                        return
                    bodies = queue.pop()
                for body in bodies:
                    client.post("/chat/completions", json=body).json()

        threads = [threading.Thread(target=worker) for _ in range(in_flight)]
        before = server.stats(reset=True)
        cpu, wall = time.process_time(), time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        return {"calls": sum(map(len, plans)), "cpu": cpu, "wall": wall,
                "server": _server_figures(before, server.stats())}


def harvest_section(args, tmp: Path) -> list:
    """Per (latency, in flight): this tree, the baseline tree and plain httpx against one server, --repeats times
    in turn (medians reported)."""
    benchmark = problems_file(tmp, 4 * max(args.traces_per_thread * max(args.in_flight), 8))
    trees = [("this tree", ROOT)] + ([(f"baseline ({args.baseline_tree})", Path(args.baseline_tree))]
                                     if args.baseline_tree else [])
    rows = []
    for delay in args.latencies:
        server = Server(delay)
        try:
            for in_flight in args.in_flight:
                traces = max(args.traces_per_thread * in_flight, 4)
                runs: dict[str, list[dict]] = {label: [] for label, _ in trees + [("plain httpx", None)]}
                for repeat in range(args.repeats):
                    for label, tree in trees if repeat % 2 == 0 else trees[::-1]:  # neither always goes first
                        out = tmp / f"h{delay}-{in_flight}-{repeat}-{label.split()[0]}"
                        runs[label].append(run_harvest(tree, server, benchmark, traces, in_flight, out))
                    plans = replay_bodies(tmp / f"h{delay}-{in_flight}-{repeat}-this")
                    runs["plain httpx"].append(run_httpx(server, plans, in_flight))
                httpx_cpu = statistics.median(r["cpu"] / r["calls"] for r in runs["plain httpx"])
                for label, measured_runs in runs.items():
                    rows.append(_harvest_row(delay, in_flight, label, measured_runs, httpx_cpu))
                    print(rows[-1], file=sys.stderr)
        finally:
            server.close()
    return rows


def _harvest_row(delay: float, in_flight: int, label: str, runs: list[dict], httpx_cpu: float) -> list[str]:
    rate = statistics.median(r["calls"] / r["wall"] for r in runs)
    cpu = statistics.median(r["cpu"] / r["calls"] for r in runs)
    server_cpu = statistics.median(r["server"]["cpu_per_call"] for r in runs)
    ideal = in_flight / delay if delay else None
    return [f"{delay * 1000:.0f}", str(in_flight), label, str(runs[0]["calls"]),
            " ".join(f"{r['calls'] / r['wall']:.0f}" for r in runs), f"{rate:.0f}",
            f"{rate / ideal:.2f}" if ideal else "-", f"{cpu * 1000:.2f}",
            "-" if label == "plain httpx" else f"{(cpu - httpx_cpu) * 1000:.2f}",
            str(max(r["server"]["peak_in_flight"] for r in runs)),
            f"{server_cpu * 1000:.2f}"]


def executor_section() -> list:
    code = ("import sys, time; from dspy.utils.parallelizer import ParallelExecutor as P;"
            "from strawberry_dspy.config import ProgramSettings; from strawberry_dspy.executors import ThreadExecutor, Workload;"
            "c, t = time.process_time(), time.perf_counter(); f = lambda *a: time.sleep(0.05);"
            "P(num_threads=64, max_errors=10**6, disable_progress_bar=True, timeout=0).execute(f, list(range(6400))) "
            "if sys.argv[1] == 'P' else ThreadExecutor().run(Workload(ProgramSettings(), None, program=object(), lm=object()),"
            " f, range(6400), lambda *a: None, 64);"
            "print(time.perf_counter() - t, time.process_time() - c)")
    rows = []
    for name, flag in (("dspy ParallelExecutor", "P"), ("strawberry ThreadExecutor (executors/)", "T")):
        out = subprocess.run([PYTHON, "-c", code, flag], cwd=ROOT, capture_output=True, text=True, check=True,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
        wall, cpu = map(float, out.stdout.split())
        rows.append([name, f"{wall:.2f}", f"{cpu:.2f}", f"{cpu / 6400 * 1000:.3f}"])
    return rows


# Runs a command and prints its wall time and peak RSS. A small process of its own: a child's ru_maxrss also counts
# the memory of the process it was forked from, which would hide anything below this benchmark's own size.
MEASURE = ("import json, os, subprocess, sys, time; t = time.perf_counter(); "
           "p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE); "
           "err = p.stderr.read(); _, status, usage = os.wait4(p.pid, 0); "
           "print(json.dumps([time.perf_counter() - t, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, "
           "status, err.decode()[-2000:]]))")


def measured(command: list[str], tree: Path) -> tuple[float, float, float]:
    """(wall s, CPU s, peak RSS MB) of a child process running `command` with `tree` first on the path.

    CPU time is the figure to compare on a shared machine: wall time stretches with everyone else's load. The child
    runs outside any tree: `python -m` puts the working directory first on sys.path, before PYTHONPATH (run in this
    checkout, a baseline would run this checkout's code).
    """
    out = subprocess.run([PYTHON, "-c", MEASURE, *command], cwd=tempfile.gettempdir(), capture_output=True, text=True,
                         check=True, env={**os.environ, "PYTHONPATH": str(tree)})
    wall, cpu, peak, status, err = json.loads(out.stdout)
    if status:
        raise SystemExit(f"{' '.join(command)} failed: {err}")
    return wall, cpu, peak


def as_schema_2(store: Path, copy: Path) -> Path:
    """A copy of a store as schema version 2 wrote it, before stated_answers (what a baseline main tree reads)."""
    copy.mkdir(parents=True, exist_ok=True)
    shutil.copy(store / "traces.sqlite", copy / "traces.sqlite")
    shutil.copy(store / "problems.jsonl", copy / "problems.jsonl")
    conn = sqlite3.connect(copy / "traces.sqlite")
    with conn:
        conn.execute("DROP TABLE stated_answers")
        conn.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    conn.close()
    return copy


def storage_section(args, tmp: Path) -> list:
    rows, store = [], tmp / "store"
    for size in sorted(args.sizes):
        start = time.perf_counter()
        grow(store, size)
        print(f"store of {size} traces grown in {time.perf_counter() - start:.0f} s", file=sys.stderr)
        trees = [("this tree", ROOT, store)]
        if args.baseline_tree and args.baseline_every_size:  # a baseline that reads this schema: the same store
            trees.append(("baseline", Path(args.baseline_tree), store))
        elif args.baseline_tree and size == min(args.sizes):
            trees.append(("baseline", Path(args.baseline_tree), as_schema_2(store, tmp / "baseline")))
        figures: dict[str, list[str]] = {label: [f"{size}", label] for label, _, _ in trees}
        # command by command, the trees in turn: a change in the machine's load falls on both alike
        for command in ("sft", "dpo", "stats"):
            for label, tree, directory in trees:
                out = tmp / f"export-{command}"
                shutil.rmtree(out, ignore_errors=True)
                argv = (["stats", str(directory), "--plot", str(tmp / "p.png")] if command == "stats" else
                        ["export", str(directory), "--format", command, "--out", str(out)])
                figures[label] += _figures(measured([PYTHON, "-m", "strawberry_dspy.cli", *argv], tree))
        for row in figures.values():
            rows.append(row)
            print(row, file=sys.stderr)
        if args.baseline_tree and not args.baseline_every_size and size == min(args.sizes):
            shutil.rmtree(tmp / "baseline")
    return rows


def _figures(measure: tuple[float, float, float]) -> list[str]:
    wall, cpu, peak = measure
    return [f"{wall:.1f}", f"{cpu:.1f}", f"{peak:.0f}"]


def first_request_s(tree: Path, server: LoopbackOpenAI, out: Path, cache: Path) -> tuple[float, float]:
    """(wall s, CPU s) from starting `strawberry run` to its first chat request reaching the server.

    CPU is the child's user + system time read from /proc at that moment: the figure to compare on a busy machine.
    `cache` is its problem cache (STRAWBERRY_CACHE_DIR): empty for a first run, filled by an earlier one. The child
    runs in `tree` (its programs/strawberry.yaml): `python -m` puts the working directory first on sys.path.
    """
    before = len(server.completions())
    start = time.perf_counter()
    child = subprocess.Popen([PYTHON, "-m", "strawberry_dspy.cli", "run", "programs/strawberry.yaml", "--model",
                              "openai/stub-model", "--api-base", server.url, "--limit", "1", "--concurrency", "1",
                              "--out", str(out)], cwd=tree, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             env={**os.environ, "PYTHONPATH": str(tree), "STRAWBERRY_CACHE_DIR": str(cache)})
    cpu = 0.0
    while len(server.completions()) == before and child.poll() is None:
        cpu = _cpu_s(child.pid) or cpu
        time.sleep(0.002)
    elapsed = time.perf_counter() - start
    cpu = _cpu_s(child.pid) or cpu
    child.wait()
    shutil.rmtree(out, ignore_errors=True)
    return elapsed, cpu


def _cpu_s(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def cold_start_section(args, tmp: Path) -> list:
    """Each tree's cold starts; this tree twice: with an empty problem cache and with the one its first run left."""
    trees = [("this tree, problem cache empty", ROOT, None), ("this tree, problem cache filled", ROOT, "kept")]
    trees += [("baseline", Path(args.baseline_tree), None)] if args.baseline_tree else []
    runs: dict[str, list[tuple[float, float]]] = {label: [] for label, _, _ in trees}
    with LoopbackOpenAI(REPLY) as server:
        first_request_s(ROOT, server, tmp / "cold-fill", tmp / "cache-kept")  # fills the kept cache
        for attempt in range(args.cold_runs):
            for label, tree, cache in (trees if attempt % 2 == 0 else trees[::-1]):
                folder = tmp / ("cache-kept" if cache else f"cache-{attempt}-{len(runs[label])}-{tree.name}")
                runs[label].append(first_request_s(tree, server, tmp / f"cold-{attempt}", folder))
    return [[label, f"{statistics.median(c for _, c in values):.2f}", f"{statistics.median(w for w, _ in values):.2f}",
             " ".join(f"{c:.2f}" for _, c in values), " ".join(f"{w:.2f}" for w, _ in values)]
            for label, values in runs.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="eval/throughput/report.md")
    parser.add_argument("--in-flight", type=int, nargs="+", default=[1, 8, 32, 64])
    parser.add_argument("--latencies", type=float, nargs="+", default=[0.0, 0.1], help="server latency, seconds")
    parser.add_argument("--traces-per-thread", type=int, default=2)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 30_000, 100_000])
    parser.add_argument("--baseline-tree", help="another checkout (e.g. /work/main) measured beside this one")
    parser.add_argument("--cold-runs", type=int, default=5, help="cold starts per tree (median reported)")
    parser.add_argument("--baseline-every-size", action="store_true",
                        help="export and stats: run the baseline tree at every size on the same store (a baseline "
                             "that reads this store schema), not only on a schema-2 copy of the smallest")
    parser.add_argument("--repeats", type=int, default=1, help="harvest runs per row, in turn (medians reported)")
    parser.add_argument("--skip", nargs="*", default=[], choices=SECTIONS)
    parser.add_argument("--only", nargs="+", choices=SECTIONS,
                        help="measure only these parts and replace only their sections of an existing --out")
    args = parser.parse_args()
    if args.only:
        args.skip = [section for section in SECTIONS if section not in args.only]
    logging.getLogger("dspy").setLevel(logging.ERROR)
    load = [os.getloadavg()[0]]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        harvest_rows = harvest_section(args, tmp) if "harvest" not in args.skip else []
        load.append(os.getloadavg()[0])
        executor_rows = executor_section() if "executor" not in args.skip else []
        storage_rows = storage_section(args, tmp) if "storage" not in args.skip else []
        load.append(os.getloadavg()[0])
        cold_rows = cold_start_section(args, tmp) if "cold" not in args.skip else []
        load.append(os.getloadavg()[0])
    write(args, harvest_rows, executor_rows, storage_rows, cold_rows, load, time.perf_counter() - started)


def write(args, harvest_rows, executor_rows, storage_rows, cold_rows, load, total_s) -> None:
    from strawberry_dspy.provenance import package_versions

    versions = package_versions()
    stamp = f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M}"
    measured_by = (f"`python {' '.join(sys.argv)}` ({total_s / 60:.1f} min), {stamp} UTC, load average "
                   f"{load[0]:.1f} at the start, {load[-1]:.1f} at the end; dspy {versions.get('dspy')}")
    sections = [f"""# Throughput at scale (issue 15)

Command: `python {' '.join(sys.argv)}` ({total_s / 60:.1f} min)

Date {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; {os.cpu_count()} CPU cores shared with other work, load average
{' / '.join(f'{x:.1f}' for x in load)} (start / after harvest / after export+stats / end); dspy {versions.get('dspy')},
httpx {httpx.__version__}. Absolute figures move with the load of the shared machine: compare within a table.
"""]
    if harvest_rows:
        sections.append(HARVEST_HEADING + "\n\n" + (f"Measured by {measured_by}.\n\n" if args.only else "")
                        + "`strawberry_full` traces through `harvest()` (a child process per run, the tree's own code) "
                        "against the asyncio loopback server (`strawberry_dspy/testing/loopback_fast.py`, a child process); plain httpx "
                        "threads (in the benchmark's process) replay this tree's chats against the same server. "
                        "turns/s: the median of the runs listed; CPU: the client process's, per LM call; above "
                        "httpx: client CPU per call minus plain httpx's; peak at server: requests the server held at "
                        "once.\n\n```\n"
                        + format_grid(["latency ms", "in flight", "client", "LM calls", "runs turns/s", "turns/s",
                                       "/ ideal", "CPU ms/call", "above httpx ms", "peak at server",
                                       "server CPU ms/call"], harvest_rows) + "\n```\n")
    if executor_rows:
        sections.append("## The harvest's executor\n\n6,400 tasks of 50 ms on 64 threads (ideal wall 5.0 s); CPU is "
                        "the bookkeeping.\n\n```\n" + format_grid(["executor", "wall s", "CPU s", "CPU ms/task"],
                                                                  executor_rows) + "\n```\n")
    if storage_rows:
        sections.append("## Export and stats on large stores\n\nSynthetic `strawberry_full`-shaped stores (27 turns "
                        "a trace, 8 samples a problem); each command a child process (`strawberry export DIR "
                        "--format F`, default band, jsonl; `strawberry stats DIR`).\n\n```\n"
                        + format_grid(["traces", "code", "sft wall s", "sft CPU s", "sft peak MB", "dpo wall s",
                                       "dpo CPU s", "dpo peak MB", "stats wall s", "stats CPU s", "stats peak MB"],
                                      storage_rows) + "\n```\n")
    if cold_rows:
        sections.append("## Cold start\n\n`strawberry run programs/strawberry.yaml --limit 1` (its reasoning_gym "
                        "benchmark) until the first request reaches a zero-latency server.\n\n```\n"
                        + format_grid(["code", "median CPU s", "median wall s", "runs CPU s", "runs wall s"],
                                      cold_rows) + "\n```\n")
    out = Path(args.out)
    if args.only and out.exists():
        sections = _replace_sections(out.read_text(), sections[1:])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(sections))
    print("\n".join(sections))


def _replace_sections(text: str, new: list[str]) -> list[str]:
    """The sections of an earlier results file, those with a heading in `new` replaced by it (others kept)."""
    old = ["## " + part if i else part for i, part in enumerate(text.split("\n## "))]
    fresh = {section.split("\n", 1)[0]: section for section in new}
    kept = [fresh.pop(section.split("\n", 1)[0], section) for section in old]
    return kept + list(fresh.values())


if __name__ == "__main__":
    main()
