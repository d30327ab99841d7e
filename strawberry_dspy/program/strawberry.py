"""The strawberry program: the turn loop that composes step, nudge, check, verifier and title."""

from __future__ import annotations

import random
import threading
from typing import Callable

import dspy

from strawberry_dspy.program.final_answer import parse_final_answer
from strawberry_dspy.program.formats import check_prompt, demo_chat, step_prefill, step_prompt
from strawberry_dspy.knobs import StrawberrySettings
from strawberry_dspy.program.modules import ConfidenceCheck, Nudge, ReasoningStep, StepTitle, WindowedVerifier
from strawberry_dspy.program.trace import Trace, Turn
from strawberry_dspy.program.turn_call import Reply

OnTurn = Callable[[Turn], None]


class StrawberryProgram(dspy.Module):
    """Many minuscule steps over a multi-turn chat, nudged, checked and verified until an answer or a budget."""

    def __init__(self, knobs: StrawberrySettings | None = None):
        super().__init__()
        self.knobs = k = knobs or StrawberrySettings()
        self.step = ReasoningStep(k.system_prompt, k.step_tokens, k.step_stop)
        self.nudge = Nudge(k.nudges, k.continue_prompt, k.nudge_probability)
        self.check = ConfidenceCheck(k.check_every, k.check_prompt, k.check_tokens, k.check_prefill)
        self.verifier = WindowedVerifier(k.verifier_window, k.verifier_every, k.verifier_prompt, k.verify_tokens)
        self.title = StepTitle(k.title_every, k.title_tokens)

    def forward(self, question: str, seed: int = 0, on_turn: OnTurn | None = None) -> dspy.Prediction:
        """Run the loop to an answer or a budget; on_turn(turn), if given, sees each turn as it is recorded."""
        return self.session(question, seed, on_turn).run()

    def session(self, question: str, seed: int = 0, on_turn: OnTurn | None = None) -> TurnLoop:
        """The loop as an object: run it, stop it between turns from another thread, continue it for more turns."""
        return TurnLoop(self, question, seed, on_turn)


class TurnLoop:
    """State of one run of the loop; the chat only ever grows, so its prefix stays cacheable."""

    def __init__(self, program: StrawberryProgram, question: str, seed: int = 0, on_turn: OnTurn | None = None):
        self.p, self.k, self.question, self.seed, self.on_turn = program, program.knobs, question, seed, on_turn
        self.trace = Trace()
        self.rng = random.Random(seed)
        self.calls = self.steps = self.since_check = self.turns = 0
        self.max_turns, self.max_tokens = self.k.max_turns, self.k.max_tokens
        self.stopping = threading.Event()
        self.prompt, self.kind, self.feedback = self.k.first_prompt.format(question=question), "problem", None
        self.pending_meta: dict = {}
        self.seeded: bool | None = None  # whether the LM takes a seed: found at the first call (see config)
        # worked demos sit after the system prompt, a prefix shared by every call; they are not the model's turns,
        # so they ride in the system turn's meta: an export of the chat rebuilds the prompt the model really saw
        demos = demo_chat(self.k, program.check.question)
        self.chat = [{"role": "system", "content": program.step.system_prompt}, *demos]
        self.record(Turn("system", "system", program.step.system_prompt,
                         meta={"demo_turns": len(demos), "demo_chat": demos} if demos else {}))

    def run(self) -> dspy.Prediction:
        """Take turns until an answer, a budget or stop(); a provider or engine failure is recorded as data."""
        try:
            self._loop()
        except Exception as exc:
            self.trace.stop_reason, self.trace.error = "error", f"{type(exc).__name__}: {exc}"[:1000]
        return dspy.Prediction(answer=self.trace.final_answer, trace=self.trace)

    def stop(self) -> None:
        """Ask the loop to end after the turn in progress (stop reason "stopped", no forced answer)."""
        self.stopping.set()

    def extend(self, turns: int) -> None:
        """Allow `turns` more turns (and a fresh token budget) for the next run(), which picks up the same chat."""
        if self.trace.stop_reason != "stopped":  # the prompt drawn last was sent, or superseded by a forced answer
            self.next_nudge()
        self.max_turns = self.turns + turns
        self.max_tokens = self.trace.total("completion_tokens") + self.k.max_tokens
        self.stopping.clear()
        self.trace.error = None

    def record(self, turn: Turn) -> None:
        self.trace.add(turn)
        if self.on_turn is not None:
            self.on_turn(turn)

    def config(self, cool: bool = False) -> dict:
        """Per-call LM settings: temperature (check_temperature for cool calls), a distinct seed / rollout per call."""
        self.calls += 1
        config = {}
        temperature = self.k.check_temperature if cool and self.k.check_temperature is not None else self.k.temperature
        if temperature is not None:
            config["temperature"] = temperature
        if temperature != 0:  # a greedy call is the same for every sample; DSPy warns that a rollout id does nothing
            config["rollout_id"] = self.seed
        if self.seeded is None:  # once per trace (at the first call, under the run's LM): DSPy recomputes
            lm = dspy.settings.lm  # `supported_params`, the model's capabilities, on every read
            self.seeded = lm is not None and "seed" in getattr(lm, "supported_params", ())
        if self.seeded:
            config["seed"] = self.seed * 10_000 + self.calls
        return config

    def ask(self, kind: str, prompt: str, call, cool: bool = False) -> Reply:
        """Send a user turn on the main chat, record both sides, and append them to the chat."""
        self.record(Turn("user", kind, prompt, meta=self.pending_meta))
        reply = call(self.chat, prompt, self.config(cool))
        self.chat += [{"role": "user", "content": prompt}, {"role": "assistant", "content": reply.text}]
        return reply

    def over_budget(self) -> str | None:
        if self.stopping.is_set():
            return "stopped"
        if self.turns >= self.max_turns:
            return "max_turns"
        if self.trace.total("completion_tokens") >= self.max_tokens:
            return "max_tokens"
        return None

    def finish(self, answer, status: str, reason: str) -> None:
        self.trace.final_answer, self.trace.answer_status, self.trace.stop_reason = answer, status, reason

    def next_nudge(self) -> None:
        self.prompt, nudge_index = self.p.nudge(self.rng)
        self.kind, self.pending_meta = "nudge", {"nudge": nudge_index}

    def _loop(self) -> None:
        k = self.k
        while (reason := self.over_budget()) is None:
            self.turns += 1
            if self.p.check.due(self.since_check):
                question = _join(self.feedback, check_prompt(k, self.p.check.question, self.question))
                self.pending_meta, self.feedback, self.since_check = {}, None, 0
                reply = self.ask("check", question, self.p.check, cool=True)
                answer = parse_final_answer(reply.text)
                self.record(Turn("assistant", "final" if answer.found else "check", reply.text, **reply.costs(),
                                 meta={"answer_status": answer.status, "parse_error": reply.parse_error}))
                if answer.found:
                    return self.finish(answer.answer, answer.status, "final_answer")
            else:
                done = [t.content for t in self.trace.turns if t.kind == "step"]
                prompt = step_prompt(k, self.prompt, self.question, done, first=self.kind == "problem")
                prefill = step_prefill(k, self.steps + 1)
                reply = self.ask(self.kind, _join(self.feedback, prompt),
                                 lambda chat, text, config: self.p.step(chat, text, config, prefill=prefill))
                self.feedback, self.steps, self.since_check = None, self.steps + 1, self.since_check + 1
                answer = parse_final_answer(reply.text) if k.accept_early_answer else None
                self.record(Turn("assistant", "final" if answer and answer.found else "step", reply.text,
                                 **reply.costs(), meta={"step": self.steps, "parse_error": reply.parse_error}))
                if answer and answer.found:
                    return self.finish(answer.answer, answer.status, "final_answer")
                self.feedback = self.verify(self.steps)
                self.maybe_title(self.steps)
            self.next_nudge()
        self.finish(None, "missing", reason)
        if k.force_answer and reason != "stopped" and not self.stopping.is_set():  # a stop that came meanwhile too
            self.pending_meta = {"forced": True}
            reply = self.ask("check", _join(self.feedback, check_prompt(k, k.force_prompt, self.question)),
                             lambda chat, prompt, config: self.p.check(chat, prompt, config, prefill=k.answer_prefill),
                             cool=True)
            answer = parse_final_answer(reply.text)
            self.record(Turn("assistant", "final" if answer.found else "check", reply.text, **reply.costs(),
                             meta={"answer_status": answer.status, "forced": True}))
            if answer.found:
                self.finish(answer.answer, answer.status, reason)

    def verify(self, steps: int) -> str | None:
        """Critique the recent window; return the feedback to prepend to the next user turn."""
        if not self.p.verifier.due(steps) or self.stopping.is_set():  # a stop ends the loop after the call in flight
            return None
        recent = [t.content for t in self.trace.turns if t.kind == "step"]
        reply, verdict = self.p.verifier(self.question, recent, self.config(cool=True))
        window = min(len(recent), self.p.verifier.window)
        self.record(Turn("verifier", "verify", reply.text, **reply.costs(),
                         meta={"verdict": verdict, "step": steps, "window": window}))
        return f"A verifier reviewed your last {window} steps: {reply.text}" if reply.text else None

    def maybe_title(self, steps: int) -> None:
        if self.p.title.due(steps) and not self.stopping.is_set():
            reply = self.p.title(self.chat, self.config(cool=True))
            self.record(Turn("assistant", "title", reply.text, **reply.costs(), meta={"step": steps}))


def _join(feedback: str | None, prompt: str) -> str:
    return f"{feedback}\n\n{prompt}" if feedback else prompt
