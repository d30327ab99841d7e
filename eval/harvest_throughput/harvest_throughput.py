"""Harvest throughput against the raw embedded engine, and the prefix-cache share after the first turn, in one run.

    python eval/harvest_throughput/harvest_throughput.py --problems 2 --samples 2 --concurrency 2 --rounds 10 \
        --out eval/harvest_throughput/report.md [--strawberry.KNOB=VALUE ...] [--append]

Each round harvests PROBLEMS x SAMPLES traces of a recipe (default programs/strawberry.yaml)
through DSPy (`strawberry_dspy.harvest.harvest`, C threads, C engine slots), and replays the
same LM calls straight into the engine (`LocalEngine.chat` in C threads, one trace per thread
at a time: the same system and user messages, the raw side's own replies appended as the harvest
appends its own, the same temperature, and max_tokens = the tokens the harvest generated with EOS
ignored, so both generate the same number of tokens). Rounds alternate which
side goes first (a raw-first round replays the previous round's calls), so load from other
processes drifting over time does not favour one side. The ratio is harvest generated tokens/s
over raw generated tokens/s (goal >= 0.9). The cache share is
cached / prompt tokens over every LM call of a trace but its first (goal >= 90%).
--paired runs both sides at the same time on one engine instead (see paired_round).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

from strawberry_dspy.config import load_config, parse_overrides
from strawberry_dspy.harvest import harvest
from strawberry_dspy.models import lm_for
from strawberry_dspy.models.engine import local_model_path, shared_engine
from strawberry_dspy.provenance import package_versions
from strawberry_dspy.report import format_grid
from strawberry_dspy.store import TraceStore

CALL_KINDS = ("step", "check", "final", "title")  # assistant turns made on the main chat


def replay_plan(store: TraceStore) -> tuple[list[list[tuple[list[dict], int]]], dict]:
    """Per trace, its main-chat LM calls as (messages new since the last reply, generated tokens); and cache counts.

    `seen` counts, for every call but the first, the tokens the engine already processed for this
    conversation (the previous call's prompt and completion): the most a prefix cache can serve.
    """
    plan, counts = [], {"prompt": 0, "cached": 0, "seen": 0}
    for row in store.traces(include_failed=False):
        new, calls, previous = [], [], None
        for turn in store.turns(row.id):
            if turn.role in ("system", "user"):
                new.append({"role": turn.role, "content": turn.content})
            elif turn.role == "assistant" and turn.kind in CALL_KINDS:
                calls.append((new, max(1, turn.completion_tokens)))
                new = []
                if previous is not None:
                    counts["prompt"] += turn.prompt_tokens
                    counts["cached"] += turn.cached_tokens
                    counts["seen"] += previous.prompt_tokens + previous.completion_tokens
                previous = turn
        plan.append(calls)
    return plan, counts


def replay_trace(engine, calls, temperature: float):
    """One trace's calls straight into the engine, its own replies appended (as the harvest does): yields usages."""
    chat = []
    for new, tokens in calls:
        chat += new
        response = engine.chat(chat, max_tokens=tokens, temperature=temperature, ignore_eos=True)
        chat.append({"role": "assistant", "content": response["choices"][0]["message"]["content"].strip()})
        yield response["usage"]


def raw_replay(engine, plan, concurrency: int, temperature: float) -> dict:
    """Drive the engine directly: C threads, each replaying whole traces call by call."""
    totals = {"completion": 0, "prompt": 0, "cached": 0, "prompt_after_first": 0, "cached_after_first": 0}
    lock = threading.Lock()

    def one_trace(calls):
        for index, usage in enumerate(replay_trace(engine, calls, temperature)):
            cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
            with lock:
                totals["completion"] += usage["completion_tokens"]
                totals["prompt"] += usage["prompt_tokens"]
                totals["cached"] += cached
                if index:
                    totals["prompt_after_first"] += usage["prompt_tokens"]
                    totals["cached_after_first"] += cached

    start, cpu = time.perf_counter(), time.process_time()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one_trace, plan))
    totals["wall_s"] = time.perf_counter() - start
    totals["cpu_s"] = time.process_time() - cpu
    return totals


def call_overhead(lm, engine, calls: int = 10) -> float:
    """Median extra seconds of one 1-token call through dspy.LM (litellm, loopback HTTP) over LocalEngine.chat."""
    messages = [{"role": "user", "content": "Say hi."}]
    extra = []
    for _ in range(calls):
        start = time.perf_counter()
        engine.chat(messages, max_tokens=1)
        raw = time.perf_counter() - start
        start = time.perf_counter()
        lm(messages=messages, max_tokens=1)
        extra.append(time.perf_counter() - start - raw)
    return statistics.median(extra)


def paired_round(engine, lm, config, samples: int, plan, out: Path) -> dict:
    """Harvest while raw threads replay `plan` in a loop on the same engine, at the same time (2C slots).

    llama.cpp decodes all active slots in one batch, so both sides see the same per-token speed and
    the same load from other processes; the ratio measures how busy each side keeps its slots.
    Raw tokens count the calls that ended inside the harvest's window.
    """
    stop, lock, ended = threading.Event(), threading.Lock(), []

    def loop(offset: int):
        index = offset
        while not stop.is_set():
            for usage in replay_trace(engine, plan[index % len(plan)], config.temperature):
                if stop.is_set():
                    return
                with lock:
                    ended.append((time.perf_counter(), usage["completion_tokens"]))
            index += config.concurrency

    threads = [threading.Thread(target=loop, args=(i,), daemon=True) for i in range(config.concurrency)]
    for thread in threads:
        thread.start()
    time.sleep(2.0)  # raw side in steady state before the window opens
    summary = harvest(config, out, samples=samples, lm=lm, progress=False)
    end = time.perf_counter()
    start = end - summary.wall_s  # the harvest's sampling window (its set-up and store opening excluded)
    stop.set()
    for thread in threads:
        thread.join()
    raw_tokens = sum(tokens for at, tokens in ended if start <= at <= end)
    return {"harvest_tok": summary.completion_tokens, "window_s": end - start, "raw_tok": raw_tokens,
            "harvest_rate": summary.completion_tokens / (end - start), "raw_rate": raw_tokens / (end - start)}


def local_config(config, slots: int):
    """The config's task LM on the embedded engine, uncached (each round must really generate), with `slots`."""
    return dataclasses.replace(config, model="local", api_base=None, api_key_env=None, cache=False, slots=slots)


def paired(args, config, overrides, extra) -> None:
    """--paired: harvest and raw replay at the same time, C slots each."""
    engine = shared_engine(local_model_path(), slots=2 * args.concurrency)
    lm = lm_for(local_config(config, slots=2 * args.concurrency))
    load_before = os.getloadavg()
    rows, ratios = [], []
    with tempfile.TemporaryDirectory() as tmp:
        config.seed = 999  # the first plan to replay, and the warm-up of both paths
        harvest(config, Path(tmp) / "plan", samples=args.samples, lm=lm, progress=False)
        with TraceStore.open(Path(tmp) / "plan") as store:
            plan, _ = replay_plan(store)
        for round_index in range(args.rounds):
            config.seed = 1000 + round_index
            out = Path(tmp) / f"round{round_index}"
            r = paired_round(engine, lm, config, args.samples, plan, out)
            with TraceStore.open(out) as store:
                plan, _ = replay_plan(store)
            ratios.append(r["harvest_rate"] / r["raw_rate"])
            rows.append([str(round_index + 1), str(r["harvest_tok"]), str(r["raw_tok"]), f"{r['window_s']:.1f}",
                         f"{r['harvest_rate']:.1f}", f"{r['raw_rate']:.1f}", f"{ratios[-1]:.3f}",
                         f"{os.getloadavg()[0]:.1f}"])
            print(rows[-1], file=sys.stderr)
    table = format_grid(["round", "harvest tok", "raw tok", "window s", "harvest tok/s", "raw tok/s", "ratio", "load"],
                        rows)
    knobs = " ".join(extra)
    text = f"""## Paired: harvest and raw replay at the same time

Command: `python {' '.join(sys.argv)}`

Date {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; load average {load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after.
Recipe `{args.program}`{f" with `{knobs}`" if knobs else ""}, {args.problems} problems x {args.samples} samples per round;
the engine has {2 * args.concurrency} slots: {args.concurrency} for the harvest ({args.concurrency} threads), {args.concurrency}
for {args.concurrency} raw threads replaying the previous round's LM calls in a loop through `LocalEngine.chat`.
Raw tokens are those of the calls that ended inside the harvest's window.

```
{table}
```

harvest / raw generated tokens/s, median of {args.rounds} paired rounds: **{statistics.median(ratios):.3f}**
(rounds: {', '.join(f'{r:.3f}' for r in ratios)}); goal >= 0.9.
"""
    with open(args.out, "a" if args.append else "w") as f:
        f.write(text if not args.append else "\n" + text)
    print(text)


def share(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--program", default="programs/strawberry.yaml")
    parser.add_argument("--problems", type=int, default=8)
    parser.add_argument("--samples", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", default="eval/harvest_throughput/report.md")
    parser.add_argument("--append", action="store_true", help="append to --out instead of replacing it")
    parser.add_argument("--paired", action="store_true", help="run harvest and raw replay at the same time")
    args, extra = parser.parse_known_args()
    logging.getLogger("dspy").setLevel(logging.ERROR)  # "response was truncated": a step cut at step_tokens, by design
    overrides = parse_overrides(extra)
    config = load_config(args.program, {**overrides, "limit": args.problems, "concurrency": args.concurrency,
                                        "split": "train"})
    if args.paired:
        return paired(args, config, overrides, extra)
    engine = shared_engine(local_model_path(), slots=args.concurrency)
    lm = lm_for(local_config(config, slots=args.concurrency))
    load_before = os.getloadavg()
    # warm both paths up (first-call imports and client set-up are not throughput)
    engine.chat([{"role": "user", "content": "Say hi."}], max_tokens=4)
    with tempfile.TemporaryDirectory() as tmp:
        harvest(load_config(args.program, {**overrides, "limit": 1, "concurrency": args.concurrency, "split": "train"}),
                Path(tmp) / "warm-up", samples=1, lm=lm, progress=False)
    rows, ratios, cache, raw_cache = [], [], {"prompt": 0, "cached": 0, "seen": 0}, [0, 0]
    totals = {"harvest_tok": 0, "harvest_s": 0.0, "raw_tok": 0, "raw_s": 0.0, "harvest_cpu": 0.0, "raw_cpu": 0.0}
    with tempfile.TemporaryDirectory() as tmp:
        plan = None
        for round_index in range(args.rounds):
            # Order alternates (harvest then raw, raw then harvest) so drifting load from other
            # processes does not favour one side; a raw-first round replays the previous round's calls.
            raw_first = round_index % 2 == 1
            if raw_first:
                raw = raw_replay(engine, plan, args.concurrency, config.temperature)
            config.seed = 1000 + round_index  # fresh samples every round
            out = Path(tmp) / f"round{round_index}"
            cpu = time.process_time()
            summary = harvest(config, out, samples=args.samples, lm=lm, progress=False)
            harvest_cpu = time.process_time() - cpu
            with TraceStore.open(out) as store:
                plan, counts = replay_plan(store)
            if not raw_first:
                raw = raw_replay(engine, plan, args.concurrency, config.temperature)
            harvest_rate = summary.completion_tokens / summary.wall_s
            raw_rate = raw["completion"] / raw["wall_s"]
            ratios.append(harvest_rate / raw_rate)
            for key in cache:
                cache[key] += counts[key]
            totals["harvest_tok"] += summary.completion_tokens
            totals["harvest_s"] += summary.wall_s
            totals["raw_tok"] += raw["completion"]
            totals["raw_s"] += raw["wall_s"]
            totals["harvest_cpu"] += harvest_cpu
            totals["raw_cpu"] += raw["cpu_s"]
            raw_cache[0] += raw["cached_after_first"]
            raw_cache[1] += raw["prompt_after_first"]
            rows.append([str(round_index + 1), "raw, harvest" if raw_first else "harvest, raw", str(summary.new),
                         str(sum(map(len, plan))), str(summary.completion_tokens), f"{summary.wall_s:.1f}",
                         f"{harvest_rate:.1f}", str(raw["completion"]), f"{raw['wall_s']:.1f}", f"{raw_rate:.1f}",
                         f"{ratios[-1]:.3f}", share(counts["cached"], counts["prompt"]),
                         share(raw["cached_after_first"], raw["prompt_after_first"]), f"{os.getloadavg()[0]:.1f}"])
            print(rows[-1], file=sys.stderr)
    load_after = os.getloadavg()
    table = format_grid(["round", "order", "traces", "LM calls", "harvest tok", "harvest s", "harvest tok/s", "raw tok",
                         "raw s", "raw tok/s", "ratio", "cached after turn 1", "(raw)", "load"], rows)
    median = statistics.median(ratios)
    pooled = (totals["harvest_tok"] / totals["harvest_s"]) / (totals["raw_tok"] / totals["raw_s"])
    per_cpu = (totals["harvest_tok"] / totals["harvest_cpu"]) / (totals["raw_tok"] / totals["raw_cpu"])
    overhead = call_overhead(lm, engine)
    knobs = " ".join(extra)
    versions = package_versions()
    heading = "##" if args.append else "#"
    text = f"""{heading} Harvest throughput vs the raw embedded engine{f" ({args.program})" if args.append else ""}

Command: `python {' '.join(sys.argv)}`

Date {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; {os.cpu_count()} CPU cores, load average {load_before[0]:.1f} before and
{load_after[0]:.1f} after (other work shared the machine); model SmolLM2-135M-Instruct Q4_1 (embedded llama.cpp),
recipe `{args.program}`{f" with `{knobs}`" if knobs else ""} ({config.program}, temperature {config.temperature}), benchmark `{config.benchmark}`
(train split, {args.problems} problems x {args.samples} samples per round), concurrency {args.concurrency} = engine slots;
dspy {versions.get('dspy')}, xllamacpp {versions.get('xllamacpp')}.

Harvest = `strawberry_dspy.harvest.harvest` (DSPy program, TextAdapter, dspy.LM over loopback HTTP, SQLite writes).
Raw = the same LM calls replayed with `LocalEngine.chat` (in-process, no DSPy, no HTTP) in {args.concurrency} threads:
same system and user messages with the raw side's own replies appended, same temperature,
max_tokens = the harvest's generated tokens with EOS ignored. Only main-chat calls are replayed
(a verifier's own short chat is not), so each side's rate is over its own calls.

```
{table}
```

| figure | measured | goal |
| --- | --- | --- |
| harvest / raw generated tokens/s, median of {args.rounds} rounds | **{median:.3f}** (rounds: {', '.join(f'{r:.3f}' for r in ratios)}) | >= 0.9 |
| the same, pooled (all tokens / all seconds) | {pooled:.3f} | |
| generated tokens per CPU-second of the process, harvest / raw (less sensitive to other load) | {per_cpu:.3f} | |
| extra latency of one 1-token call through dspy.LM (litellm, HTTP) over LocalEngine.chat, median of 10 | {overhead * 1000:.0f} ms | |
| prompt tokens served from the prefix cache after the first turn (harvest) | **{share(cache["cached"], cache["prompt"])}** | >= 90% |
| ... of the tokens the engine had already seen for that conversation (previous prompt + reply) | {share(cache["cached"], cache["seen"])} | |
| prompt tokens from the cache after the first turn, raw replay | {share(*raw_cache)} | |
"""
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "a" if args.append else "w") as f:
        f.write(text if not args.append else "\n" + text)
    print(text)


if __name__ == "__main__":
    main()
