"""Framework CPU per LM call against a zero-latency loopback server: DSPy as shipped vs the metadata memo, in one run.

    python eval/lm_overhead/lm_overhead.py --traces 6 --rounds 3 --out eval/lm_overhead/report.md

A stdlib OpenAI-compatible server (strawberry_dspy/testing/loopback_openai.py) runs in a child process and answers every
request at once, so the figures are this process's CPU alone. Each round runs, one call in flight:
- `strawberry_full` traces through the real program, TextAdapter and the dspy.LM that `lm_for` builds
  (the server never gives a final answer, so each trace runs its whole turn budget), once with DSPy's per-call
  model-metadata lookup as shipped and once memoized (`strawberry_dspy.models.metadata`);
- the same number of bare `httpx` POSTs of a chat-completions body: the floor any client pays.
Modes alternate their order each round, so drifting load from other processes favours neither.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import dspy
import httpx
from dspy.clients import model_metadata

from strawberry_dspy.compile.stage import LMCallCounter
from strawberry_dspy.config import load_config
from strawberry_dspy.models import lm_for, metadata
from strawberry_dspy.program.adapter import TextAdapter
from strawberry_dspy.program.build import build_program
from strawberry_dspy.provenance import package_versions
from strawberry_dspy.report import format_grid

ROOT = Path(__file__).resolve().parents[2]

REPLY = "Let me add the two numbers."  # never a final answer: every trace runs its whole budget
MODES = ("dspy as shipped", "metadata memo", "httpx only")


def count_lookups() -> list:
    """Wrap DSPy's model_info (the table scan) to count its calls."""
    calls, original = [], model_metadata.model_info

    def counting(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    model_metadata.model_info = counting
    return calls


def run_program(program, lm, traces: int, lookups: list) -> dict:
    counter, before = LMCallCounter(), len(lookups)
    cpu, wall = time.process_time(), time.perf_counter()
    with dspy.context(lm=lm, adapter=TextAdapter(), callbacks=[counter]):
        for index in range(traces):
            trace = program(question=f"What is {index} + 4?", seed=index).trace
            assert trace.stop_reason != "error", trace.error
    return {"calls": counter.calls, "cpu": time.process_time() - cpu, "wall": time.perf_counter() - wall,
            "lookups": len(lookups) - before}


def run_httpx(url: str, calls: int) -> dict:
    body = {"model": "stub-model", "max_tokens": 64, "temperature": 0.7,
            "messages": [{"role": "system", "content": "You reason in minuscule steps."},
                         {"role": "user", "content": "Problem: What is 3 + 4?\n\nTake the first minuscule step."}]}
    with httpx.Client(base_url=url, headers={"Authorization": "Bearer local"}) as client:
        client.post("/chat/completions", json=body).raise_for_status()  # connection set up outside the timing
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(calls):
            client.post("/chat/completions", json=body).json()
        return {"calls": calls, "cpu": time.process_time() - cpu, "wall": time.perf_counter() - wall, "lookups": 0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--program", default="programs/strawberry_full.yaml")
    parser.add_argument("--traces", type=int, default=6, help="traces per mode per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", default="eval/lm_overhead/report.md")
    args = parser.parse_args()
    logging.getLogger("dspy").setLevel(logging.ERROR)
    server = subprocess.Popen([sys.executable, "-m", "strawberry_dspy.testing.loopback_openai", REPLY], cwd=ROOT,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        url = server.stdout.readline().strip()
        config = load_config(args.program, {"model": "openai/stub-model", "api_base": url, "cache": False,
                                            "concurrency": 1})
        program, lm = build_program(config), lm_for(config)
        lookups = count_lookups()
        run_program(program, lm, 1, lookups)  # warm-up: imports, client set-up, the memo's first lookup
        results: dict[str, list[dict]] = {mode: [] for mode in MODES}
        calls = 0  # httpx posts as many as the last program run made calls (round 1 runs httpx last)
        for round_index in range(args.rounds):
            order = MODES if round_index % 2 == 0 else MODES[::-1]
            for mode in order:
                if mode == "httpx only":
                    result = run_httpx(url, calls)
                else:
                    (metadata.uninstall if mode == "dspy as shipped" else metadata.install)()
                    result = run_program(program, lm, args.traces, lookups)
                    calls = result["calls"]
                results[mode].append(result)
                print(round_index + 1, mode, result, file=sys.stderr)
        metadata.install()
    finally:
        server.stdin.close()
        server.wait(timeout=10)
    write(args, config, results)


def per_call(results: list[dict], key: str) -> float:
    """Median over rounds of the per-call figure, in ms."""
    return statistics.median(r[key] / r["calls"] * 1000 for r in results)


def write(args, config, results: dict[str, list[dict]]) -> None:
    rows, cpu = [], {}
    for mode in MODES:
        runs = results[mode]
        cpu[mode] = per_call(runs, "cpu")
        rows.append([mode, str(sum(r["calls"] for r in runs)), f"{cpu[mode]:.2f}", f"{per_call(runs, 'wall'):.2f}",
                     f"{statistics.median(r['lookups'] / r['calls'] for r in runs):.2f}",
                     f"{1000 / per_call(runs, 'wall'):.0f}"])
    floor = cpu["httpx only"]
    shipped, memo = cpu["dspy as shipped"] - floor, cpu["metadata memo"] - floor
    versions = package_versions()
    table = format_grid(["mode", "LM calls", "CPU ms/call", "wall ms/call", "metadata scans/call", "calls/s"], rows)
    text = f"""# Framework CPU per LM call: DSPy's per-call metadata scan vs the memo

Command: `python {' '.join(sys.argv)}`

Date {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; {os.cpu_count()} CPU cores shared with other work, load average
{os.getloadavg()[0]:.1f}; dspy {versions.get('dspy')}, httpx {versions.get('httpx', httpx.__version__)}.
Recipe `{args.program}` ({config.program}) with model `openai/stub-model` at a zero-latency loopback server in a child
process (`strawberry_dspy/testing/loopback_openai.py`; its reply is never a final answer, so each trace runs its whole budget), built by `lm_for`;
{args.traces} traces per mode per round, {args.rounds} rounds, one call in flight, modes alternating order.
CPU is this process's (`time.process_time`); per-call figures are medians over rounds.

```
{table}
```

| figure | measured |
| --- | --- |
| CPU per LM call, as shipped / memo | **{cpu['dspy as shipped'] / cpu['metadata memo']:.2f}x** |
| framework CPU per call above bare httpx, as shipped | {shipped:.2f} ms |
| framework CPU per call above bare httpx, memo | **{memo:.2f} ms** (goal of issue 15: <= 1 ms) |

"metadata scans/call" counts calls of `dspy.clients.model_metadata.model_info`, which scans its whole table
for a model it has no key for (every served or custom model name): as shipped DSPy asks it on every call
(capabilities for `supported_params` and engine selection, `estimate_cost` after the reply);
`strawberry_dspy/models/metadata.py` answers each (provider, model) once per process.

Upstream-worthy (DSPy 3.4.1): the table is immutable once loaded, so `model_info` could index it by
(namespace, model) and alias at load, or memoize per key as done here; `LM.supported_params` recomputes
`capabilities()` on every read, and the turn loop reads it every turn. Where the rest of the memo mode's
CPU goes (cProfile, checked once by hand, not by this script): spread thinly over lm15's request building
(`_ingest_messages`, `_build_messages`), `_check_encodable`, `inspect.getcallargs` (about 6 per call) and
`os.environ` reads (about 150 per call) — no single hot spot left.
"""
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
