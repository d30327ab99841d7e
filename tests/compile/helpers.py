"""Scripted pieces for compile tests: a rule-following LM, a small arithmetic benchmark file, a recipe."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from dspy.clients.engines.dummy_engine import AsyncDummyEngine, DummyEngine
from dspy.lm15 import Message, Response, TextPart, Usage
from dspy.utils.dummies import DummyLM

from strawberry_dspy.benchmarks import load_benchmark
from strawberry_dspy.config import config_from_dict
from strawberry_dspy.program.adapter import TextAdapter

QUESTION = re.compile(r"What is (\d+) \+ (\d+)\?")


class _RuleEngine(DummyEngine):
    """DummyLM's engine, replying with rule(messages) instead of a script (stateless, so thread-safe)."""

    def __init__(self, owner, rule):
        super().__init__(owner)
        self.rule = rule

    def _complete_messages(self, messages):
        text = self.rule(messages)
        return Response(id=None, model="dummy", message=Message.assistant([TextPart(text)]), finish_reason="stop",
                        usage=Usage(input_tokens=0, output_tokens=0, total_tokens=0))


def rule_lm(rule) -> DummyLM:
    """A DummyLM whose reply to a chat is rule(messages)."""
    lm = DummyLM([], adapter=TextAdapter())
    lm._engine_spec = _RuleEngine(lm, rule)
    lm._async_engine_spec = AsyncDummyEngine(lm._engine_spec)
    return lm


def gold_sum(messages) -> int | None:
    """The sum asked in the chat's own problem (the last one: demos come before it)."""
    for message in reversed(messages):
        match = QUESTION.search(message.get("content") or "")
        if match:
            return int(match.group(1)) + int(match.group(2))
    return None


def is_check(messages) -> bool:
    """A confidence check or the forced answer: the reply is prefilled, or the prompt asks for the answer."""
    last = messages[-1]
    asks = messages[-2] if last["role"] == "assistant" else last
    return last["role"] == "assistant" or "final answer" in asks["content"].lower()


def right_after_three_steps(messages) -> str:
    """Steps are filler; a check answers right only after exactly three steps (so check_every=3 is best).

    Steps are counted from the problem message on, so demos placed before the chat do not count.
    """
    if not is_check(messages):
        return "I add the numbers."
    start = max(i for i, m in enumerate(messages) if m["role"] == "user" and m["content"].startswith("Problem:"))
    steps = sum(1 for m in messages[start:] if m["role"] == "assistant" and "final_answer" not in m["content"])
    answer = gold_sum(messages) if steps == 3 else -1
    return f"<final_answer>{answer}</final_answer>"


def write_sums(path: Path, n: int = 60) -> str:
    """A jsonl benchmark of n sums; returns its spec."""
    with path.open("w") as f:
        for i in range(n):
            a, b = i % 10, (i * 7) % 13
            f.write(json.dumps({"question": f"What is {a} + {b}? (#{i})", "answer": str(a + b)}) + "\n")
    return f"jsonl:{path}"


RECIPE = {
    "program": "strawberry",
    "concurrency": 2,
    "seed": 0,
    "strawberry": {"check_every": 2, "max_turns": 8, "verifier_every": 0, "force_answer": False,
                   "check_prefill": "<final_answer>"},
}


def write_recipe(tmp_path: Path, benchmark: str, **extra) -> tuple[Path, object]:
    """A recipe file and its config; extra keys override the recipe's top level."""
    data = {**RECIPE, "benchmark": benchmark, **extra}
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path, config_from_dict(data, source=str(path))


def split_sizes(spec: str) -> dict:
    bench = load_benchmark(spec)
    return {s: len(bench.problems(s)) for s in ("train", "dev", "test")}
