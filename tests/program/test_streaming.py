"""Streamed calls: the pieces handed over join to each turn's reply and thinking, and the trace is the one an
unstreamed run makes; a provider that cannot stream answers whole. The real DSPy client, a loopback server."""

import dataclasses

from strawberry_dspy.attempt import attempt
from strawberry_dspy.config import config_from_dict
from strawberry_dspy.models import lm_for
from strawberry_dspy.program.build import build_program
from strawberry_dspy.program.streaming import Delta
from strawberry_dspy.scoring import Score
from strawberry_dspy.testing.loopback_openai import LoopbackOpenAI, words

QUESTION = "What is 17 + 25?"
PREFILL = "<final_answer>"  # the forced answer's start, sent as the reply's beginning: the model writes what follows
THOUGHT = "The tens make 30 and the ones 12, so 42."
# every module of the loop is called: steps, checks, the verifier, titles
KNOBS = {"max_turns": 5, "check_every": 2, "verifier_every": 1, "title_every": 2, "force_answer": True,
         "answer_prefill": PREFILL}
SOURCES = {"step": "step", "check": "check", "final": "check", "verify": "verifier", "title": "title"}


def reply(body: dict) -> str:
    """A different reply for each call (the chat grows), with markup that must stay text; checks get no answer."""
    return f"With {len(body['messages'])} messages: 17 + 25 = **42**, <b>surely</b>."


def solve(server: LoopbackOpenAI, stream: bool, **settings):
    """The strawberry program's trace through `attempt`, streamed or not, with the turns and pieces in order."""
    config = config_from_dict({"program": "strawberry", "model": "openai/stub-model", "api_base": server.url,
                               "strawberry": KNOBS, **settings})
    program, lm, events = build_program(config), lm_for(config), []
    session = program.session(QUESTION, seed=3, on_turn=events.append)
    result = attempt(program, QUESTION, 3, lm, config.max_reply_chars, lambda answer: Score(False, 0.0, answer),
                     session.run, on_delta=events.append if stream else None)
    return result.trace, events, lm


def without_latency(trace) -> list[dict]:
    return [dataclasses.replace(turn, latency_s=0.0) for turn in trace.turns]


def test_streamed_pieces_join_to_each_reply_and_the_trace_is_the_unstreamed_one():
    with LoopbackOpenAI(reply, reasoning=THOUGHT) as server:
        streamed, events, _ = solve(server, stream=True)
        requests = server.completions()
        whole, unstreamed_events, _ = solve(server, stream=False)
        unstreamed_requests = server.completions()[len(requests):]
    assert streamed.stop_reason == "max_turns" and streamed.error is None
    assert without_latency(streamed) == without_latency(whole)
    assert (streamed.final_answer, streamed.answer_status) == (whole.final_answer, whole.answer_status)
    assert all(r.body.get("stream") for r in requests) and not any(r.body.get("stream") for r in unstreamed_requests)
    assert not any(isinstance(e, Delta) for e in unstreamed_events)

    pieces: list[Delta] = []
    answered = 0
    for event in events:  # each piece is handed over before its turn is recorded, never after
        if isinstance(event, Delta):
            pieces.append(event)
            continue
        if event.role in ("assistant", "verifier"):
            answered += 1
            start = PREFILL if event.meta.get("forced") else ""
            assert start + "".join(p.text for p in pieces) == event.content  # the reply, chunk by chunk
            assert "".join(p.thinking for p in pieces) == event.thinking == THOUGHT
            assert {p.source for p in pieces} == {SOURCES[event.kind]}
            assert len([p for p in pieces if p.text]) == len(words(event.content.removeprefix(start))) > 1
        else:
            assert not pieces  # a user turn is recorded before its call: nothing was written yet
        pieces = []
    assert answered == len(requests) and {t.kind for t in streamed.turns} >= {"step", "check", "verify", "title"}


def test_the_streamed_reply_is_cut_at_max_reply_chars_as_the_whole_one_is():
    with LoopbackOpenAI(reply) as server:
        streamed, events, _ = solve(server, stream=True, max_reply_chars=20)
        whole, _, _ = solve(server, stream=False, max_reply_chars=20)
    assert without_latency(streamed) == without_latency(whole)
    replies = [t.content for t in streamed.turns if t.role in ("assistant", "verifier")]
    assert replies and all(len(text.removeprefix(PREFILL)) <= 20 for text in replies)
    streamed_text = "".join(e.text for e in events if isinstance(e, Delta))
    assert len(streamed_text) > 20 * len(replies)  # the model wrote more: the bound is applied as it always is


def test_a_provider_that_cannot_stream_answers_whole():
    """A server that ignores `stream` and answers with one body: each turn arrives whole, the same trace."""
    with LoopbackOpenAI(reply, reasoning=THOUGHT, streams=False) as server:
        streamed, events, lm = solve(server, stream=True)
        tried = len(server.completions())
        whole, _, _ = solve(server, stream=False)
    assert streamed.error is None and without_latency(streamed) == without_latency(whole)
    assert not any(isinstance(e, Delta) for e in events) and lm.streams is False
    answered = [t for t in streamed.turns if t.role in ("assistant", "verifier")]
    assert tried == len(answered) + 1  # one streamed try failed, then every call was asked whole


def test_a_transient_fault_before_the_first_chunk_is_retried_streamed():
    with LoopbackOpenAI(reply) as server:
        server.inject("503")
        streamed, events, lm = solve(server, stream=True)
        requests = server.completions()
    assert streamed.error is None and lm.streams is True and any(isinstance(e, Delta) for e in events)
    assert all(r.body.get("stream") for r in requests) and server.faults_served["503"] == 1


def test_a_request_refused_whole_too_leaves_streaming_on():
    """A 401 before the first chunk is not "cannot stream": the whole reply is refused too, and the LM keeps streaming."""
    with LoopbackOpenAI(reply) as server:
        server.inject("401", "401")
        streamed, events, lm = solve(server, stream=True)
    assert streamed.error.startswith("LMAuthError") and lm.streams is True


def llama_like(body: dict) -> str:
    """As llama.cpp answers a prefilled reply: with the prefill and its continuation whole, the continuation alone
    when it streams."""
    last = body["messages"][-1]
    prefill = last["content"] if last["role"] == "assistant" else ""
    return ("" if body.get("stream") else prefill) + " Add the tens: 10 + 20 = 30."


def test_a_prefilled_step_is_the_same_whether_the_server_streams_it_or_not():
    with LoopbackOpenAI(llama_like) as server:
        streamed, events, _ = solve(server, stream=True, strawberry={**KNOBS, "step_format": "numbered"})
        whole, _, _ = solve(server, stream=False, strawberry={**KNOBS, "step_format": "numbered"})
    assert [t.content for t in streamed.turns] == [t.content for t in whole.turns]  # (the stub counts words sent)
    steps = [t.content for t in streamed.turns if t.kind == "step"]
    assert steps[:2] == ["Step 1: Add the tens: 10 + 20 = 30.", "Step 2: Add the tens: 10 + 20 = 30."]
