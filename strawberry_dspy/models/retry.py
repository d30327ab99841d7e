"""Transient provider faults absorbed at the LM layer: retries with backoff and jitter, one line per outage.

DSPy 3.4 retries a failed call `num_retries` (3) times after 1, 2 and 4 s, so a provider outage longer
than a few seconds turns every trace in flight into a failed one, and it never retries a 200 reply whose
body is truncated, empty or not JSON. `RetryingLM` (what `lm_for` builds, DSPy's own retries off) retries
every transient failure — 429 (waiting at least its Retry-After), 5xx, connection errors, timeouts and
unreadable 200 bodies — with exponential backoff and jitter until the recipe's `retry:` budget is spent,
then raises `ProviderUnavailable` saying what failed, for how long and which setting to raise. Errors that
retrying cannot fix (a bad key, a bad request) are raised at once, unchanged.

A streamed call (DSPy's `send_stream` set: program/streaming.py) fails before its first chunk, and not transiently,
when its provider cannot stream: it refuses `stream`, or ignores it and answers with one body (to DSPy, a stream
without an end). That try is made again unstreamed, and the LM streams no more: the same reply arrives whole. A
transient fault goes to the retry loop as always.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import dspy
from dspy.utils.exceptions import (LMError, LMProviderError, LMRateLimitError, LMTransportError,
                                   is_retryable_lm_error)
from loguru import logger

from strawberry_dspy.retry_settings import RetrySettings

ANNOUNCE_AFTER_S = 2.0  # a failure streak this long (every call failing) is an outage worth one line


class ProviderUnavailable(LMError):
    """A call that kept failing transiently until the retry budget was spent."""

    default_code = "provider_unavailable"


def _chain(exc: BaseException):
    seen = 0
    while exc is not None and seen < 12:
        yield exc
        exc, seen = exc.__cause__ or exc.__context__, seen + 1


def _unreadable(exc: BaseException) -> bool:
    """A reply whose body is empty, truncated or not JSON (DSPy raises a plain provider error for it)."""
    return isinstance(exc, LMProviderError) and any(
        isinstance(e, (json.JSONDecodeError, UnicodeDecodeError)) for e in _chain(exc))


def _timed_out(exc: BaseException) -> bool:
    return isinstance(exc, LMTransportError) and any(
        isinstance(e, TimeoutError) or "Timeout" in type(e).__name__ for e in _chain(exc))


def is_transient(exc: BaseException) -> bool:
    """Whether retrying the same request may succeed: rate limits, server errors, transport, unreadable replies."""
    return is_retryable_lm_error(exc) or _unreadable(exc) or isinstance(exc, (ConnectionError, TimeoutError))


def describe(exc: BaseException, settings: RetrySettings) -> str:
    """What went wrong with one attempt, in a few words (none of DSPy's advice to retry it yourself)."""
    if _timed_out(exc):
        return f"no reply within retry.request_timeout_s={settings.request_timeout_s:g} s"
    text = str(getattr(exc, "message", None) or exc).strip().splitlines()
    text = (text[0] if text else type(exc).__name__).split(" Body starts:")[0][:160]
    status = getattr(exc, "status", None)
    return f"HTTP {status}: {text}" if status and f"HTTP {status}" not in text else text


def is_rate_limit(exc: BaseException | None) -> bool:
    """Whether a provider refused a call for its rate (HTTP 429)."""
    return isinstance(exc, LMRateLimitError) or getattr(exc, "status", None) == 429


class ProviderEvents:
    """What the providers of this process answered that a run should report: 429s and retries (thread-safe).

    One process-wide tally: a harvest reads it at its start and end (`snapshot`) for its progress bar and summary.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rate_limited = self.retries = 0

    def count(self, exc: BaseException, retried: bool) -> None:
        with self.lock:
            self.rate_limited += is_rate_limit(exc)
            self.retries += retried

    def snapshot(self) -> tuple[int, int]:
        """(429s, retries) so far."""
        return self.rate_limited, self.retries


PROVIDER_EVENTS = ProviderEvents()


class Outage:
    """Whether every call of one LM is failing right now; says so once, and once when the provider is back.

    Shared by an LM and its copies (every thread of a harvest), so a 60 s outage is one warning line and
    one recovery line however many calls retry through it; isolated faults between successes say nothing.
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.since: float | None = None  # the first failure after the last success
        self.failures = 0
        self.announced = False
        self.spent = False  # a call used up the budget in this streak: the others stop retrying too

    def failed(self, exc: BaseException, settings: RetrySettings) -> float:
        """Record a transient failure; returns when the current streak of failures began.

        A rate limit (429) is not announced as an outage: the rate gate and the progress bar report it as a status.
        """
        with self.lock:
            now = time.monotonic()
            if self.since is None:
                self.since, self.failures = now, 0
            self.failures += 1
            if not self.announced and not is_rate_limit(exc) and self.failures >= 2 and now - self.since >= ANNOUNCE_AFTER_S:
                self.announced = True
                logger.warning("provider unavailable ({}); retrying each call for up to {:g} s (retry.budget_s)",
                               describe(exc, settings), settings.budget_s)
            return self.since

    def succeeded(self) -> None:
        """A call got through: the streak (and any outage) is over."""
        if self.since is None:  # the common case: no lock
            return
        with self.lock:
            if self.announced:
                logger.info("provider answering again after {:.0f} s ({} failed attempts)",
                            time.monotonic() - self.since, self.failures)
            self.since, self.failures, self.announced, self.spent = None, 0, False, False


class _Call:
    """One call's attempts; `wait_after` says how long to wait before the next, or raises the final error."""

    def __init__(self, settings: RetrySettings, outage: Outage, model: str):
        self.settings, self.outage, self.model = settings, outage, model
        self.start, self.attempts = time.monotonic(), 0

    def wait_after(self, exc: Exception) -> float:
        self.attempts += 1
        if not is_transient(exc):
            PROVIDER_EVENTS.count(exc, retried=False)
            raise exc
        since = self.outage.failed(exc, self.settings)
        # the budget runs from this call's start or the outage's, whichever is earlier: once an outage has
        # outlasted it, calls fail after one attempt instead of each waiting out a budget of its own
        began = min(self.start, since)
        now = time.monotonic()
        left = began + self.settings.budget_s - now
        wait = max(self.settings.backoff(self.attempts), float(getattr(exc, "retry_after", None) or 0.0))
        if self.attempts >= self.settings.max_attempts:
            limit = f"retry.max_attempts={self.settings.max_attempts}"
        elif wait > left or self.outage.spent:
            limit = f"retry.budget_s={self.settings.budget_s:g}"
            self.outage.spent = True
        else:
            logger.debug("{} attempt {} failed ({}); retrying in {:.1f} s", self.model, self.attempts,
                         describe(exc, self.settings), wait)
            PROVIDER_EVENTS.count(exc, retried=True)
            return wait
        PROVIDER_EVENTS.count(exc, retried=False)
        raise ProviderUnavailable(
            f"provider unavailable: {describe(exc, self.settings)}; {self.attempts} attempt(s) by this call, "
            f"failing for {now - began:.1f} s; gave up at {limit}", model=self.model,
            status=getattr(exc, "status", None)) from exc


class _Counting:
    """A caller's `send_stream`, counting the chunks sent through it."""

    def __init__(self, stream: Any):
        self.stream, self.sent = stream, 0

    async def send(self, chunk: Any) -> None:
        self.sent += 1
        await self.stream.send(chunk)


class RetryingLM(dspy.LM):
    """A dspy.LM whose calls ride out transient faults per `RetrySettings` (DSPy's own retries off)."""

    def __init__(self, model: str, *, retry: RetrySettings | dict | None = None, **kwargs: Any):
        kwargs["num_retries"] = 0  # one retry loop, not two stacked
        self.retry = RetrySettings(**retry) if isinstance(retry, dict) else retry or RetrySettings()
        if isinstance(kwargs.get("engine", "auto"), str):  # a custom (in-process) engine has no HTTP timeout
            kwargs.setdefault("timeout", self.retry.request_timeout_s)
        super().__init__(model, **kwargs)
        self.outage = Outage()  # copies share it: one line per outage for every thread
        self.streams = True  # False once the provider failed to stream (see the module's docstring)

    def _attempt(self, *args: Any, **kwargs: Any):
        """One try at the provider (the rate gate's GatedLM wraps each try, not the whole retry loop)."""
        try:
            with self._streaming() as sink:
                return dspy.LM.__call__(self, *args, **kwargs)
        except Exception as exc:
            if not self._cannot_stream(exc, sink):
                raise
        with dspy.context(send_stream=None):
            result = dspy.LM.__call__(self, *args, **kwargs)
        self._stop_streaming()
        return result

    async def _aattempt(self, *args: Any, **kwargs: Any):
        try:
            with self._streaming() as sink:
                return await dspy.LM.acall(self, *args, **kwargs)
        except Exception as exc:
            if not self._cannot_stream(exc, sink):
                raise
        with dspy.context(send_stream=None):
            result = await dspy.LM.acall(self, *args, **kwargs)
        self._stop_streaming()
        return result

    @contextmanager
    def _streaming(self) -> Iterator[_Counting | None]:
        """The caller's `send_stream`, counted; None when the call is not streamed or the provider cannot stream."""
        stream = dspy.settings.send_stream
        if stream is None:  # every call but the Playground's: no settings to change
            yield None
            return
        sink = _Counting(stream) if self.streams else None
        with dspy.context(send_stream=sink):
            yield sink

    def _cannot_stream(self, exc: Exception, sink: _Counting | None) -> bool:
        """Whether a streamed try failed before its first chunk, not transiently: the provider may not stream (the
        same call is asked for a whole reply; only when that succeeds does this LM stop streaming)."""
        if sink is None or sink.sent or is_transient(exc):
            return False
        logger.debug("{} did not stream ({}); asking for a whole reply", self.model, describe(exc, self.retry))
        return True

    def _stop_streaming(self) -> None:
        """A whole reply came where a streamed one failed: the provider cannot stream; later calls do not ask."""
        self.streams = False

    def __call__(self, *args: Any, **kwargs: Any):
        call = _Call(self.retry, self.outage, self.model)
        while True:
            try:
                result = self._attempt(*args, **kwargs)
            except Exception as exc:
                time.sleep(call.wait_after(exc))
                continue
            self.outage.succeeded()
            return result

    async def acall(self, *args: Any, **kwargs: Any):
        call = _Call(self.retry, self.outage, self.model)
        while True:
            try:
                result = await self._aattempt(*args, **kwargs)
            except Exception as exc:
                await asyncio.sleep(call.wait_after(exc))
                continue
            self.outage.succeeded()
            return result

    def dump_state(self) -> dict:
        return {**super().dump_state(), "retry": dataclasses.asdict(self.retry)}
