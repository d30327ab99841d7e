"""A scripted LM for tests: `dspy.utils.DummyLM` speaking the free-text format of the project's TextAdapter."""

from __future__ import annotations

import dataclasses

from dspy.clients.engines.dummy_engine import DummyEngine
from dspy.lm15 import Usage
from dspy.utils.dummies import DummyLM

from strawberry_dspy.program.adapter import TextAdapter


class _CountingEngine(DummyEngine):
    """DummyLM's engine, but reporting one completion token per word so token budgets can be tested."""

    def _complete_messages(self, messages):
        response = super()._complete_messages(messages)
        words = len("".join(p.text for p in response.message.parts if hasattr(p, "text")).split())
        prompt = sum(len(m["content"].split()) for m in messages)
        usage = Usage(input_tokens=prompt, output_tokens=words, total_tokens=prompt + words)
        return dataclasses.replace(response, usage=usage)


def scripted_lm(answers, count_tokens: bool = False) -> DummyLM:
    """A DummyLM whose replies are free text (the TextAdapter's format), given in order.

    Each answer is a dict naming the turn's output field, e.g. `{"step": "2 + 2 = 4."}` for a reasoning step,
    `{"reply": "<final_answer>4</final_answer>"}` for a check, `{"answer": ...}` for zero_shot; `count_tokens`
    reports one token per word (prompt and completion), so token budgets can be tested.
    """
    lm = DummyLM(answers, adapter=TextAdapter())
    if count_tokens:
        lm._engine_spec = _CountingEngine(lm)
    return lm


def all_prompt_text(lm: DummyLM) -> str:
    """Every message content the LM was ever sent."""
    return "\n".join(m["content"] for h in lm.history for m in h["messages"])
