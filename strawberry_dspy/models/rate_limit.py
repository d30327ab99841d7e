"""The rate gate every task-LM call passes: adaptive concurrency (AIMD), requests / tokens per minute, Retry-After.

A hosted API answers load beyond its limits with 429. DSPy's own retries alone did not keep other users' harvests
from failing (dspy issue 7949): 32 threads that each wait out a 429 and come back together meet the same wall.
The gate makes the run adapt instead:

- at most `limit` calls in flight; `limit` starts at the run's concurrency, halves on a 429 (once per wave: a call
  admitted before the last cut does not cut again) and grows back by one per `limit` calls that succeed (AIMD);
- no call starts before the pause a 429 asked for (`Retry-After`, `retry-after-ms`, or the reset of an exhausted
  `x-ratelimit-*` / `anthropic-ratelimit-*` budget) is over;
- `max_requests_per_minute` / `max_tokens_per_minute` are token buckets (one second of burst); a call's tokens are
  estimated when it starts (prompt characters / 4 + its max_tokens), since only a finished call knows its usage.

The gate wraps each single try at the provider, inside the retry loop of `models/retry.py`: every 429 reaches
the gate (which cuts and pauses), and the retry layer waits out its Retry-After and tries again, holding no slot
while it waits. Executors need no change: `lm_for` returns a `GatedLM`, and the harvest's progress bar shows
`throttle_note()`, once per gate a log line.
"""

from __future__ import annotations

import asyncio
import copy
import json
import math
import threading
import time
import weakref
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterator, Mapping

import dspy
from loguru import logger

from strawberry_dspy.models.retry import RetryingLM, is_rate_limit

CHARS_PER_TOKEN = 4  # estimating a prompt's tokens before the provider counts them
MAX_PAUSE_S = 120.0  # a header asking for longer is capped (a daily budget's reset would stall the run for hours)
_gates: weakref.WeakSet = weakref.WeakSet()


class Bucket:
    """A token bucket: `rate` units per second, up to one second's worth banked (at least one unit)."""

    def __init__(self, per_minute: int):
        self.rate = per_minute / 60.0
        self.capacity = max(1.0, self.rate)
        self.level, self.stamp = self.capacity, time.monotonic()

    def _fill(self, now: float) -> None:
        self.level = min(self.capacity, self.level + (now - self.stamp) * self.rate)
        self.stamp = now

    def wait_s(self, amount: float, now: float) -> float:
        """Seconds until `amount` can be taken (a call larger than the bucket waits for a full bucket)."""
        self._fill(now)
        need = min(amount, self.capacity) - self.level
        return max(need, 0.0) / self.rate

    def take(self, amount: float) -> None:
        self.level -= amount  # may go below zero: the next calls wait for the debt


@dataclass
class Ticket:
    """One admitted call: its wave (for the AIMD cut) and its token estimate."""

    wave: int
    tokens: float


class RateGate:
    """Admission for LM calls: an AIMD limit on calls in flight, request/token buckets and 429 pauses (thread-safe)."""

    def __init__(self, concurrency: int, requests_per_minute: int | None = None,
                 tokens_per_minute: int | None = None, clock: Callable[[], float] = time.monotonic):
        self.ceiling = max(1, concurrency)  # the run's --concurrency: the AIMD limit never rises above it
        self.limit = float(self.ceiling)
        self.requests = Bucket(requests_per_minute) if requests_per_minute else None
        self.tokens = Bucket(tokens_per_minute) if tokens_per_minute else None
        self.clock = clock
        self.lowest = self.ceiling  # the lowest limit the run fell to
        self.in_flight = self.wave = self.refusals = self.admitted = 0
        self.paused_until = 0.0
        self.cond = threading.Condition()
        _gates.add(self)

    # -- admission ---------------------------------------------------------------------------------------------
    def admit(self, tokens: float = 0.0) -> Ticket:
        """Block until a call may start; count it in flight."""
        with self.cond:
            while (wait := self._wait_s(tokens)) > 0:
                self.cond.wait(timeout=wait if math.isfinite(wait) else None)
            self.in_flight += 1
            self.admitted += 1
            for bucket, amount in ((self.requests, 1.0), (self.tokens, tokens)):
                if bucket is not None:
                    bucket.take(amount)
            return Ticket(self.wave, tokens)

    def _wait_s(self, tokens: float) -> float:
        now = self.clock()
        if self.in_flight >= int(self.limit):
            return math.inf  # woken by a call finishing
        waits = [self.paused_until - now]
        waits += [bucket.wait_s(amount, now) for bucket, amount in ((self.requests, 1.0), (self.tokens, tokens))
                  if bucket is not None]
        return max(waits)

    def done(self, ticket: Ticket, error: BaseException | None = None) -> bool:
        """Record how an admitted call ended; True when it was refused for the rate (then it may be queued again)."""
        limited = is_rate_limit(error)
        with self.cond:
            self.in_flight -= 1
            if limited:
                self.refusals += 1
                if ticket.wave == self.wave:  # the first refusal of this wave cuts; the rest were sent before it
                    self.limit = max(1.0, self.limit / 2)
                    self.lowest = min(self.lowest, int(self.limit))
                    self.wave += 1
                    # one line per gate; after it the progress bar's postfix carries the status
                    (logger.debug if self.wave > 1 else logger.info)(
                        "rate limited by the provider (HTTP 429): at most {} of {} call(s) in flight now, raised "
                        "again as calls succeed", int(self.limit), self.ceiling)
                pause = pause_s(error, time.time())
                if pause:
                    self.paused_until = max(self.paused_until, self.clock() + min(pause, MAX_PAUSE_S))
            elif error is None:
                self.limit = min(float(self.ceiling), self.limit + 1.0 / self.limit)
            self.cond.notify_all()
        return limited

    @contextmanager
    def settle(self, ticket: Ticket, last: bool = False) -> Iterator[None]:
        """Around one admitted call: record how it ended; a rate refusal is swallowed (the caller queues the call
        again) unless it is the `last` try."""
        try:
            yield
        except BaseException as exc:
            if self.done(ticket, exc) and not last:
                return
            raise
        self.done(ticket)

    # -- what the progress bar shows -----------------------------------------------------------------------------
    @property
    def throttled(self) -> bool:
        """Whether the gate now admits fewer calls than the run's concurrency, or is pausing for the provider."""
        return int(self.limit) < self.ceiling or self.paused_until > self.clock()

    def note(self) -> str:
        """The rate-limit status while throttled, else '': 'rate limited: 4 of 32 calls in flight' (the calls it
        admits now, of the run's concurrency), with ', paused 12 s' while it waits out a Retry-After."""
        if not self.throttled:
            return ""
        pause = self.paused_until - self.clock()
        return (f"rate limited: {int(self.limit)} of {self.ceiling} calls in flight"
                + (f", paused {math.ceil(pause)} s" if pause > 0 else ""))

    def __getstate__(self) -> dict:  # a worker process gets a fresh gate of the same settings
        state = dict(self.__dict__)
        state.pop("cond")
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.cond = threading.Condition()
        _gates.add(self)


def throttle_note() -> str:
    """The note of a throttled gate of this process ('' when none is): the harvest's progress postfix."""
    return next((note for gate in list(_gates) if (note := gate.note())), "")


def pause_s(error: BaseException | None, now_epoch: float) -> float:
    """How long a 429 asks to wait: Retry-After (DSPy's `retry_after`), retry-after-ms, or an exhausted budget's reset."""
    hint = getattr(error, "retry_after", None)
    if isinstance(hint, (int, float)) and hint >= 0:
        return float(hint)
    headers = getattr(error, "rate_limit_headers", None) or {}
    if value := _header(headers, "retry-after-ms"):
        return _number(value) / 1000
    if value := _header(headers, "retry-after"):
        return _number(value)
    resets = []
    for unit in ("requests", "tokens", "input-tokens", "output-tokens"):
        if _header(headers, f"x-ratelimit-remaining-{unit}") == "0":
            resets.append(duration_s(_header(headers, f"x-ratelimit-reset-{unit}")))
        if _header(headers, f"anthropic-ratelimit-{unit}-remaining") == "0":
            resets.append(_until(_header(headers, f"anthropic-ratelimit-{unit}-reset"), now_epoch))
    return max(resets, default=0.0)


def _header(headers: Mapping[str, Any], name: str) -> str:
    value = headers.get(name)
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    return str(value).strip() if value is not None else ""


def _number(text: str) -> float:
    try:
        return max(float(text), 0.0)
    except ValueError:
        return 0.0


def duration_s(text: str) -> float:
    """OpenAI's reset durations ('1s', '6m0s', '59.4ms', '2h1m') or plain seconds, in seconds."""
    total, number = 0.0, ""
    units = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    i = 0
    while i < len(text):
        char = text[i]
        if char.isdigit() or char == ".":
            number += char
            i += 1
            continue
        unit = "ms" if text.startswith("ms", i) else char
        if unit not in units or not number:
            return 0.0
        total += _number(number) * units[unit]
        number, i = "", i + len(unit)
    return total + (_number(number) if number else 0.0)


def _until(stamp: str, now_epoch: float) -> float:
    """Seconds from now until an RFC 3339 time (Anthropic's resets)."""
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return 0.0
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return max(moment.timestamp() - now_epoch, 0.0)


class GatedLM(RetryingLM):
    """A RetryingLM whose every try passes its `gate` (DSPy's execution, usage, cost and history unchanged)."""

    gate: RateGate

    def _attempt(self, prompt=None, *, messages=None, **kwargs):
        with self.gate.settle(self.gate.admit(self._estimate(prompt, messages, kwargs)), last=True):
            return super()._attempt(prompt, messages=messages, **kwargs)

    async def _aattempt(self, prompt=None, *, messages=None, **kwargs):
        ticket = await asyncio.to_thread(self.gate.admit, self._estimate(prompt, messages, kwargs))
        with self.gate.settle(ticket, last=True):
            return await super()._aattempt(prompt, messages=messages, **kwargs)

    def _estimate(self, prompt, messages, kwargs: dict) -> float:
        if self.gate.tokens is None:
            return 0.0
        text = prompt if isinstance(prompt, str) else json.dumps(messages or [], default=str)
        output = kwargs.get("max_tokens") or self.kwargs.get("max_tokens") or 0
        return len(text) / CHARS_PER_TOKEN + output


def gated(lm: dspy.BaseLM, gate: RateGate) -> dspy.BaseLM:
    """`lm` with every try passing `gate` (a RetryingLM becomes a GatedLM sharing its state; others stay)."""
    if type(lm) is not RetryingLM:
        return lm  # a custom LM class (hf:DIR's engine) serves locally and is never rate limited
    copied = copy.copy(lm)  # dspy.LM.__copy__: the same settings and shared engine pools
    copied.__class__ = GatedLM
    copied.gate = gate
    return copied
