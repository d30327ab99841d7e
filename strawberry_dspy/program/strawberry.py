"""The strawberry program: the turn loop that composes step, nudge, check, verifier and title."""

from __future__ import annotations

import random

import dspy

from strawberry_dspy.program.final_answer import parse_final_answer
from strawberry_dspy.program.knobs import StrawberryKnobs
from strawberry_dspy.program.modules import ConfidenceCheck, Nudge, ReasoningStep, StepTitle, WindowedVerifier
from strawberry_dspy.program.trace import Trace, Turn
from strawberry_dspy.program.turn_call import Reply


class StrawberryProgram(dspy.Module):
    """Many minuscule steps over a multi-turn chat, nudged, checked and verified until an answer or a budget."""

    def __init__(self, knobs: StrawberryKnobs | None = None):
        super().__init__()
        self.knobs = k = knobs or StrawberryKnobs()
        self.step = ReasoningStep(k.system_prompt, k.step_tokens, k.step_stop)
        self.nudge = Nudge(k.nudges, k.continue_prompt, k.nudge_probability)
        self.check = ConfidenceCheck(k.check_every, k.check_prompt, k.check_tokens, k.check_prefill)
        self.verifier = WindowedVerifier(k.verifier_window, k.verifier_every, k.verifier_prompt, k.verify_tokens)
        self.title = StepTitle(k.title_every, k.title_tokens)

    def forward(self, question: str, seed: int = 0) -> dspy.Prediction:
        trace = Trace()
        try:
            _TurnLoop(self, question, seed, trace).run()
        except Exception as exc:  # a provider or engine failure ends this trace, recorded as data
            trace.stop_reason, trace.error = "error", f"{type(exc).__name__}: {exc}"[:1000]
        return dspy.Prediction(answer=trace.final_answer, trace=trace)


class _TurnLoop:
    """State of one run of the loop; the chat only ever grows, so its prefix stays cacheable."""

    def __init__(self, program: StrawberryProgram, question: str, seed: int, trace: Trace):
        self.p, self.k, self.question, self.seed, self.trace = program, program.knobs, question, seed, trace
        self.rng = random.Random(seed)
        self.calls = 0
        # once per trace: DSPy recomputes `supported_params` (the model's capabilities) on every read
        lm = dspy.settings.lm
        self.seeded = lm is not None and "seed" in getattr(lm, "supported_params", ())
        self.chat = [{"role": "system", "content": program.step.system_prompt}]
        trace.add(Turn("system", "system", program.step.system_prompt))

    def config(self) -> dict:
        """Per-call LM settings: temperature, and a distinct seed / rollout per call of each sample."""
        self.calls += 1
        config = {"rollout_id": self.seed}
        if self.k.temperature is not None:
            config["temperature"] = self.k.temperature
        if self.seeded:
            config["seed"] = self.seed * 10_000 + self.calls
        return config

    def ask(self, kind: str, prompt: str, call) -> Reply:
        """Send a user turn on the main chat, record both sides, and append them to the chat."""
        self.trace.add(Turn("user", kind, prompt, meta=self.pending_meta))
        reply = call(self.chat, prompt, self.config())
        self.chat += [{"role": "user", "content": prompt}, {"role": "assistant", "content": reply.text}]
        return reply

    def over_budget(self, turns: int) -> str | None:
        if turns >= self.k.max_turns:
            return "max_turns"
        if self.trace.total("completion_tokens") >= self.k.max_tokens:
            return "max_tokens"
        return None

    def finish(self, answer, status: str, reason: str) -> None:
        self.trace.final_answer, self.trace.answer_status, self.trace.stop_reason = answer, status, reason

    def run(self) -> None:
        k, trace = self.k, self.trace
        prompt, kind, feedback = k.first_prompt.format(question=self.question), "problem", None
        self.pending_meta = {}
        steps = since_check = turns = 0
        while (reason := self.over_budget(turns)) is None:
            turns += 1
            if self.p.check.due(since_check):
                question = _join(feedback, self.p.check.question)
                self.pending_meta, feedback, since_check = {}, None, 0
                reply = self.ask("check", question, self.p.check)
                answer = parse_final_answer(reply.text)
                trace.add(Turn("assistant", "final" if answer.found else "check", reply.text, **reply.costs(),
                               meta={"answer_status": answer.status, "parse_error": reply.parse_error}))
                if answer.found:
                    return self.finish(answer.answer, answer.status, "final_answer")
            else:
                reply = self.ask(kind, _join(feedback, prompt), self.p.step)
                feedback, steps, since_check = None, steps + 1, since_check + 1
                answer = parse_final_answer(reply.text) if k.accept_early_answer else None
                trace.add(Turn("assistant", "final" if answer and answer.found else "step", reply.text, **reply.costs(),
                               meta={"step": steps, "parse_error": reply.parse_error}))
                if answer and answer.found:
                    return self.finish(answer.answer, answer.status, "final_answer")
                feedback = self.verify(steps)
                self.maybe_title(steps)
            prompt, nudge_index = self.p.nudge(self.rng)
            kind, self.pending_meta = "nudge", {"nudge": nudge_index}
        self.finish(None, "missing", reason)
        if k.force_answer:
            self.pending_meta = {"forced": True}
            reply = self.ask("check", _join(feedback, k.force_prompt),
                             lambda chat, prompt, config: self.p.check(chat, prompt, config, prefill=k.answer_prefill))
            answer = parse_final_answer(reply.text)
            trace.add(Turn("assistant", "final" if answer.found else "check", reply.text, **reply.costs(),
                           meta={"answer_status": answer.status, "forced": True}))
            if answer.found:
                self.finish(answer.answer, answer.status, reason)

    def verify(self, steps: int) -> str | None:
        """Critique the recent window; return the feedback to prepend to the next user turn."""
        if not self.p.verifier.due(steps):
            return None
        recent = [t.content for t in self.trace.turns if t.kind == "step"]
        reply, verdict = self.p.verifier(self.question, recent, self.config())
        window = min(len(recent), self.p.verifier.window)
        self.trace.add(Turn("verifier", "verify", reply.text, **reply.costs(),
                            meta={"verdict": verdict, "step": steps, "window": window}))
        return f"A verifier reviewed your last {window} steps: {reply.text}" if reply.text else None

    def maybe_title(self, steps: int) -> None:
        if self.p.title.due(steps):
            reply = self.p.title(self.chat, self.config())
            self.trace.add(Turn("assistant", "title", reply.text, **reply.costs(), meta={"step": steps}))


def _join(feedback: str | None, prompt: str) -> str:
    return f"{feedback}\n\n{prompt}" if feedback else prompt
