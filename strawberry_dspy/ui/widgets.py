"""How a turn looks on every page: a chat message with its kind, nudge, verdict, tokens, cache share and latency."""

from __future__ import annotations

import streamlit as st

from strawberry_dspy.program.thinking import joined, split_thinking
from strawberry_dspy.program.trace import Turn

# Material icons ship inside Streamlit (emoji would need a system font the browser may lack)
AVATARS = {"user": ":material/person:", "assistant": ":material/psychology:", "verifier": ":material/fact_check:"}


def turn_caption(turn: Turn) -> str:
    """One line about a turn: kind, step, which nudge, verdict, answer status, tokens, cache share, latency."""
    meta, parts = turn.meta, [turn.kind]
    if meta.get("step"):
        parts.append(f"step {meta['step']}")
    if "nudge" in meta:
        parts.append("continue prompt" if meta["nudge"] is None else f"nudge #{meta['nudge']}")
    if meta.get("forced"):
        parts.append("forced answer")
    if meta.get("verdict"):
        parts.append(f"verdict: {meta['verdict']} (window {meta.get('window', '?')})")
    if turn.kind in ("check", "final") and meta.get("answer_status"):
        parts.append(f"answer {meta['answer_status']}")
    if meta.get("parse_error"):
        parts.append(f"⚠ {meta['parse_error']}")
    if turn.prompt_tokens or turn.completion_tokens:
        cached = f" ({turn.cached_tokens / turn.prompt_tokens:.0%} cached)" if turn.prompt_tokens else ""
        reasoning = f" ({turn.reasoning_tokens} reasoning)" if turn.reasoning_tokens else ""
        parts.append(f"{turn.prompt_tokens} prompt{cached} + {turn.completion_tokens} completion tokens{reasoning}")
    if turn.latency_s:
        parts.append(f"{turn.latency_s:.2f} s")
    return plain(" · ".join(parts))


def show_turn(turn: Turn) -> None:
    """A turn as a chat message; the system prompt folded away, a step title as a heading."""
    if turn.role == "system":
        with st.expander("system prompt"):
            st.text(turn.content)
        return
    if turn.kind == "title":
        st.markdown(f"**{plain(turn.content.strip() or '(empty title)')}**")
        st.caption(turn_caption(turn))
        return
    with st.chat_message(turn.role if turn.role in ("user", "assistant") else "ai", avatar=AVATARS.get(turn.role)):
        st.caption(turn_caption(turn))
        if turn.thinking:  # a reasoning model's own thinking, folded away (it can be long)
            with st.expander(f"thinking ({len(turn.thinking.split())} words)"):
                st.text(turn.thinking)
        st.text(turn.content or "(empty reply)")


def show_partial(source: str, text: str, thinking: str) -> None:
    """The turn a model is writing, as its finished turn will look: plain text, the thinking folded (an inline
    `<think>` block too, open or closed)."""
    inline, reply = split_thinking(text)
    thinking = joined(thinking.strip(), inline)
    role = "verifier" if source == "verifier" else "assistant"
    with st.chat_message("ai" if role == "verifier" else role, avatar=AVATARS[role]):
        st.caption(plain(f"{source or 'reply'} · writing …"))
        if thinking:
            with st.expander(f"thinking ({len(thinking.split())} words)"):
                st.text(thinking)
        st.text(reply or "…")


def show_turns(turns: list[Turn]) -> None:
    """Every turn of a trace, in order; as g1 shows its reasoning, the steps a title sums up folded under it."""
    pending: list[Turn] = []
    for turn in turns:
        if turn.role == "system" or turn.kind == "problem":  # the prompt and the problem stay in view
            show_turn(turn)
        elif turn.kind != "title":
            pending.append(turn)
        else:  # a title is asked after the steps it names
            steps = [t.meta["step"] for t in pending if t.kind == "step" and t.meta.get("step")]
            span = f" · steps {steps[0]}–{steps[-1]}" if len(steps) > 1 else f" · step {steps[0]}" if steps else ""
            with st.expander(f"{plain(turn.content.strip() or '(empty title)')}{span}"):
                st.caption(turn_caption(turn))
                for folded in pending:
                    show_turn(folded)
            pending = []
    for turn in pending:  # the steps no title names yet
        show_turn(turn)


def plain(text: object) -> str:
    """Untrusted text (a model reply, a question, a path, an error) for a place Streamlit reads as Markdown (a label,
    a heading, a caption, an error box): every markup character escaped, so it never becomes an image or a link."""
    return "".join(f"\\{c}" if c in MARKUP else c for c in " ".join(str(text).split()))


MARKUP = set("\\`*_{}[]()#+-.!|<>~:$=^&")


def share(part: float, whole: float) -> str:
    """part / whole as a percentage, '-' when whole is 0."""
    return f"{part / whole:.0%}" if whole else "-"
