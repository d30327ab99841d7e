"""A recipe's program knobs (`strawberry:`, `baseline:`): below config and program, which both read them."""

from __future__ import annotations

import string
from dataclasses import dataclass, field

from strawberry_dspy.errors import UserError

STEP_FORMATS = ("plain", "numbered", "scratchpad")
REANCHOR = ("none", "nudges", "checks", "both")
DEFAULT_NUDGES = [
    "What's your next step?",
    "Are you sure?",
    "Any mistakes so far?",
    "How would you verify your answer?",
    "Is there another way to check that?",
    "Double-check your last step.",
    "What do you know so far?",
    "Continue, one small step.",
]


@dataclass
class BaselineSettings:
    """Knobs of the single-call baselines (zero_shot, cot)."""

    instructions: str | None = None  # replaces the signature's instructions
    max_tokens: int = 256  # max completion tokens of the answer
    temperature: float | None = None  # sampling temperature (None = the run's)

    def validate(self) -> None:
        """Raise a UserError naming the first broken rule."""
        if self.max_tokens < 1:
            raise UserError(f"baseline.max_tokens must be >= 1, got {self.max_tokens}")


@dataclass
class StrawberrySettings:
    """Knobs of the turn loop; help text is the comment beside each field."""

    first_prompt: str = "Problem: {question}\n\nTake the first minuscule step."  # first user message
    continue_prompt: str = "What's your next step?"  # user message when no nudge is drawn
    nudges: list[str] = field(default_factory=lambda: list(DEFAULT_NUDGES))  # random user nudges between steps
    nudge_probability: float = 1.0  # chance that a nudge replaces the continue prompt
    check_every: int = 3  # ask for a final answer after every N steps
    accept_early_answer: bool = True  # a <final_answer> in an ordinary step also ends the trace
    verifier_every: int = 4  # critique the recent window after every N steps (0 = off)
    verifier_window: int = 4  # how many recent steps the verifier sees
    title_every: int = 0  # title each block of N steps (0 = off)
    max_turns: int = 24  # budget: steps and checks on the main chat
    max_tokens: int = 2048  # budget: completion tokens of the whole trace
    force_answer: bool = True  # when a budget runs out, ask once more for a final answer
    temperature: float | None = None  # sampling temperature per call (None = the model's default)
    check_temperature: float | None = None  # temperature of checks, forced answers, verifier, titles (None = temperature)
    step_format: str = "plain"  # plain | numbered ("Step N:" starts each step) | scratchpad (recent steps in each prompt)
    reanchor: str = "none"  # restate the problem in: none | nudges | checks | both
    demos: list[dict] = field(default_factory=list)  # worked demos {question, steps: [...], answer} before the chat
    step_tokens: int = 64  # max completion tokens of one step
    step_stop: list[str] = field(default_factory=lambda: ["\n\n"])  # stop sequences that keep a step minuscule
    check_prefill: str = ""  # how a check reply starts ("<final_answer>" forces an answer at every check)
    answer_prefill: str = "<final_answer>"  # how the forced answer at the end of a budget starts
    check_tokens: int = 64  # max completion tokens of a check reply
    verify_tokens: int = 96  # max completion tokens of a critique
    title_tokens: int = 16  # max completion tokens of a title
    system_prompt: str | None = None  # replaces ReasoningStep's instructions (the system prompt)
    check_prompt: str | None = None  # replaces ConfidenceCheck's instructions
    verifier_prompt: str | None = None  # replaces WindowedVerifier's instructions
    force_prompt: str = "Time is up. Give your best final answer now, inside <final_answer></final_answer> tags."

    def validate(self) -> None:
        """Raise a UserError naming the first broken rule."""
        problems = []
        for name in ("check_every", "max_turns", "max_tokens", "step_tokens", "check_tokens", "verify_tokens", "title_tokens", "verifier_window"):
            if getattr(self, name) < 1:
                problems.append(f"strawberry.{name} must be >= 1, got {getattr(self, name)}")
        for name in ("verifier_every", "title_every"):
            if getattr(self, name) < 0:
                problems.append(f"strawberry.{name} must be >= 0 (0 turns it off), got {getattr(self, name)}")
        if not 0.0 <= self.nudge_probability <= 1.0:
            problems.append(f"strawberry.nudge_probability must be in [0, 1], got {self.nudge_probability}")
        if self.nudge_probability > 0 and not self.nudges:
            problems.append("strawberry.nudges is empty but nudge_probability > 0: list some nudges or set it to 0")
        problems += self._placeholder_problems()
        for name, allowed in (("step_format", STEP_FORMATS), ("reanchor", REANCHOR)):
            if getattr(self, name) not in allowed:
                problems.append(f"strawberry.{name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}")
        for i, demo in enumerate(self.demos):
            problems += demo_problems(i, demo)
        if self.check_temperature is not None and self.check_temperature < 0:
            problems.append(f"strawberry.check_temperature must be >= 0, got {self.check_temperature}")
        if not problems and "{question}" not in self.first_prompt:
            problems.append("strawberry.first_prompt must contain {question}")
        if problems:
            raise UserError(problems[0])

    def _placeholder_problems(self) -> list[str]:
        """first_prompt is formatted with {question} only; the other user messages are sent as written."""
        texts = [("first_prompt", self.first_prompt, FIRST_PROMPT_FIELDS), ("continue_prompt", self.continue_prompt, ()),
                 ("force_prompt", self.force_prompt, ())]
        texts += [(f"nudges[{i}]", nudge, ()) for i, nudge in enumerate(self.nudges)]
        problems = []
        for key, text, allowed in texts:
            unknown = placeholder_problem(text, allowed)
            if unknown:
                problems.append(f"strawberry.{key} holds {unknown}: {allowed_text(allowed)} "
                                "(write {{ and }} for literal braces)")
        return problems


FIRST_PROMPT_FIELDS = ("question",)
DEMO_SHAPE = "{question: TEXT, steps: [TEXT, ...], answer: TEXT}"


def demo_problems(i: int, demo: object) -> list[str]:
    """What is wrong with one worked demo (a string as `steps` would be sent as one turn per character)."""
    where = f"strawberry.demos[{i}]"
    if not isinstance(demo, dict) or set(demo) != {"question", "steps", "answer"}:
        return [f"{where} must be {DEMO_SHAPE}, got {str(demo)[:80]!r}"]
    steps = demo["steps"]
    if not isinstance(steps, list) or not steps:
        return [f"{where}.steps must be a list of at least one step, got {type(steps).__name__} {str(steps)[:60]!r}; "
                f"write steps: [\"first step\", \"second step\"]"]
    bad = next((j for j, step in enumerate(steps) if not isinstance(step, str) or not step.strip()), None)
    if bad is not None:
        return [f"{where}.steps[{bad}] must be non-empty text, got {steps[bad]!r}"]
    for key in ("question", "answer"):
        if not isinstance(demo[key], (str, int, float)) or isinstance(demo[key], bool) or not str(demo[key]).strip():
            return [f"{where}.{key} must be non-empty text, got {demo[key]!r}"]
    return []


def placeholder_problem(text: str, allowed: tuple[str, ...]) -> str | None:
    """What is wrong with a prompt's {placeholders} ('the unknown placeholder {x}'), or None."""
    try:
        fields = [name for _, name, spec, _ in string.Formatter().parse(text) if name is not None]
    except ValueError as exc:  # a lone { or }
        return f"a malformed placeholder ({exc})"
    for name in fields:
        if name not in allowed:
            return f"the unknown placeholder {{{name}}}"
    return None


def allowed_text(allowed: tuple[str, ...]) -> str:
    if not allowed:
        return "this message is sent as written, with no placeholders"
    return "the allowed placeholders are " + ", ".join(f"{{{name}}}" for name in allowed)
