"""Baselines as programs: zero-shot `dspy.Predict` and `dspy.ChainOfThought`, same result shape."""

from __future__ import annotations

import time

import dspy
from dspy.utils.exceptions import AdapterParseError
from dspy.utils.usage_tracker import track_usage

from strawberry_dspy.program.adapter import TextAdapter
from strawberry_dspy.program.final_answer import parse_final_answer
from strawberry_dspy.knobs import BaselineSettings
from strawberry_dspy.program.signatures import AnswerSignature
from strawberry_dspy.program.trace import Trace, Turn
from strawberry_dspy.program.thinking import THINKING
from strawberry_dspy.program.turn_call import reasoning_tokens, sum_usage


class _SingleCall(dspy.Module):
    """One LM call answering the question; the reply is recorded as a one-turn trace."""

    def __init__(self, predictor: dspy.Module, knobs: BaselineSettings | None = None, **fields):
        super().__init__()
        self.predictor = predictor
        self.knobs = knobs or BaselineSettings(**fields)  # held, not copied: the config's knobs stay the one holder
        if self.knobs.instructions:
            for _, p in self.predictor.named_predictors():
                p.signature = p.signature.with_instructions(self.knobs.instructions)

    def request_turns(self, question: str) -> list[Turn]:
        """The messages the adapter sends for this question, as turns: system prompt (the compiled demos it carries
        recorded in its meta, as the strawberry loop records its own) and the problem. A training prompt rendered
        from them is exactly the prompt this program runs with."""
        adapter = dspy.settings.adapter or TextAdapter()
        predictor = next(p for _, p in self.predictor.named_predictors())
        try:
            messages = adapter.format(predictor.signature, list(predictor.demos), {"question": question})
        except Exception:  # an adapter that cannot format offline: the question alone, as before
            return [Turn("user", "problem", question)]
        if len(messages) < 2 or messages[0]["role"] != "system" or messages[-1]["role"] != "user":
            return [Turn("user", "problem", question)]
        demos = [{"role": m["role"], "content": m["content"]} for m in messages[1:-1]]
        system = Turn("system", "system", messages[0]["content"],
                      meta={"demo_turns": len(demos), "demo_chat": demos} if demos else {})
        return [system, Turn("user", "problem", messages[-1]["content"])]

    def forward(self, question: str, seed: int = 0) -> dspy.Prediction:
        trace = Trace(turns=self.request_turns(question))
        config = {"max_tokens": self.knobs.max_tokens, "rollout_id": seed}
        if self.knobs.temperature is not None:
            config["temperature"] = self.knobs.temperature
        start = time.perf_counter()
        with track_usage() as tracker:
            try:
                pred = self.predictor(question=question, config=config)
                text, answer = pred.get("raw_completion") or pred.get("reasoning") or pred.answer or "", pred.answer
                thinking = pred.get(THINKING) or ""
            except AdapterParseError:
                text, answer, thinking = "", None, ""
            except Exception as exc:  # provider failure: recorded, not raised
                trace.stop_reason, trace.error = "error", f"{type(exc).__name__}: {exc}"[:1000]
                return dspy.Prediction(answer=None, trace=trace)
        status = parse_final_answer(text).status
        usage = tracker.get_total_tokens()
        prompt, completion, cached, written = sum_usage(usage)
        trace.add(Turn("assistant", "final", text, prompt, completion, cached, round(time.perf_counter() - start, 4),
                       meta={"answer_status": status}, cache_write_tokens=written, thinking=thinking,
                       reasoning_tokens=reasoning_tokens(usage)))
        # Without tags the whole reply is the answer; the scorer extracts from it.
        trace.final_answer, trace.answer_status, trace.stop_reason = (answer or None), status, "final_answer"
        return dspy.Prediction(answer=trace.final_answer, trace=trace)


class ZeroShot(_SingleCall):
    """`dspy.Predict(question -> answer)`."""

    def __init__(self, knobs: BaselineSettings | None = None, **fields):
        super().__init__(dspy.Predict(AnswerSignature), knobs, **fields)


class ChainOfThought(_SingleCall):
    """`dspy.ChainOfThought(question -> answer)`: reasoning first, then the tagged answer."""

    def __init__(self, knobs: BaselineSettings | None = None, **fields):
        super().__init__(dspy.ChainOfThought(AnswerSignature), knobs, **fields)
