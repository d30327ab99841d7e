"""The seed's ideas, one DSPy module each: step, nudge, confidence check, verifier, title."""

from __future__ import annotations

import random

import dspy

from strawberry_dspy.program.signatures import CheckSignature, StepSignature, TitleSignature, VerifySignature
from strawberry_dspy.program.turn_call import Reply, call_turn
from strawberry_dspy.program.verdict import parse_verdict


def _predict(signature, instructions: str | None) -> dspy.Predict:
    return dspy.Predict(signature.with_instructions(instructions) if instructions else signature)


class ReasoningStep(dspy.Module):
    """The most minuscule step toward the solution; its instructions are the chat's system prompt."""

    def __init__(self, instructions: str | None = None, max_tokens: int = 64, stop: list[str] | None = None):
        super().__init__()
        self.predict = _predict(StepSignature, instructions)
        self.max_tokens = max_tokens
        self.stop = list(stop or [])

    @property
    def system_prompt(self) -> str:
        return self.predict.signature.instructions

    def forward(self, conversation: list[dict], prompt: str, config: dict) -> Reply:
        stop = {"stop": self.stop} if self.stop else {}
        return call_turn(self.predict, conversation, prompt, {**config, "max_tokens": self.max_tokens, **stop})


class Nudge(dspy.Module):
    """A user prompt between steps, drawn at random (seeded by the caller's rng) from a set."""

    def __init__(self, nudges: list[str], continue_prompt: str, probability: float = 1.0):
        super().__init__()
        self.nudges = list(nudges)
        self.continue_prompt = continue_prompt
        self.probability = probability

    def forward(self, rng: random.Random) -> tuple[str, int | None]:
        """Return the nudge text and its index in the set (None for the continue prompt)."""
        if self.nudges and rng.random() < self.probability:
            index = rng.randrange(len(self.nudges))
            return self.nudges[index], index
        return self.continue_prompt, None


class ConfidenceCheck(dspy.Module):
    """Every N steps: does the model have a final answer? If so it is in <final_answer> tags."""

    def __init__(self, every: int = 3, instructions: str | None = None, max_tokens: int = 64, prefill: str = ""):
        super().__init__()
        self.predict = _predict(CheckSignature, instructions)
        self.every = every
        self.max_tokens = max_tokens
        self.prefill = prefill

    @property
    def question(self) -> str:
        return self.predict.signature.instructions

    def due(self, steps_since_check: int) -> bool:
        return steps_since_check >= self.every

    def forward(self, conversation: list[dict], prompt: str, config: dict, prefill: str | None = None) -> Reply:
        """The reply; the caller parses its <final_answer> tags."""
        prefill = self.prefill if prefill is None else prefill
        return call_turn(self.predict, conversation, prompt, {**config, "max_tokens": self.max_tokens}, prefill)


class WindowedVerifier(dspy.Module):
    """Critiques a window of recent steps; it sees the problem, never the gold answer."""

    def __init__(self, window: int = 4, every: int = 4, instructions: str | None = None, max_tokens: int = 96):
        super().__init__()
        self.predict = _predict(VerifySignature, instructions)
        self.window = window
        self.every = every
        self.max_tokens = max_tokens

    def due(self, steps: int) -> bool:
        return self.every > 0 and steps > 0 and steps % self.every == 0

    def forward(self, question: str, recent_steps: list[str], config: dict) -> tuple[Reply, str]:
        shown = recent_steps[-self.window:]
        numbered = "\n".join(f"{i}. {s}" for i, s in enumerate(shown, 1))
        conversation = [
            {"role": "system", "content": self.predict.signature.instructions},
            {"role": "user", "content": f"Problem: {question}\n\nRecent steps:\n{numbered}"},
        ]
        reply = call_turn(self.predict, conversation, "", {**config, "max_tokens": self.max_tokens})
        return reply, parse_verdict(reply.text)


class StepTitle(dspy.Module):
    """A short o1-style title for each block of steps (asked on the chat, never added to it)."""

    def __init__(self, every: int = 0, max_tokens: int = 16):
        super().__init__()
        self.predict = dspy.Predict(TitleSignature)
        self.every = every
        self.max_tokens = max_tokens

    def due(self, steps: int) -> bool:
        return self.every > 0 and steps > 0 and steps % self.every == 0

    def forward(self, conversation: list[dict], config: dict) -> Reply:
        prompt = self.predict.signature.instructions
        return call_turn(self.predict, conversation, prompt, {**config, "max_tokens": self.max_tokens})
