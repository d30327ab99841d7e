"""A thread-safe scripted model for harvests (DummyLM underneath) and a jsonl benchmark to harvest.

With `strawberry.check_every=1` every trace is: a step, then a confidence check answered with
<final_answer>. The model answers the first `correct[question]` checks of each question right and
the rest wrong, so a harvest of K >= correct samples has a known pass rate per problem whatever
the thread scheduling. Questions in `failing` raise on every call, like a provider that keeps failing.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter
from pathlib import Path

from dspy.clients.engines.dummy_engine import AsyncDummyEngine, DummyEngine
from dspy.lm15 import Message, Response, TextPart, Usage
from dspy.utils.dummies import DummyLM

from strawberry_dspy.config import ProgramSettings, config_from_dict
from strawberry_dspy.program.adapter import TextAdapter

STEP = "Let me add the two numbers carefully."
_QUESTION = re.compile(r"Problem: (.*?)\n\n", re.DOTALL)


class _Engine(DummyEngine):
    def _complete_messages(self, messages):
        owner = self.owner
        if owner.delay:
            time.sleep(owner.delay)
        text = owner.reply(messages)
        prompt = sum(len(m["content"].split()) for m in messages)
        words = len(text.split())
        return Response(id=None, model="dummy", message=Message.assistant([TextPart(text)]), finish_reason="stop",
                        usage=Usage(input_tokens=prompt, output_tokens=words, total_tokens=prompt + words))


class HarvestLM(DummyLM):
    """Steps, then right answers for `correct[q]` checks of question q; one token per word.

    Without `spread` the first `correct[q]` checks are right; with spread=K the right ones are spread
    evenly over the first K checks (the first one right), as a problem with pass rate correct/K would be.
    """

    def __init__(self, gold: dict[str, str], correct: dict[str, int] | None = None, failing: set[str] = frozenset(),
                 delay: float = 0.0, spread: int | None = None):
        super().__init__([], adapter=TextAdapter())
        self.gold, self.correct, self.failing, self.delay, self.spread = gold, correct or {}, set(failing), delay, spread
        self.lock = threading.Lock()
        self.checks = Counter()  # question -> checks answered so far
        self.calls = 0
        self._engine_spec = _Engine(self)
        self._async_engine_spec = AsyncDummyEngine(self._engine_spec)

    def reply(self, messages: list[dict]) -> str:
        question = next(m.group(1) for m in map(_QUESTION.match, (x["content"] for x in messages)) if m)
        with self.lock:
            self.calls += 1
        if question in self.failing:
            raise ConnectionError(f"provider unavailable for {question!r}")
        if "final_answer" not in messages[-1]["content"]:
            return STEP
        with self.lock:
            index = self.checks[question]
            self.checks[question] += 1
        gold, right = self.gold[question], self.correct.get(question, 0)
        if self.spread:
            is_right = index < self.spread and -(-(index + 1) * right // self.spread) > -(-index * right // self.spread)
        else:
            is_right = index < right
        answer = gold if is_right else f"{gold}1"
        return f"<final_answer>{answer}</final_answer>"


def write_problems(path: Path, n: int) -> Path:
    """A jsonl file of n addition problems."""
    with open(path, "w") as f:
        for i in range(n):
            f.write(json.dumps({"id": f"p{i}", "question": f"What is {i} + {i + 7}?", "answer": str(2 * i + 7)}) + "\n")
    return path


def harvest_config(problems_file: Path, **extra) -> ProgramSettings:
    """A strawberry config whose traces are one step and one check."""
    data = {"program": "strawberry", "benchmark": f"jsonl:{problems_file}", "split": "train", "limit": 6,
            "concurrency": 3, "strawberry": {"check_every": 1, "verifier_every": 0, "max_turns": 4, "force_answer": False}}
    for key, value in extra.items():
        data[key] = value
    return config_from_dict(data)


def gold_of(config: ProgramSettings) -> dict[str, str]:
    """question -> gold answer for the config's problems."""
    from strawberry_dspy.benchmarks import load_benchmark

    return {p.question: p.answer for p in load_benchmark(config.benchmark).problems(config.split, config.limit)}
