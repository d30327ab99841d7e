"""Synthetic harvest stores of any size, written through the store's own write API (`TraceStore.write_trace`).

    python eval/throughput/synthetic_store.py DIR --traces 10000

Each trace has the shape of a `strawberry_full` trace (about 27 turns: steps, nudges, checks, verifier verdicts,
titles, a forced final answer, ~80 characters a turn); problems get 8 samples with a spread of pass rates. The
problems are also written to DIR/problems.jsonl, the store's benchmark, so export can decontaminate against it.
`grow` adds traces to an existing store, so one store can be measured at 10k, copied, and grown to 30k and 100k.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from strawberry_dspy.band import DEFAULT_BAND
from strawberry_dspy.benchmarks import Problem, question_hash
from strawberry_dspy.program.trace import Turn
from strawberry_dspy.store import TraceStore

SAMPLES = 8
NUDGES = ["What's your next step?", "Are you sure?", "Any mistakes so far?", "Double-check your last step."]
STEPS = 12  # 12 steps, 4 checks, 3 verdicts, 3 titles, a forced answer: 27 LM calls


def problem(index: int) -> Problem:
    """The index-th synthetic problem: a sum with a numeric gold answer."""
    a, b = index % 97, index // 97
    question = f"Problem {index}: what is {a} + {b}? Show every minuscule step of the addition."
    return Problem(question_hash(question)[:16], question, str(a + b))


def trace(rng: random.Random, gold: int, correct: bool) -> tuple[list[Turn], str]:
    """The turns of one synthetic trace and its final answer."""
    turns = [Turn("system", "system", "You reason in minuscule steps. Take exactly one small step per reply."),
             Turn("user", "problem", "Problem: what is the sum?\n\nTake the first minuscule step.")]
    guess = gold + rng.choice([-2, -1, 1, 3])
    for step in range(1, STEPS + 1):
        text = f"Step {step}: I add the next digit and carry; so far the partial sum is {guess if step % 2 else gold}."
        turns.append(Turn("assistant", "step", text, 180 + 12 * step, 24, 150 + 12 * step, 0.05, {"step": step}))
        if step % 4 == 0:
            verdict = rng.choice(["correct", "incorrect", "unclear"])
            turns.append(Turn("verifier", "verify", f"The last steps look plausible. VERDICT: {verdict}", 90, 16, 0,
                              0.04, {"verdict": verdict, "step": step, "window": 4}))
            turns.append(Turn("assistant", "title", f"Adding digits, part {step // 4}", 200, 6, 190, 0.02,
                              {"step": step}))
        if step % 3 == 0:
            turns.append(Turn("user", "check", "Do you have the final answer?", meta={}))
            turns.append(Turn("assistant", "check", f"Not yet; the running total is {guess}.", 220, 12, 200, 0.03,
                              {"answer_status": "missing", "parse_error": None}))
        nudge = rng.choice(NUDGES)
        rng.randrange(len(NUDGES))  # drawn as before (an index unrelated to the text), so the pinned figures stand
        turns.append(Turn("user", "nudge", nudge, meta={"nudge": NUDGES.index(nudge)}))
    answer = str(gold if correct else guess)
    turns.append(Turn("user", "check", "Time is up: give your final answer now.", meta={"forced": True}))
    turns.append(Turn("assistant", "final", f"<final_answer>{answer}</final_answer>", 400, 10, 380, 0.03,
                      {"answer_status": "ok", "forced": True}))
    return turns, answer


def grow(directory: Path, traces: int, seed: int = 0) -> int:
    """Add traces to the store in `directory` (created if absent) until it holds `traces`; returns how many."""
    store = (TraceStore.open(directory, readonly=False) if (directory / "traces.sqlite").exists() else
             TraceStore.create(directory, {"program": "strawberry_full", "program_hash": "synthetic",
                                           "model": "openai/stub-model",
                                           "benchmark": f"jsonl:{directory.resolve()}/problems.jsonl",
                                           "split": "train", "samples": str(SAMPLES), "temperature": "0.7",
                                           # as a harvest against a stub server records it (no list price to look up)
                                           "config_json": json.dumps({"api_base": "http://127.0.0.1:1/v1"})}))
    with store:
        have = store.count()
        first, last = have // SAMPLES, -(-traces // SAMPLES)
        problems = [problem(i) for i in range(first, last)]
        store.add_problems(problems, "train")
        with open(directory / "problems.jsonl", "a", encoding="utf-8") as f:
            for p in problems:
                f.write(json.dumps({"question": p.question, "answer": p.answer}) + "\n")
        rng = random.Random(seed * 1_000_003 + have)
        for n in range(have, traces):
            p = problem(n // SAMPLES)
            rate = (n // SAMPLES % 9) / 8  # pass rates 0, 1/8, ..., 1 across problems
            correct = rng.random() < rate
            turns, answer = trace(rng, int(p.answer), correct)
            steps = sum(t.kind == "step" for t in turns)
            store.write_trace({"problem_id": p.id, "sample": n % SAMPLES, "seed": n, "final_answer": answer,
                               "extracted": answer, "correct": int(correct), "score": float(correct),
                               "stop_reason": "max_turns", "answer_status": "ok", "steps": steps,
                               "prompt_tokens": sum(t.prompt_tokens for t in turns),
                               "completion_tokens": sum(t.completion_tokens for t in turns),
                               "cached_tokens": sum(t.cached_tokens for t in turns), "latency_s": 1.0,
                               "model": "openai/stub-model", "program_hash": "synthetic", "error": None}, turns)
        store.set_selection(store.pass_rates(), DEFAULT_BAND)
        return max(0, traces - have)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", type=Path)
    parser.add_argument("--traces", type=int, default=10_000)
    args = parser.parse_args()
    print(f"added {grow(args.dir, args.traces)} traces to {args.dir}")


if __name__ == "__main__":
    main()
