"""A real harvest through a faulty provider: a share of injected faults of every kind plus a long outage, nothing lost.

    python eval/faults/faults.py --out eval/faults/report.md

The stdlib OpenAI-compatible server of the tests (`strawberry_dspy/testing/loopback_openai.py`) runs in this process and answers
the strawberry program with canned replies (steps, then an answer that is right for some samples); it injects
faults into `--fault-rate` of the chat completions, drawn evenly from 429 (Retry-After), 503, connection reset,
hang (past the request timeout), a connection cut mid-body, and 200 replies whose body is truncated JSON, empty
or an HTML page; `--outage-at-s` seconds after the harvest starts every request gets a 503 for `--outage-s`
seconds. The harvest is the real `strawberry harvest` command in a child process, with the recipe's default
retry budget (only the request timeout lowered, so injected hangs cost seconds rather than minutes).
The check: every trace is stored, none failed, and the outage was announced once and its end once.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

from strawberry_dspy.retry_settings import RetrySettings
from strawberry_dspy.store import TraceStore
from strawberry_dspy.testing.loopback_openai import FAULTS, LoopbackOpenAI

ROOT = Path(__file__).resolve().parents[2]


def write_problems(path: Path, n: int) -> Path:
    """A jsonl file of n addition problems (what the canned replies answer)."""
    with open(path, "w") as f:
        for i in range(n):
            f.write(json.dumps({"id": f"p{i}", "question": f"What is {i} + {i + 7}?", "answer": str(2 * i + 7)}) + "\n")
    return path


STEP = "Let me add the two numbers, one digit at a time."
_SUM = re.compile(r"What is (\d+) \+ (\d+)\?")


def canned(body: dict) -> str:
    """A step, or (after the check's <final_answer> prefill) an answer: right for about two samples in three."""
    messages = body.get("messages", [])
    if not messages or messages[-1].get("role") != "assistant":
        return STEP
    found = next((m for m in map(_SUM.search, (str(x.get("content", "")) for x in messages)) if m), None)
    right = int(found.group(1)) + int(found.group(2)) if found else 0
    wrong = int(hashlib.sha1(json.dumps(messages).encode()).hexdigest(), 16) % 3 == 0
    return f"{right + 1 if wrong else right}</final_answer>"


def harvest_command(args: argparse.Namespace, url: str, problems: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "strawberry_dspy.cli", "harvest", "programs/strawberry.yaml",
            "--model", "openai/stub-model", "--api-base", url, "--benchmark", f"jsonl:{problems}",
            "--limit", str(args.problems), "--samples", str(args.samples), "--concurrency", str(args.concurrency),
            "--no-progress", "--out", str(out), f"--retry.request_timeout_s={args.request_timeout_s:g}"]


def run_harvest(command: list[str], server: LoopbackOpenAI, args: argparse.Namespace) -> tuple[int, list[str], float]:
    """The harvest in a child process, its output echoed and kept; the outage starts on a timer."""
    start = time.monotonic()
    child = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    outage = threading.Timer(args.outage_at_s, server.outage, (args.outage_s, "503"))
    outage.start()
    lines = []
    for line in child.stdout:
        print(line, end="", flush=True)
        lines.append(line.rstrip("\n"))
    code = child.wait()
    outage.cancel()
    return code, lines, time.monotonic() - start


def run_dspy_retries(args: argparse.Namespace, server: LoopbackOpenAI, problems: Path, out: Path) -> dict:
    """The same harvest through the library with a plain dspy.LM: DSPy 3.4's own retries, as before this change."""
    import dspy

    from strawberry_dspy.config import load_config
    from strawberry_dspy.errors import ProviderFailure
    from strawberry_dspy.harvest import harvest

    config = load_config(ROOT / "programs/strawberry.yaml", {
        "model": "openai/stub-model", "api_base": server.url, "benchmark": f"jsonl:{problems}", "split": "train",
        "limit": args.problems, "concurrency": args.concurrency})
    lm = dspy.LM("openai/stub-model", api_base=server.url, api_key="local", num_retries=3, cache=False,
                 timeout=args.request_timeout_s, temperature=config.temperature, max_tokens=256)
    outage = threading.Timer(args.outage_at_s, server.outage, (args.outage_s, "503"))
    start = time.monotonic()
    outage.start()
    try:
        harvest(config, out, samples=args.samples, lm=lm, progress=False)
        outcome = "finished"
    except ProviderFailure as failure:
        outcome = f"stopped: {str(failure)[:160]}…"
    outage.cancel()
    return {"wall": time.monotonic() - start, "outcome": outcome, **stored(out)}


def stored(out: Path) -> dict:
    with TraceStore.open(out) as store:
        rows = list(store.traces())
    errors = sorted({(r.error or "").split(":")[0] for r in rows if r.error})
    return {"traces": len(rows), "failed": sum(r.failed for r in rows), "errors": sum(bool(r.error) for r in rows),
            "error_kinds": ", ".join(errors) or "-"}


def report(args, command, code, lines, wall, server, result, before) -> str:
    display = " ".join(["python -m strawberry_dspy.cli", *command[3:]])
    kinds = sorted(server.faults_served.items(), key=lambda kv: (kv[0].endswith("(outage)"), kv[0]))
    random_faults = sum(n for k, n in kinds if not k.endswith("(outage)"))
    outage_faults = sum(n for k, n in kinds if k.endswith("(outage)"))
    requests = len(server.completions())
    announced = [line for line in lines if "provider unavailable" in line or "answering again" in line]
    defaults = RetrySettings()
    rows = "\n".join(f"| {k} | {n} |" for k, n in kinds)
    expected = args.problems * args.samples
    return f"""# Faults absorbed: a harvest through injected faults and a {args.outage_s:g} s outage

`python eval/faults/faults.py --problems {args.problems} --samples {args.samples} --concurrency {args.concurrency} \
--fault-rate {args.fault_rate:g} --outage-s {args.outage_s:g} --outage-at-s {args.outage_at_s:g} --out {args.out}`
({datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, this project's 2-core CPU machine).

A stdlib OpenAI-compatible server on 127.0.0.1 (`strawberry_dspy/testing/loopback_openai.py`) answers the strawberry program
with canned replies ({args.latency_s:g} s each) and injects faults into {args.fault_rate:.0%} of the chat
completions, drawn evenly from {", ".join(FAULTS)}; {args.outage_at_s:g} s after the harvest starts, every
request gets a 503 for {args.outage_s:g} s. The harvest is the real CLI in a child process:

```
{display}
```

Retry settings: the recipe defaults (`retry.budget_s={defaults.budget_s:g}`, `max_attempts={defaults.max_attempts}`,
backoff {defaults.backoff_base_s:g} s doubling to {defaults.backoff_cap_s:g} s with jitter, Retry-After honoured
— the loopback sends `Retry-After: {server.retry_after_s:g}`), except `retry.request_timeout_s={args.request_timeout_s:g}`
so that each injected hang ({server.hang_s:g} s of silence) costs seconds, not the default
{defaults.request_timeout_s:g} s.

| what | value |
| --- | --- |
| exit code | {code} |
| traces stored | {result["traces"]} of {expected} |
| traces failed | {result["failed"]} (with an error: {result["errors"]}) |
| chat-completion requests | {requests} |
| faults injected at random | {random_faults} ({random_faults / max(requests - outage_faults, 1):.1%} of the requests outside the outage) |
| 503s during the outage | {outage_faults} |
| retries (every fault is one failed attempt, retried) | {random_faults + outage_faults} |
| wall time | {wall:.1f} s |

Faults by kind:

| fault | requests |
| --- | --- |
{rows}

What the user saw of the outage (the whole harvest log is below):

```
{chr(10).join(announced) or "(nothing)"}
```

{before_section(before, expected)}
<details><summary>harvest log</summary>

```
{chr(10).join(lines)}
```

</details>
"""


def before_section(before: dict | None, expected: int) -> str:
    if before is None:
        return ""
    return f"""Before this change — the same harvest (same server, seed and outage; in-process through `harvest(lm=...)`)
with a plain `dspy.LM` and DSPy 3.4's own retries (3, after 1, 2 and 4 s; a 200 reply with an unreadable body
is never retried): {before["outcome"]}

| what | value |
| --- | --- |
| traces stored | {before["traces"]} of {expected} |
| traces failed | {before["failed"]} |
| their errors | {before["error_kinds"]} |
| wall time | {before["wall"]:.1f} s |

"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=20)
    parser.add_argument("--samples", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--fault-rate", type=float, default=0.2)
    parser.add_argument("--outage-s", type=float, default=60.0)
    parser.add_argument("--outage-at-s", type=float, default=8.0, help="seconds after the harvest starts")
    parser.add_argument("--request-timeout-s", type=float, default=2.0)
    parser.add_argument("--latency-s", type=float, default=0.1, help="the server's time per normal reply")
    parser.add_argument("--no-before", action="store_true", help="skip the run with DSPy's own retries")
    parser.add_argument("--out", default="eval/faults/report.md")
    args = parser.parse_args()

    def server() -> LoopbackOpenAI:
        return LoopbackOpenAI(reply=canned, fault_rate=args.fault_rate, seed=0, retry_after_s=2.0,
                              hang_s=3 * args.request_timeout_s, latency_s=args.latency_s)

    with tempfile.TemporaryDirectory(prefix="faults-") as tmp:
        problems = write_problems(Path(tmp) / "problems.jsonl", 5 * args.problems)  # the train split is ~60 %
        before = None
        if not args.no_before:
            with server() as loopback:
                before = run_dspy_retries(args, loopback, problems, Path(tmp) / "before")
            print(f"DSPy's own retries: {before}")
        with server() as loopback:
            command = harvest_command(args, loopback.url, problems, Path(tmp) / "harvest")
            code, lines, wall = run_harvest(command, loopback, args)
            result = stored(Path(tmp) / "harvest")
            text = report(args, command, code, lines, wall, loopback, result, before)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    print(f"\nwrote {args.out}")
    ok = code == 0 and result["traces"] == args.problems * args.samples and result["failed"] == result["errors"] == 0
    outage_lines = sum("provider unavailable" in line for line in lines)
    print(f"{'PASS' if ok else 'FAIL'}: {result['traces']} traces stored, {result['failed']} failed, "
          f"{result['errors']} with an error; {outage_lines} outage line(s)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
