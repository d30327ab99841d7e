"""Render a stored trace as chat messages in one of two styles.

flat  - the prompt is the bare question (plus an optional system message); the completion is ONE
        assistant message: the steps in order, each nudge as the model's own inline self-question,
        check replies that were really steps, and the closing <final_answer>. Trained as a
        completion, the loss covers the whole reasoning and the answer: o1-style long single-turn
        reasoning, with no dependence on a user who nudges.
turns - the conversation as the model saw it: the trace's system prompt, the worked demos that followed it
        (recorded in the system turn's meta) and the first user turn are the prompt; the completion is every later turn (assistant steps, user nudges and checks, verifier
        feedback folded into the user turns where it was sent). Trained as a completion, the loss
        covers all of those turns, the user nudges included; as SFT `messages` it covers the whole
        chat unless the trainer masks non-assistant turns (SFTConfig(assistant_only_loss=True)).
Verifier critiques (role "verifier") and titles were never part of the main chat and are left out.
A reasoning model's own thinking is left out unless asked for (`--thinking KEY`): then every assistant message
carries its turn's thinking ('' when it had none) under KEY (`reasoning_content` or `thinking`), where TRL's chat templates read it and
render it (e.g. as a `<think>` block); in the flat style the one message carries the thinking of the turns it joins.
"""

from __future__ import annotations

from strawberry_dspy.store import StoredTrace, StoredTurn

Message = dict[str, str]


def render(trace: StoredTrace, question: str, style: str, *, nudges: str = "inline",
           system: str | None = None, thinking: str = "off") -> tuple[list[Message], list[Message]]:
    """(prompt messages, completion messages) of a trace in the given style (thinking: off, or the key that holds
    the model's thinking in an assistant message)."""
    if style == "flat":
        prompt = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": question}]
        text = flat_text(trace.turns, nudges == "inline")
        if not text:
            return prompt, []
        message = {"role": "assistant", "content": text}
        if thinking != "off":
            message[thinking] = "\n\n".join(t.thinking for t in trace.turns
                                             if t.role == "assistant" and t.kind != "title" and t.thinking)
        return prompt, [message]
    prompt, completion = split_conversation(conversation(trace.turns, thinking))
    return with_demos(prompt, trace.turns), completion


def _system_meta(turns: list[StoredTurn]) -> dict:
    """The system turn's meta: where the worked demos the program sent are recorded."""
    return next((t.meta for t in turns if t.kind == "system"), {})


def demos_not_recorded(turns: list[StoredTurn]) -> bool:
    """The program sent worked demos that the store did not keep (harvested before they were recorded)."""
    meta = _system_meta(turns)
    return bool(meta.get("demo_turns")) and not meta.get("demo_chat")


def with_demos(prompt: list[Message], turns: list[StoredTurn]) -> list[Message]:
    """The prompt with the worked demos the program sent after its system prompt (none recorded: as it is)."""
    demos = _system_meta(turns).get("demo_chat")
    if not demos or not prompt or prompt[0]["role"] != "system":
        return prompt
    return [prompt[0], *({"role": m["role"], "content": m["content"]} for m in demos), *prompt[1:]]


def conversation(turns: list[StoredTurn], thinking: str = "off") -> list[Message]:
    """The main chat of a trace: system, user and assistant turns in order (no verifier, no titles); with a
    thinking key, an assistant turn's thinking under it."""
    return [{"role": t.role, "content": t.content, thinking: t.thinking}
            if thinking != "off" and t.role == "assistant" else {"role": t.role, "content": t.content}
            for t in turns if t.role in ("system", "user", "assistant") and t.kind != "title"]


def split_conversation(messages: list[Message]) -> tuple[list[Message], list[Message]]:
    """Prompt = everything up to the first user turn; completion = the rest, ending on an assistant turn."""
    first_user = next((i for i, m in enumerate(messages) if m["role"] == "user"), None)
    if first_user is None:
        return messages, []
    prompt, completion = messages[: first_user + 1], messages[first_user + 1:]
    while completion and completion[-1]["role"] != "assistant":
        completion.pop()
    return prompt, completion


def flat_text(turns: list[StoredTurn], inline_nudges: bool = True) -> str:
    """One assistant message: steps, inline self-questions, and the final answer, blank-line separated."""
    parts: list[str] = []
    pending_nudge: str | None = None
    last_critique = ""
    for turn in turns:
        if turn.kind == "verify":
            last_critique = turn.content
        elif turn.role == "user":  # the critique, if any, was prepended to this turn only
            if turn.kind == "nudge" and inline_nudges:
                pending_nudge = _strip_feedback(turn.content, last_critique)
            last_critique = ""
        elif turn.role == "assistant" and turn.kind in ("step", "check", "final") and _is_reasoning(turn):
            if pending_nudge:
                parts.append(pending_nudge)
            parts.append(turn.content.strip())
            pending_nudge = None
    return "\n\n".join(parts)


def step_texts(turns: list[StoredTurn]) -> list[tuple[int, str]]:
    """(step number, text) of every reasoning step, in order."""
    return [(t.meta.get("step", i + 1), t.content.strip())
            for i, t in enumerate(t for t in turns if t.kind == "step")]


def _is_reasoning(turn: StoredTurn) -> bool:
    """Steps and the final answer; a check reply only when it was one more step (no answer tags at all)."""
    if not turn.content.strip():
        return False
    return turn.kind != "check" or turn.meta.get("answer_status", "missing") == "missing"


def _strip_feedback(content: str, critique: str) -> str:
    """A nudge without the verifier feedback that was prepended to it in the chat."""
    if critique and critique in content:
        content = content[content.index(critique) + len(critique):]
    return content.strip()
