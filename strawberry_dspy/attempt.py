"""The one execution seam: a program attempts one (problem, seed) under the recipe's LM and adapter, and is scored.

`run` and compile's evaluations (`evaluate.solve_problem`), `harvest` (`harvester.sample_trace`) and the UI's
Playground (`ui/live.py`) call `attempt`; DSPy's optimizers inside compile run the program under `program_context`
(`compile/optimizers.UnderTextAdapter`). So a recipe setting (max_reply_chars, the scorer) means the same everywhere;
the Playground streams its calls (`on_delta`) through this same seam, so a streamed trace is the trace.
"""

from __future__ import annotations

import time
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Callable

import dspy
from loguru import logger

from strawberry_dspy.program.adapter import TextAdapter
from strawberry_dspy.program.streaming import Delta, streamed
from strawberry_dspy.program.trace import Trace
from strawberry_dspy.scoring import Score


def program_context(lm: dspy.BaseLM | None, max_reply_chars: int) -> AbstractContextManager:
    """The DSPy settings a program runs under: its LM and the TextAdapter that cuts replies at max_reply_chars.

    lm None keeps the caller's LM (an optimizer's teacher sets its own).
    """
    settings: dict[str, Any] = {"adapter": TextAdapter(max_reply_chars)}
    if lm is not None:
        settings["lm"] = lm
    return dspy.context(**settings)


@dataclass
class Attempt:
    """One (problem, seed) answered: the trace, its score (None when the trace failed) and the time it took."""

    trace: Trace
    score: Score | None
    wall_s: float

    @property
    def failed(self) -> bool:
        """The program failed (a provider error, an exception): nothing was answered."""
        return self.trace.stop_reason == "error"


def attempt(program: dspy.Module, question: str, seed: int, lm: dspy.BaseLM | None, max_reply_chars: int,
            score: Callable[[str | None], Score], call: Callable[[], Any] | None = None,
            on_delta: Callable[[Delta], None] | None = None) -> Attempt:
    """The program's answer to `question` with `seed`, under program_context(lm, max_reply_chars), scored by `score`.

    `call` replaces `program(question=question, seed=seed)` (the Playground's resumable session); with `on_delta`
    every LM call is streamed and on_delta sees its pieces as they arrive (program/streaming.py). A program
    that raises, or returns no trace, gives a failed trace: failures are data, never an exception.
    """
    start = time.perf_counter()
    run = call if call is not None else lambda: program(question=question, seed=seed)
    try:
        with program_context(lm, max_reply_chars):
            prediction = streamed(run, program, on_delta) if on_delta is not None else run()
        trace = getattr(prediction, "trace", None)
        if not isinstance(trace, Trace):
            trace = Trace(stop_reason="error", error=f"{type(program).__name__} returned no trace")
    except Exception as exc:  # the program should record its own failures; any that escape are data too
        logger.opt(exception=exc).debug("{} raised", type(program).__name__)
        trace = Trace(stop_reason="error", error=f"{type(exc).__name__}: {exc}"[:1000])
    wall = time.perf_counter() - start
    return Attempt(trace, None if trace.stop_reason == "error" else score(trace.final_answer), wall)
