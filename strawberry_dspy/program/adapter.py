"""A DSPy adapter for small models: real chat turns in, one free-text output out.

Small local models cannot follow ChatAdapter's `[[ ## field ## ]]` format. TextAdapter
renders a signature as a plain chat and returns the completion text as the output field,
leaving tags to be parsed in Python. Turn signatures carry the chat itself in a
`conversation` input (system prompt first) and the next user message in `prompt`, so
every call of one trace shares the same message prefix and the engine's KV cache is
reused; an optional `prefill` starts the assistant's reply (e.g. with `<final_answer>`). Any other signature (the zero-shot and chain-of-thought baselines) becomes
system = instructions, user = the input fields, and the last output field is read from
`<final_answer>` tags.
"""

from __future__ import annotations

from typing import Any

import dspy
from loguru import logger

from strawberry_dspy.program.final_answer import parse_final_answer
from strawberry_dspy.program.thinking import THINKING, joined, native_thinking, split_thinking

ANSWER_FORMAT = "Give your final answer inside <final_answer></final_answer> tags."
MAX_DEMOS = 3  # demos sit in the prefix of every turn: keep them few and short
MAX_DEMO_CHARS = 400
MAX_REPLY_CHARS = 20_000  # the default of the max_reply_chars recipe setting


def _clip(text: Any) -> str:
    text = str(text).strip()
    return text if len(text) <= MAX_DEMO_CHARS else text[: MAX_DEMO_CHARS - 1] + "…"


class TextAdapter(dspy.Adapter):
    """Chat in, free text out; a parse failure is data for the caller, never an exception.

    A reply longer than `max_reply_chars` is cut (with a warning) before it is parsed: a server that ignores
    max_tokens cannot grow the chat, the stored trace or the export without bound.
    """

    def __init__(self, max_reply_chars: int = MAX_REPLY_CHARS):
        super().__init__()
        self.max_reply_chars = max_reply_chars

    def format(self, signature, demos, inputs):
        if "conversation" in signature.input_fields:
            return self._format_turn(signature, demos, inputs)
        return self._format_task(signature, demos, inputs)

    def _format_turn(self, signature, demos, inputs):
        conversation = list(inputs.get("conversation") or [])
        system, rest = (conversation[:1], conversation[1:]) if conversation[:1] and conversation[0]["role"] == "system" else ([], conversation)
        (output_name,) = signature.output_fields
        messages = list(system)
        for demo in demos[:MAX_DEMOS]:
            if demo.get("prompt") and demo.get(output_name):
                messages += [
                    {"role": "user", "content": _clip(demo["prompt"])},
                    {"role": "assistant", "content": _clip(demo[output_name])},
                ]
        messages += rest
        if inputs.get("prompt"):
            messages.append({"role": "user", "content": inputs["prompt"]})
        if inputs.get("prefill"):  # the engine continues a trailing assistant message
            messages.append({"role": "assistant", "content": inputs["prefill"]})
        return messages

    def _format_task(self, signature, demos, inputs):
        *thinking, answer = signature.output_fields
        guide = "Think step by step, then give" if thinking else "Give"
        system = f"{signature.instructions}\n\n{guide} your final answer inside <final_answer></final_answer> tags."
        messages = [{"role": "system", "content": system}]
        for demo in demos[:MAX_DEMOS]:
            if all(k in demo for k in signature.input_fields) and demo.get(answer) is not None:
                reasoning = " ".join(str(demo[k]) for k in thinking if demo.get(k))
                reply = f"{reasoning}\n<final_answer>{demo[answer]}</final_answer>".strip()
                messages += [
                    {"role": "user", "content": _clip(self._user_text(signature, demo))},
                    {"role": "assistant", "content": _clip(reply)},
                ]
        messages.append({"role": "user", "content": self._user_text(signature, inputs)})
        return messages

    @staticmethod
    def _user_text(signature, values) -> str:
        names = list(signature.input_fields)
        if len(names) == 1:
            return str(values.get(names[0], ""))
        return "\n\n".join(f"{name.replace('_', ' ').capitalize()}: {values.get(name, '')}" for name in names)

    def parse(self, signature, completion):
        raw = completion or ""
        text = raw.strip()
        # an open model's inline <think> block is not its reply (_call_postprocess keeps it): split first, so a long
        # block cannot use up the reply's bound
        reply = split_thinking(text)[1]
        # the whitespace it began with kept: a reply that continues a prefill ("Step 1:" + " Take ...") is joined to
        # it as written (call_turn), whether the server returned the prefill too or streamed
        lead = raw[: len(raw) - len(raw.lstrip())] if reply == text else ""
        if len(reply) > self.max_reply_chars:
            logger.warning("a model reply of {} chars was cut to max_reply_chars={}", len(reply), self.max_reply_chars)
            reply = reply[: self.max_reply_chars]
        names = list(signature.output_fields)
        if len(names) == 1 and "conversation" in signature.input_fields:
            return {names[0]: lead + reply}
        text = reply
        *thinking, answer = names
        parsed = parse_final_answer(text)
        values = {name: text for name in thinking}
        values[answer] = parsed.answer if parsed.found else text
        values["answer_status"] = parsed.status
        values["raw_completion"] = text
        return values

    def _call_postprocess(self, processed_signature, original_signature, outputs, lm, lm_kwargs):
        """DSPy's parsing, plus the model's thinking in the THINKING field (DSPy keeps only the signature's fields
        of what `parse` returns): what the provider returned beside the reply, then any inline <think> block."""
        values = super()._call_postprocess(processed_signature, original_signature, outputs, lm, lm_kwargs)
        for value, output in zip(values, outputs):
            text = output.get("text") if isinstance(output, dict) else output
            thinking = joined(native_thinking(output), split_thinking(str(text or ""))[0])
            if len(thinking) > self.max_reply_chars:  # stored and exportable like the reply, so bounded like it
                logger.warning("a model's thinking of {} chars was cut to max_reply_chars={}", len(thinking),
                               self.max_reply_chars)
                thinking = thinking[: self.max_reply_chars]
            value[THINKING] = thinking
        return values

    def format_field_with_value(self, fields_with_values, role: str = "assistant") -> str:
        """Render scripted outputs the way a model would write them (used by DummyLM)."""
        values = {f.name: v for f, v in fields_with_values.items()}
        if len(values) == 1:
            return str(next(iter(values.values())))
        *thinking, answer = values
        body = " ".join(str(values[k]) for k in thinking)
        return f"{body}\n<final_answer>{values[answer]}</final_answer>".strip()
