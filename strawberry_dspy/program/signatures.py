"""Signatures of the strawberry modules: each call has one free-text output.

The instructions are the prompts the program actually sends (and what an optimizer
rewrites): ReasoningStep's become the fixed system prompt of the chat, ConfidenceCheck's
and StepTitle's are appended as the next user message, WindowedVerifier's are the system
prompt of its own short chat.
"""

import dspy

Conversation = list[dict]


class StepSignature(dspy.Signature):
    """You are a careful problem solver. Work toward the solution in the most minuscule steps: each reply is one short step, a phrase or a single sentence, building on the steps before. Do not give the final answer until you are asked for it."""

    conversation: Conversation = dspy.InputField(desc="the chat so far, system prompt first")
    prompt: str = dspy.InputField(desc="the user's nudge for this turn")
    prefill: str = dspy.InputField(default="", desc="how the step starts (e.g. 'Step 3:' for numbered steps)")
    step: str = dspy.OutputField(desc="one minuscule reasoning step")


class CheckSignature(dspy.Signature):
    """Do you have the final answer now? If you are confident, reply with only the answer inside <final_answer></final_answer> tags. If not, reply with your next small step."""

    conversation: Conversation = dspy.InputField(desc="the chat so far, system prompt first")
    prompt: str = dspy.InputField(desc="the check question, possibly preceded by verifier feedback")
    prefill: str = dspy.InputField(default="", desc="how the reply starts (e.g. '<final_answer>' for weak models)")
    reply: str = dspy.OutputField(desc="a <final_answer> or one more step")


class VerifySignature(dspy.Signature):
    """You are a strict verifier. Check the recent reasoning steps for a mistake. Reply with one or two sentences of critique, then end with VERDICT: correct or VERDICT: incorrect."""

    conversation: Conversation = dspy.InputField(desc="the problem and a window of recent steps")
    prompt: str = dspy.InputField(desc="unused: the window is the user message")
    critique: str = dspy.OutputField(desc="a short critique ending in a verdict")


class TitleSignature(dspy.Signature):
    """Give a short title, at most six words, for the reasoning steps so far. Reply with the title only."""

    conversation: Conversation = dspy.InputField(desc="the chat so far, system prompt first")
    prompt: str = dspy.InputField(desc="the title request")
    title: str = dspy.OutputField(desc="an o1-style step title")


class AnswerSignature(dspy.Signature):
    """Solve the problem."""

    question: str = dspy.InputField()
    answer: str = dspy.OutputField()
