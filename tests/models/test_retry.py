"""Transient faults absorbed by the LM that `lm_for` builds, against a real fault-injecting server on 127.0.0.1.

The real DSPy client talks to `strawberry_dspy/testing/loopback_openai.py`; every fault kind is retried, an outage longer than
DSPy's own retries (1 + 2 + 4 s) is ridden out with one warning line and one recovery line, and a call that
keeps failing ends in an error that says what happened and which setting to raise.
"""

import asyncio
import threading
import time

import pytest
from dspy.utils.exceptions import LMAuthError, LMInvalidRequestError
from loguru import logger

from strawberry_dspy.config import config_from_dict
from strawberry_dspy.errors import UserError
from strawberry_dspy.models import lm_for
from strawberry_dspy.models.retry import ProviderUnavailable, RetryingLM
from strawberry_dspy.testing.loopback_openai import FAULTS, REPLY, LoopbackOpenAI

FAST = {"request_timeout_s": 1.0, "backoff_base_s": 0.05, "backoff_cap_s": 0.2, "budget_s": 20.0}


@pytest.fixture
def server():
    with LoopbackOpenAI(retry_after_s=1.0, hang_s=10.0) as loopback:
        yield loopback


@pytest.fixture
def log():
    """The library's log lines (level, message) while the test runs."""
    lines = []
    logger.enable("strawberry_dspy")
    sink = logger.add(lambda m: lines.append((m.record["level"].name, m.record["message"])), level="DEBUG")
    yield lines
    logger.remove(sink)


def lm_of(server, **retry):
    return lm_for(config_from_dict({"model": "openai/stub-model", "api_base": server.url, "retry": {**FAST, **retry}}))


def ask(lm):
    return lm("Say hi.")


@pytest.mark.parametrize("fault", FAULTS + ("500", "502"))
def test_each_transient_fault_is_retried_until_the_reply_arrives(server, fault):
    lm = lm_of(server)
    assert isinstance(lm, RetryingLM) and lm.num_retries == 0  # one retry loop: DSPy's own is off
    server.inject(fault, fault)
    start = time.monotonic()
    assert ask(lm) == [REPLY]
    elapsed = time.monotonic() - start
    assert len(server.completions()) == 3 and server.faults_served[fault] == 2
    if fault == "429":
        assert elapsed >= 2 * 1.0  # Retry-After: 1 honoured, although the backoff alone would be 0.05-0.1 s
    if fault == "hang":
        assert 2 * 1.0 <= elapsed < 5  # each hang cut at request_timeout_s=1, not waited out (10 s)


@pytest.mark.parametrize("status, error", [("401", LMAuthError), ("400", LMInvalidRequestError),
                                           ("404", LMInvalidRequestError)])
def test_errors_that_retrying_cannot_fix_are_raised_at_once(server, status, error):
    server.inject(status)
    with pytest.raises(error):
        ask(lm_of(server))
    assert len(server.completions()) == 1


@pytest.mark.slow  # waits on real time or round-trips through TRL / the Hub: out of the quick loop
def test_an_outage_longer_than_dspys_retries_is_ridden_out_with_one_line_each_way(server, log):
    lm = lm_of(server, backoff_base_s=0.1, backoff_cap_s=0.5)
    server.outage(6.0, "503")
    start = time.monotonic()
    replies = []
    threads = [threading.Thread(target=lambda: replies.append(ask(lm))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert replies == [[REPLY]] * 4 and time.monotonic() - start >= 6.0
    assert server.faults_served["503 (outage)"] > 4 * 4  # far more than DSPy's 3 retries per call
    warnings = [m for level, m in log if level == "WARNING"]
    assert len(warnings) == 1 and "provider unavailable (HTTP 503" in warnings[0] and "20 s" in warnings[0]
    assert len([m for level, m in log if level == "INFO" and "answering again" in m]) == 1
    # isolated faults between successes are no outage: nothing more is said
    server.inject("503", "reset")
    assert ask(lm) == [REPLY] and ask(lm) == [REPLY]
    outage = [m for level, m in log if level in ("WARNING", "INFO") and "calls go to" not in m]  # not the host line
    assert len(outage) == 2


@pytest.mark.slow  # waits on real time (time limits, Retry-After, an outage): out of the quick loop
def test_a_429_outage_waits_out_retry_after(server):
    lm = lm_of(server)
    server.outage(2.5, "429")
    start = time.monotonic()
    assert ask(lm) == [REPLY]
    assert time.monotonic() - start >= 2.5 and server.faults_served["429 (outage)"] <= 3  # waited ~1 s between attempts


def test_a_call_that_keeps_failing_says_what_failed_for_how_long_and_what_to_raise(server):
    lm = lm_of(server, budget_s=1.0)
    server.outage(60.0, "503")
    start = time.monotonic()
    with pytest.raises(ProviderUnavailable) as raised:
        ask(lm)
    assert 0.8 <= time.monotonic() - start < 2.0
    message = str(raised.value)
    assert "HTTP 503" in message and "retry.budget_s=1" in message and "attempt(s)" in message
    assert "never retries" not in message  # DSPy's advice to retry yourself, after we did
    # the outage has outlasted the budget: the next call fails after one attempt or two, not another second
    before = len(server.completions())
    start = time.monotonic()
    with pytest.raises(ProviderUnavailable):
        ask(lm)
    assert time.monotonic() - start < 0.5 and len(server.completions()) - before <= 2


def test_max_attempts_bounds_the_retries(server):
    server.outage(60.0, "empty")
    with pytest.raises(ProviderUnavailable, match="retry.max_attempts=3"):
        ask(lm_of(server, max_attempts=3))
    assert len(server.completions()) == 3


def test_a_hung_server_is_reported_as_the_timeout_setting(server):
    server.outage(60.0, "hang")
    with pytest.raises(ProviderUnavailable, match=r"no reply within retry.request_timeout_s=0.5 s"):
        ask(lm_of(server, request_timeout_s=0.5, budget_s=0.0))


def test_copies_keep_the_retry_policy(server):
    lm = lm_of(server).copy(temperature=0.1)
    server.inject("503")
    assert isinstance(lm, RetryingLM) and ask(lm) == [REPLY]


@pytest.mark.parametrize("retry, wrong", [({"budget_s": -1}, "retry.budget_s"), ({"max_attempts": 0}, "max_attempts"),
                                          ({"request_timeout_s": 0}, "request_timeout_s"),
                                          ({"backoff_base_s": 5, "backoff_cap_s": 1}, "backoff_cap_s")])
def test_bad_retry_settings_are_one_clear_error(retry, wrong):
    with pytest.raises(UserError, match=wrong):
        config_from_dict({"retry": retry})


def test_async_calls_are_retried_too(server):
    lm = lm_of(server)
    server.inject("503", "truncated")
    assert asyncio.run(lm.acall("Say hi.")) == [REPLY] and len(server.completions()) == 3
