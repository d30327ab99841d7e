"""Providers against their wire formats: prompt caching on a 20-turn trace, and a harvest under a rate limit.

    python eval/providers/providers.py --out eval/providers/report.md

Both parts talk to a stdlib server on 127.0.0.1 speaking Anthropic's Messages API (strawberry_dspy/testing/loopback_anthropic.py:
Anthropic's cache rules and usage fields, 429 + retry-after beyond a request rate), through the real DSPy client
that `lm_for` builds. Nothing here reaches a real provider.

1. One strawberry trace of TURNS LM calls (the reply is never a final answer, so it runs its whole budget), with
   the recipe's prompt cache as by default for `anthropic/` and once with `prompt_cache: off`: which requests carry
   the marks, the cache reads and writes the server reported and the trace recorded, and the cost at litellm's
   list price for claude-haiku-4-5 against the uncached cost (measured by the `off` run, and predicted from
   Anthropic's multipliers: reads 0.1x, writes 1.25x the input price).
2. A harvest at concurrency 32 of PROBLEMS x SAMPLES one-call traces against a server that allows RATE requests/s,
   with the rate gate `lm_for` puts on every call (with DSPy's own retries inside each call, and with them off so
   that the gate sees every 429), and with a plain dspy.LM (DSPy's own retries only).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import dspy
from loguru import logger

from strawberry_dspy.config import config_from_dict
from strawberry_dspy.harvest import harvest
from strawberry_dspy.cost import cost_of, litellm_price
from strawberry_dspy.models import lm_for
from strawberry_dspy.program.adapter import TextAdapter
from strawberry_dspy.program.build import build_program
from strawberry_dspy.provenance import package_versions
from strawberry_dspy.report import format_grid
from strawberry_dspy.testing.loopback_anthropic import LoopbackAnthropic

ROOT = Path(__file__).resolve().parents[2]

MODEL = "anthropic/claude-haiku-4-5"
STEP = "Let me add the tens first, then the ones, and check the carry."
ANSWER = "<final_answer>4</final_answer>"


def trace_config(turns: int, url: str, prompt_cache: str | bool = "auto"):
    return config_from_dict({
        "program": "strawberry", "model": MODEL, "api_base": url, "prompt_cache": prompt_cache,
        "strawberry": {"max_turns": turns, "check_every": 3, "verifier_every": 0, "title_every": 0,
                       "force_answer": False, "max_tokens": 100_000}})


def one_trace(turns: int, prompt_cache: str | bool):
    """(trace, requests the server received) of one strawberry trace."""
    with LoopbackAnthropic(reply=STEP) as server:
        config = trace_config(turns, server.url, prompt_cache)
        with dspy.context(lm=lm_for(config), adapter=TextAdapter()):
            trace = build_program(config)(question="What is 17 + 25?", seed=1).trace
        return trace, server.messages()


def marks(body: dict) -> str:
    system = body.get("system")
    system_marked = isinstance(system, list) and any(b.get("cache_control") for b in system)
    last = body["messages"][-1]["content"]
    last_marked = isinstance(last, list) and bool(last[-1].get("cache_control"))
    return {(True, True): "system + last message", (False, False): "none"}.get((system_marked, last_marked), "partial")


def caching_part(turns: int) -> tuple[str, dict]:
    trace, requests = one_trace(turns, "auto")
    plain, plain_requests = one_trace(turns, False)
    price = litellm_price(MODEL)
    calls = [t for t in trace.turns if t.role == "assistant"]
    rows = []
    for i, (turn, request) in enumerate(zip(calls, requests), 1):
        cost = cost_of(price, turn.prompt_tokens, turn.completion_tokens, turn.cached_tokens, turn.cache_write_tokens)
        rows.append([str(i), marks(request.body), str(turn.prompt_tokens), str(turn.cached_tokens),
                     str(turn.cache_write_tokens), f"{cost.usd * 1e6:.1f}", f"{cost.uncached_usd * 1e6:.1f}"])
    totals = [trace.total(n) for n in ("prompt_tokens", "completion_tokens", "cached_tokens", "cache_write_tokens")]
    cached = cost_of(price, *totals)
    off = cost_of(price, plain.total("prompt_tokens"), plain.total("completion_tokens"), plain.total("cached_tokens"),
                  plain.total("cache_write_tokens"))
    # Anthropic's multipliers on a chat that only grows: request i reads request i-1's prompt and writes the rest
    sizes = [t.prompt_tokens for t in calls]
    predicted_prompt = (1.25 * sizes[-1] + 0.1 * sum(sizes[:-1])) / sum(sizes)
    measured_prompt = ((cached.usd - trace.total("completion_tokens") * price.output)
                       / (off.usd - plain.total("completion_tokens") * price.output))
    figures = {
        "requests": len(requests), "marked": sum(marks(r.body) == "system + last message" for r in requests),
        "reads_reported": sum(1 for t in calls[1:] if t.cached_tokens > 0),
        "plain_marked": sum("cache_control" in str(r.body) for r in plain_requests),
        "cached_usd": cached.usd, "uncached_usd": cached.uncached_usd, "off_usd": off.usd,
        "factor": off.usd / cached.usd, "predicted_prompt": predicted_prompt, "measured_prompt": measured_prompt,
        "read_share": trace.total("cached_tokens") / trace.total("prompt_tokens"),
    }
    table = format_grid(["request", "cache marks", "prompt tokens", "cache read", "cache write", "cost µ$",
                         "uncached µ$"], rows)
    return table, figures


MODES = {"rate gate + retry layer (lm_for)": True, "plain dspy.LM (DSPy's 3 retries)": False}


def harvest_part(rate: float, problems: int, samples: int, concurrency: int, mode: str) -> dict:
    with LoopbackAnthropic(reply=ANSWER, requests_per_s=rate) as server, tempfile.TemporaryDirectory() as out:
        config = config_from_dict({"program": "strawberry", "model": MODEL, "api_base": server.url,
                                   "concurrency": concurrency, "limit": problems, "split": "train"})
        gated = MODES[mode]
        lm = lm_for(config)
        plain = lm if gated else dspy.LM(MODEL, api_base=server.url, api_key="local", temperature=config.temperature,
                                         max_tokens=256, num_retries=3, cache=config.cache,
                                         prompt_cache=lm.kwargs["prompt_cache"])
        start = time.perf_counter()
        summary = harvest(config, out, samples=samples, lm=plain, progress=False)
        wall = time.perf_counter() - start
        served = server.messages(200)
        span = served[-1].at - served[0].at if len(served) > 1 else wall
        return {"mode": mode, "traces": summary.new,
                "failed": summary.new_failed, "served": len(served), "refused": len(server.messages(429)),
                "rps": (len(served) - 1) / span if span else 0.0, "wall": wall,
                "lowest": lm.gate.lowest if gated else None, "gate_429": lm.gate.refusals if gated else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--rate", type=float, default=10.0, help="requests/s the rate-limited server allows")
    parser.add_argument("--problems", type=int, default=24)
    parser.add_argument("--samples", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--out", type=Path, default=ROOT / "eval/providers/report.md")
    args = parser.parse_args()
    logger.remove()
    table, f = caching_part(args.turns)
    runs = [harvest_part(args.rate, args.problems, args.samples, args.concurrency, mode) for mode in MODES]
    versions = package_versions()
    command = "python eval/providers/providers.py" + ("" if args.out == ROOT / "eval/providers/report.md" else f" --out {args.out}")
    harvest_rows = [[r["mode"], str(r["traces"]), str(r["failed"]), str(r["served"]), str(r["refused"]),
                     "-" if r["gate_429"] is None else str(r["gate_429"]),
                     "-" if r["lowest"] is None else f"{r['lowest']}/{args.concurrency}", f"{r['rps']:.1f}",
                     f"{r['wall']:.1f}"] for r in runs]
    text = f"""# Providers against their wire formats: prompt caching and rate limits

Command: `{command}`

Date {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; dspy {versions.get('dspy')}, litellm {versions.get('litellm')}.
Server: `strawberry_dspy/testing/loopback_anthropic.py` on 127.0.0.1 (Anthropic's Messages API, its cache rules and usage fields;
tokens are words). Client: the real DSPy LM that `lm_for` builds for `{MODEL}` with `api_base` at the server.
**Verified against the wire format only: no request here reached Anthropic or any other real service.**

## 1. A {args.turns}-turn strawberry trace with the prompt cache (default for `anthropic/`)

Every request carries two `cache_control` marks, on the system prompt and on the last message (DSPy 3.4's
`CacheConfig(prefix="history")`); from the second request on, the server reports the previous request's whole
prompt as a cache read, and the trace records it. Cost at litellm's list price for claude-haiku-4-5
(input ${litellm_price(MODEL).input * 1e6:.2f}/M, cache read ${litellm_price(MODEL).cache_read * 1e6:.2f}/M,
cache write ${litellm_price(MODEL).cache_write * 1e6:.2f}/M, output ${litellm_price(MODEL).output * 1e6:.2f}/M).

```
{table}
```

| figure | measured |
| --- | --- |
| requests with the prefix marked | {f['marked']} of {f['requests']} |
| requests after the first with a cache read reported and recorded | {f['reads_reported']} of {f['requests'] - 1} |
| requests marked with `prompt_cache: off` | {f['plain_marked']} of {f['requests']} |
| prompt tokens served from the cache | {f['read_share']:.1%} |
| cost of the trace, cached | ${f['cached_usd']:.6f} |
| cost of the same trace with `prompt_cache: off` (measured) | ${f['off_usd']:.6f} (computed from the cached run's tokens: ${f['uncached_usd']:.6f}) |
| uncached / cached | **{f['factor']:.2f}x** |
| prompt part, cached / uncached: measured vs predicted from Anthropic's multipliers (1.25 x last prompt + 0.1 x the earlier ones) | {f['measured_prompt']:.4f} vs {f['predicted_prompt']:.4f} |

## 2. A harvest at concurrency {args.concurrency} against a server that allows {args.rate:g} requests/s

{args.problems} problems x {args.samples} samples of the `strawberry` program, one LM call per trace (the server's reply
is a final answer). Beyond its rate (a token bucket with one second of burst) the server answers 429 with
`retry-after` (whole seconds) and `anthropic-ratelimit-requests-*` headers. The LM `lm_for` builds retries every
429 after its `retry-after` (`models/retry.py`) and passes each single try through the rate gate, so the gate sees
every 429; the plain `dspy.LM` row has DSPy's own 3 retries only.

```
{format_grid(["mode", "traces", "failed", "served", "429s sent", "429s at the gate", "lowest limit", "served/s",
              "wall s"], harvest_rows)}
```

"served/s": requests answered 200 per second between the first and the last answered one.
"""
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
