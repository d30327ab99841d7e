"""Calls in flight: the task LM that lm_for builds keeps `concurrency` requests at a server at once, each built once.

The real dspy.LM (its lm15 connection pool) talks to the asyncio loopback server (`strawberry_dspy/testing/loopback_fast.py`), which
counts the connections open and the requests it holds at their peak; a latency keeps every request open long enough
for the others to arrive.
"""

import threading

import pytest
from dspy.clients.engines.lm15_engine import LM15Engine

from strawberry_dspy.config import ProgramSettings
from strawberry_dspy.models import lm_for
from strawberry_dspy.testing.loopback_fast import FastLoopback

LATENCY_S = 2.0  # long enough for every thread to have sent its request before the first reply, on a busy CI


def call_at_once(lm, count: int) -> list:
    """`count` threads each make one call at the same moment; their replies, in thread order."""
    replies, start = [None] * count, threading.Barrier(count)

    def one(index: int) -> None:
        start.wait()
        replies[index] = lm(f"question {index}")

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return replies


@pytest.mark.slow  # waits on real time (time limits, Retry-After, an outage): out of the quick loop
@pytest.mark.parametrize("concurrency", [8, 64])
def test_the_pool_admits_concurrency_requests_at_once(concurrency):
    with FastLoopback("a reply", latency_s=LATENCY_S) as server:
        lm = lm_for(ProgramSettings(model="openai/stub-model", api_base=server.url, concurrency=concurrency, cache=False))
        server.reset_peaks()  # the start-up probe of /models is not a call
        replies = call_at_once(lm, concurrency)
        stats = server.stats()
    assert replies == [["a reply"]] * concurrency
    assert stats["peak_in_flight"] == concurrency  # none queued behind a pool limit or a lock
    assert stats["peak_connections"] == concurrency  # one keep-alive connection each
    assert stats["served"] == concurrency + 1  # the calls and the probe, nothing retried


@pytest.mark.slow  # waits on real time or round-trips through TRL / the Hub: out of the quick loop
def test_the_rate_gate_still_caps_calls_in_flight_at_the_concurrency():
    with FastLoopback("a reply", latency_s=LATENCY_S) as server:
        lm = lm_for(ProgramSettings(model="openai/stub-model", api_base=server.url, concurrency=4, cache=False))
        server.reset_peaks()
        replies = call_at_once(lm, 16)
        stats = server.stats()
    assert replies == [["a reply"]] * 16
    assert stats["peak_in_flight"] == 4


def test_a_call_to_an_openai_compatible_server_builds_its_request_once(monkeypatch):
    """DSPy's engine="auto" plans every request (building it) before building it again to send; ours does not."""
    planned = []
    monkeypatch.setattr(LM15Engine, "plan", lambda self, request: planned.append(request))
    with FastLoopback("a reply") as server:
        lm = lm_for(ProgramSettings(model="openai/stub-model", api_base=server.url, cache=False))
        assert [lm(f"q{i}") for i in range(3)] == [["a reply"]] * 3
    assert planned == []
