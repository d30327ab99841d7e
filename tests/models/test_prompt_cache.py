"""Prompt caching against the providers' wire formats: marks where Anthropic needs them, reads and writes recorded.

The real DSPy client, built by lm_for, talks to loopback servers on 127.0.0.1 that speak Anthropic's Messages API
(with its cache rules and usage fields) and the OpenAI chat-completions format (with `cached_tokens`).
"""

from __future__ import annotations

import dspy
import pytest

from strawberry_dspy.config import config_from_dict
from strawberry_dspy.errors import UserError
from strawberry_dspy.cost import cost_of, price_for
from strawberry_dspy.models import lm_for
from strawberry_dspy.program.adapter import TextAdapter
from strawberry_dspy.program.build import build_program
from strawberry_dspy.testing.loopback_anthropic import LoopbackAnthropic
from strawberry_dspy.testing.loopback_openai import LoopbackOpenAI

TURNS = 8
STEP = "Let me add the two numbers one digit at a time."  # never a final answer: the trace runs its whole budget
LOOP = {"program": "strawberry", "strawberry": {"max_turns": TURNS, "check_every": 3, "verifier_every": 0,
                                                "force_answer": False, "max_tokens": 10_000}}


def run_trace(config: dict):
    """One strawberry trace through lm_for's LM; returns the trace."""
    config = config_from_dict(config)
    with dspy.context(lm=lm_for(config), adapter=TextAdapter()):
        return build_program(config)(question="What is 17 + 25?", seed=1).trace


def marked(block) -> bool:
    return isinstance(block, dict) and block.get("cache_control") == {"type": "ephemeral"}


def test_anthropic_requests_mark_system_and_history_and_usage_is_recorded():
    with LoopbackAnthropic(reply=STEP) as server:
        trace = run_trace({**LOOP, "model": "anthropic/claude-haiku-4-5", "api_base": server.url})
        requests = server.messages()
    assert len(requests) == TURNS
    for request in requests:
        system, last = request.body["system"], request.body["messages"][-1]["content"]
        assert len(system) == 1 and marked(system[0])  # the fixed system prompt
        assert marked(last[-1])  # the end of the history: the next turn reads everything up to here
        earlier = [b for m in request.body["messages"][:-1] for b in m["content"]]
        assert not any(marked(b) for b in earlier)  # two marks per request, within Anthropic's four
    calls = [t for t in trace.turns if t.role == "assistant"]
    assert len(calls) == TURNS
    assert calls[0].cached_tokens == 0 and calls[0].cache_write_tokens == calls[0].prompt_tokens
    for before, turn in zip(calls, calls[1:]):
        assert turn.cached_tokens == before.prompt_tokens  # all of the previous request comes from the cache
        assert turn.cache_write_tokens == turn.prompt_tokens - turn.cached_tokens > 0


def test_costs_add_up_and_the_cache_makes_the_trace_cheaper():
    with LoopbackAnthropic(reply=STEP) as server:
        trace = run_trace({**LOOP, "model": "anthropic/claude-haiku-4-5", "api_base": server.url,
                           "prices": {"input": 1.0, "output": 5.0, "cache_read": 0.1, "cache_write": 1.25}})
    price = price_for("anthropic/claude-haiku-4-5", prices={"input": 1.0, "output": 5.0, "cache_read": 0.1,
                                                           "cache_write": 1.25})
    turns = [cost_of(price, t.prompt_tokens, t.completion_tokens, t.cached_tokens, t.cache_write_tokens)
             for t in trace.turns if t.role == "assistant"]
    whole = cost_of(price, trace.total("prompt_tokens"), trace.total("completion_tokens"), trace.total("cached_tokens"),
                    trace.total("cache_write_tokens"))
    assert whole.usd == pytest.approx(sum(c.usd for c in turns))
    assert whole.uncached_usd == pytest.approx(sum(c.uncached_usd for c in turns))
    assert whole.usd < whole.uncached_usd and whole.saved_usd > 0
    fresh = trace.total("prompt_tokens") - trace.total("cached_tokens") - trace.total("cache_write_tokens")
    expected = (fresh * 1.0 + trace.total("cached_tokens") * 0.1 + trace.total("cache_write_tokens") * 1.25
                + trace.total("completion_tokens") * 5.0) / 1e6
    assert whole.usd == pytest.approx(expected)


def test_prompt_cache_off_sends_no_marks_and_auto_leaves_other_providers_alone(monkeypatch):
    with LoopbackAnthropic(reply=STEP) as server:
        trace = run_trace({**LOOP, "model": "anthropic/claude-haiku-4-5", "api_base": server.url,
                           "prompt_cache": False})  # YAML's `prompt_cache: off`
        assert "cache_control" not in str([r.body for r in server.messages()])
    assert trace.total("cached_tokens") == 0 and trace.total("cache_write_tokens") == 0
    monkeypatch.setenv("GEMINI_API_KEY", "test-key")
    gemini = lm_for(config_from_dict({"model": "gemini/gemini-2.5-flash"}))
    assert "prompt_cache" not in gemini.kwargs  # Gemini, OpenAI and vLLM cache prefixes by themselves


class CachingOpenAI(LoopbackOpenAI):
    """An OpenAI-compatible server with automatic prefix caching, as vLLM and OpenAI report it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.seen: list[list[dict]] = []

    def completion(self, body: dict) -> dict:
        messages = body.get("messages", [])
        shared = max((n for earlier in self.seen for n in range(len(messages) + 1) if earlier[:n] == messages[:n]),
                     default=0)
        self.seen.append(messages)
        reply = super().completion(body)
        cached = sum(len(str(m.get("content", "")).split()) for m in messages[:shared])
        reply["usage"]["prompt_tokens_details"] = {"cached_tokens": cached}
        return reply


def test_openai_compatible_cached_tokens_are_recorded():
    with CachingOpenAI(reply=STEP) as server:
        trace = run_trace({**LOOP, "model": "openai/stub-model", "api_base": server.url})
    calls = [t for t in trace.turns if t.role == "assistant"]
    assert calls[0].cached_tokens == 0
    assert all(turn.cached_tokens > 0 for turn in calls[1:])
    assert all(turn.cache_write_tokens == 0 for turn in calls)


def test_prompt_cache_settings_are_checked():
    with pytest.raises(UserError, match="prompt_cache must be one of auto, on, off, got 'sometimes'"):
        config_from_dict({"prompt_cache": "sometimes"})
    with pytest.raises(UserError, match="prices.output is required"):
        config_from_dict({"prices": {"input": 1.0}})
    with pytest.raises(UserError, match="max_requests_per_minute must be >= 1"):
        config_from_dict({"max_requests_per_minute": 0})
    assert config_from_dict({"prompt_cache": True}).prompt_cache_mode == "on"
