"""A program's replies as the model writes them: DSPy's `send_stream` hook, handed over chunk by chunk, in order.

DSPy streams an LM call when `settings.send_stream` is set (its lm15 engines and LiteLLM alike) and the program runs
in an AnyIO worker thread: each chunk is sent from there while the program waits. `streamed` runs a call so, as
`dspy.streamify` does, but hands each chunk to the callback before the program goes on: the callback never sees a
chunk after the turn it belongs to was recorded (streamify queues chunks for another thread to read later). DSPy's
StreamListener does not apply: it finds an output field by ChatAdapter / JSONAdapter / XMLAdapter markers, and the
TextAdapter's reply is one free-text field, the whole completion.

The reply does not change: the same request (streamed), assembled by DSPy into the same response and parsed by the
same adapter. A cached call, or a provider that cannot stream (models/retry.py asks it again unstreamed), sends no
chunks: its turn arrives whole.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

import dspy
from dspy.utils.asyncify import asyncify

T = TypeVar("T")


@dataclass(frozen=True)
class Delta:
    """A piece of a reply as the model writes it: which predictor asked (its name in the program), text, thinking."""

    source: str  # "step", "check", "verifier", "title" (a baseline's "predictor"); "" for a predictor not the program's
    text: str = ""
    thinking: str = ""  # a reasoning model's own thinking, streamed beside the reply (`reasoning_content`)


def predictor_names(program: dspy.Module) -> dict[int, str]:
    """id(predictor) -> the name of the program's module that owns it ("step" for `step.predict`)."""
    return {id(predictor): name.split(".")[0] for name, predictor in program.named_predictors()}


def delta_of(chunk: Any, names: dict[int, str]) -> Delta | None:
    """The text and thinking a stream chunk carries (DSPy's EngineChunk or LiteLLM's), or None (a finish chunk)."""
    choices = getattr(chunk, "choices", None) or []
    delta = getattr(choices[0], "delta", None) if choices else None
    text, thinking = getattr(delta, "content", None) or "", getattr(delta, "reasoning_content", None) or ""
    if not (text or thinking):
        return None
    return Delta(names.get(getattr(chunk, "predict_id", None), ""), text, thinking)


class _Handover:
    """DSPy's `send_stream`: each chunk goes to the callback while the program's thread waits for it."""

    def __init__(self, on_chunk: Callable[[Any], None]):
        self.on_chunk = on_chunk

    async def send(self, chunk: Any) -> None:
        self.on_chunk(chunk)


def streamed(call: Callable[[], T], program: dspy.Module, on_delta: Callable[[Delta], None]) -> T:
    """call() (one of `program`'s runs, under the caller's DSPy settings) with its LM calls streamed to on_delta."""
    names = predictor_names(program)

    def hand_over(chunk: Any) -> None:
        if (delta := delta_of(chunk, names)) is not None:
            on_delta(delta)

    async def run() -> T:
        with dspy.context(send_stream=_Handover(hand_over)):
            return await asyncify(call)()  # a worker thread with the settings of this one

    return asyncio.run(run())
