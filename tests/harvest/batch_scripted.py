"""The loopback model and the store readers of the --batch harvest tests (test_harvest_batch*.py).

The model answers by the conversation alone, so a live harvest and a batch harvest of the same seeds get the same
replies: their stores must hold the same traces.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from strawberry_dspy.config import config_from_dict

PROBLEMS, SAMPLES = 5, 2
QUESTION = re.compile(r"What is (\d+) \+ (\d+)\?")
LOOP = {"check_every": 1, "verifier_every": 0, "max_turns": 4, "force_answer": False}
PRICES = {"input": 1.0, "output": 4.0, "cache_read": 0.1, "cache_write": 1.25}
KEY = "test-secret-key"


def texts(body: dict) -> list[tuple[str, str]]:
    """(role, text) of each message of a chat-completions or Messages API body."""
    return [(m["role"], m["content"] if isinstance(m["content"], str) else " ".join(b.get("text", "") for b in m["content"]))
            for m in body["messages"]]


def reply(body: dict) -> str:
    """The loopback model: a step; at a check, 'not yet' for question i's first i % 3 checks, then an answer (right
    or wrong by the number of checks): traces of different lengths, some wrong."""
    chat = texts(body)
    a, b = map(int, QUESTION.search(" ".join(text for _, text in chat)).groups())
    if "final_answer" not in chat[-1][1]:
        return "Let me add the two numbers."
    checks = sum("final_answer" in text for role, text in chat if role == "user")
    if checks <= a % 3:
        return "One more small step: add the tens."
    return f"<final_answer>{a + b + checks % 2}</final_answer>"


def config(problems: Path, model: str, url: str, **extra):
    return config_from_dict({"program": "strawberry", "benchmark": f"jsonl:{problems}", "split": "train",
                             "limit": PROBLEMS, "model": model, "api_base": url, "api_key_env": "BATCH_TEST_KEY",
                             "prices": PRICES, "strawberry": LOOP, **extra})


def stored(out: Path) -> dict:
    """Every trace of a store by (problem, sample): its outcome and its turns (latency and time left out)."""
    with sqlite3.connect(out / "traces.sqlite") as conn:
        traces = conn.execute("SELECT id, problem_id, sample, seed, final_answer, extracted, correct, score, "
                              "stop_reason, answer_status, steps, prompt_tokens, completion_tokens, cached_tokens, "
                              "model, error FROM traces").fetchall()
        return {(t[1], t[2]): (t[3:], conn.execute(
            "SELECT idx, role, kind, content, prompt_tokens, completion_tokens, cached_tokens, meta_json FROM turns "
            "WHERE trace_id = ? ORDER BY idx", (t[0],)).fetchall()) for t in traces}


def waves_needed(traces: dict) -> int:
    """One wave per turn: as many as the longest trace has LM calls."""
    return max(sum(turn[1] == "assistant" for turn in turns) for _, turns in traces.values())


def ledger_rows(out: Path) -> list[tuple]:
    with sqlite3.connect(out / "traces.sqlite") as conn:
        return conn.execute("SELECT batch_id, status FROM batch_calls").fetchall()
