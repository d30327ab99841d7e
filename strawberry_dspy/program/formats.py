"""How the turn loop words its prompts: step formats, re-anchoring to the problem, worked demos.

One home for the text around the model's steps, so the loop and its demos say things the same way.
"""

from __future__ import annotations

from strawberry_dspy.knobs import StrawberrySettings

SCRATCHPAD_STEPS = 4  # the scratchpad line shows the last few steps: a tiny model reads the end of its context
SCRATCHPAD_CHARS = 80  # each step clipped, so the line stays short


def step_prefill(knobs: StrawberrySettings, step: int) -> str:
    """How step number `step` (1-based) starts: numbered steps are started for the model."""
    return f"Step {step}:" if knobs.step_format == "numbered" else ""


def step_prompt(knobs: StrawberrySettings, prompt: str, question: str, steps: list[str], first: bool) -> str:
    """The user message before a step: the nudge, re-anchored to the problem, with the scratchpad line."""
    if not first and knobs.reanchor in ("nudges", "both"):
        prompt = f"{recall(question)}\n{prompt}"
    if knobs.step_format == "scratchpad" and steps:
        recent = [_clip(s) for s in steps[-SCRATCHPAD_STEPS:]]
        prompt = f"{prompt}\nScratchpad so far: {' | '.join(recent)}"
    return prompt


def check_prompt(knobs: StrawberrySettings, prompt: str, question: str) -> str:
    """The user message of a check or the forced answer, re-anchored to the problem when asked."""
    return f"{recall(question)}\n{prompt}" if knobs.reanchor in ("checks", "both") else prompt


def recall(question: str) -> str:
    return f"Recall the problem: {question}"


def demo_chat(knobs: StrawberrySettings, check_question: str) -> list[dict]:
    """The knobs' worked demos as chat turns, worded exactly as the loop words a real problem.

    Each demo is {question, steps, answer}: the first prompt, one step per turn (nudged by the continue
    prompt), then a check answered in <final_answer> tags. They sit after the system prompt, so every
    call of a trace shares them as a cached prefix; keep them short.
    """
    chat: list[dict] = []
    for demo in knobs.demos:
        question, steps = demo["question"], list(demo["steps"])
        done: list[str] = []
        for i, step in enumerate(steps, 1):
            base = knobs.first_prompt.format(question=question) if i == 1 else knobs.continue_prompt
            chat.append({"role": "user", "content": step_prompt(knobs, base, question, done, first=i == 1)})
            text = f"{step_prefill(knobs, i)} {step}".strip()
            chat.append({"role": "assistant", "content": text})
            done.append(text)
        chat.append({"role": "user", "content": check_prompt(knobs, check_question, question)})
        chat.append({"role": "assistant", "content": f"<final_answer>{demo['answer']}</final_answer>"})
    return chat


def _clip(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= SCRATCHPAD_CHARS else line[: SCRATCHPAD_CHARS - 1] + "…"
