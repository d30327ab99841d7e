"""The rate gate: AIMD under 429s, Retry-After and rate-limit headers, request buckets, against a real 429ing server.

The server side is a loopback server speaking Anthropic's Messages API that refuses load beyond a token bucket with
429 + retry-after + anthropic-ratelimit-* headers; the client is the real DSPy LM that lm_for builds.
"""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from dspy.utils.exceptions import LMRateLimitError, LMServerError
from loguru import logger

from strawberry_dspy.config import config_from_dict
from strawberry_dspy.harvest.progress import HarvestProgress
from strawberry_dspy.models import lm_for
from strawberry_dspy.models.rate_limit import GatedLM, RateGate, duration_s, pause_s, throttle_note
from strawberry_dspy.testing.loopback_anthropic import LoopbackAnthropic


def refusal(retry_after=None, **headers) -> LMRateLimitError:
    error = LMRateLimitError(message="rate limited", retry_after=retry_after)
    error.rate_limit_headers = {name.replace("_", "-"): (value,) for name, value in headers.items()}
    return error


def test_a_wave_of_429s_halves_the_limit_once_and_successes_raise_it_again():
    gate = RateGate(16)
    wave = [gate.admit() for _ in range(16)]
    for ticket in wave:  # all 16 were sent before the provider said no: one cut, not sixteen
        assert gate.done(ticket, refusal()) is True
    assert int(gate.limit) == 8 and gate.throttled and gate.lowest == 8
    assert gate.done(gate.admit(), refusal()) and int(gate.limit) == 4  # admitted after the cut: cuts again
    for _ in range(120):  # about one per call in flight to grow by one: 4 + 5 + ... + 15
        gate.done(gate.admit())
    assert gate.limit == 16 and not gate.throttled  # additive increase back to the run's concurrency
    assert gate.done(gate.admit(), LMServerError(message="boom")) is False and gate.limit == 16  # not a rate signal


def test_a_refused_call_is_queued_again_until_its_last_try_and_other_errors_pass_through():
    gate = RateGate(2)
    with gate.settle(gate.admit()):
        raise refusal()  # swallowed: the caller admits the call again
    with pytest.raises(LMRateLimitError), gate.settle(gate.admit(), last=True):
        raise refusal()
    with pytest.raises(LMServerError), gate.settle(gate.admit()):
        raise LMServerError(message="boom")  # the retry layer's business, not the gate's
    assert gate.in_flight == 0 and gate.refusals == 2


def test_in_flight_calls_never_exceed_the_limit():
    gate, peak, lock = RateGate(3), [0], threading.Lock()
    all_in = threading.Barrier(3, timeout=60)  # each admitted call holds until the limit's worth are in: no sleep

    def call(_):
        ticket = gate.admit()
        with lock:
            peak[0] = max(peak[0], gate.in_flight)
        all_in.wait()
        gate.done(ticket)

    with ThreadPoolExecutor(12) as pool:
        list(pool.map(call, range(36)))
    assert peak[0] == 3 and gate.in_flight == 0


def test_pauses_come_from_retry_after_and_rate_limit_headers():
    assert pause_s(refusal(retry_after=2.5), 0) == 2.5
    assert pause_s(refusal(retry_after_ms="750"), 0) == 0.75
    assert pause_s(refusal(x_ratelimit_remaining_requests="0", x_ratelimit_reset_requests="6m0s"), 0) == 360
    assert pause_s(refusal(x_ratelimit_remaining_requests="3", x_ratelimit_reset_requests="6m0s"), 0) == 0
    assert pause_s(refusal(anthropic_ratelimit_requests_remaining="0",
                           anthropic_ratelimit_requests_reset="1970-01-01T00:00:10Z"), 4.0) == 6.0
    assert duration_s("59.4ms") == pytest.approx(0.0594) and duration_s("1h2m3s") == 3723 and duration_s("7") == 7
    gate = RateGate(4)
    gate.done(gate.admit(), refusal(retry_after=0.3))
    start = time.monotonic()
    gate.done(gate.admit())  # waits out the pause the provider asked for
    assert time.monotonic() - start >= 0.25


def test_requests_per_minute_paces_calls():
    gate = RateGate(8, requests_per_minute=600)  # 10/s, one second of burst
    start = time.monotonic()
    for _ in range(20):
        gate.done(gate.admit())
    # 10 at once, then 10 more at 10/s: at least 0.9 s (a loaded machine may take longer, never less; the upper bound
    # only catches a gate that waits out a whole minute)
    assert 0.9 <= time.monotonic() - start < 30


@pytest.mark.slow  # waits on real time or round-trips through TRL / the Hub: out of the quick loop
def test_concurrency_drops_under_429s_and_recovers_against_a_rate_limited_server():
    # 16 threads against 5 requests/s: some calls still meet a 429 after DSPy's own retries (which honour
    # retry-after inside one call); those reach the gate, which cuts the calls in flight and queues them again.
    with LoopbackAnthropic(requests_per_s=5) as server:
        lm = lm_for(config_from_dict({"model": "anthropic/claude-haiku-4-5", "api_base": server.url,
                                      "concurrency": 16}))
        assert isinstance(lm, GatedLM)
        with ThreadPoolExecutor(16) as pool:
            replies = list(pool.map(lambda i: lm(messages=[{"role": "user", "content": f"q{i}"}]), range(40)))
        gate = lm.gate
        assert len(replies) == 40 and len(server.messages(200)) == 40  # no call failed
        assert gate.refusals > 0 and gate.lowest < 16 and len(server.messages(429)) >= gate.refusals
        server.rate = None  # the provider's limit is lifted: every call succeeds and the limit climbs back
        for _ in range(140):
            lm(messages=[{"role": "user", "content": "again"}])
        assert gate.limit == 16 and not gate.throttled
        assert asyncio.run(lm.acall(messages=[{"role": "user", "content": "async"}])) == [server.reply]
        assert gate.in_flight == 0


def test_the_progress_bar_says_when_the_gate_throttles():
    gate = RateGate(8)
    bar = HarvestProgress(total=2, enabled=False)
    bar.trace_done(True, False, 10)
    assert "rate limited" not in bar.bar.postfix
    gate.done(gate.admit(), refusal())
    bar.trace_done(True, False, 10)
    assert "rate limited: 4 of 8 calls in flight" in bar.bar.postfix
    assert throttle_note() == "rate limited: 4 of 8 calls in flight"
    bar.close()
    for _ in range(40):
        gate.done(gate.admit())
    assert throttle_note() == ""


def test_a_storm_of_429s_is_one_log_line_and_a_status():
    lines = []
    logger.enable("strawberry_dspy")
    sink = logger.add(lambda message: lines.append(message.record["message"]), level="INFO")
    try:
        gate = RateGate(64)
        for _ in range(6):  # six waves of refusals, each cutting the limit
            tickets = [gate.admit() for _ in range(int(gate.limit))]
            for ticket in tickets:
                gate.done(ticket, refusal(retry_after=0.0))
    finally:
        logger.remove(sink)
    assert gate.lowest == 1 and gate.refusals > 6
    assert lines == ["rate limited by the provider (HTTP 429): at most 32 of 64 call(s) in flight now, raised again "
                     "as calls succeed"]
    assert throttle_note() == "rate limited: 1 of 64 calls in flight"
