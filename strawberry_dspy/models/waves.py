"""Waves: the LM calls of many traces gathered into one provider batch per turn (`strawberry harvest --batch`).

Every trace runs in its own thread as in a live harvest; its LM's transport (`batch_lm.py`) hands each request to
`Waves.exchange`, which blocks it. When every trace still running is blocked (or done), the requests waiting form a
wave: one batch is submitted, polled every `poll_s` seconds, and its answers wake their traces, which take their
next turn. A request is named by its trace, its call number in the trace and its body (`request_id`), so a rerun of
the same harvest asks the same requests: what an earlier run's batches answered is replayed from the ledger (the
harvest's store), and a wave whose requests an earlier run already submitted re-attaches to that batch instead of
paying for it twice.

A batch owns its retries: a request it did not run (expired, cancelled) or answered with a transient error (429,
5xx, a line of OpenAI's error file) goes into the next wave, up to MAX_SENDS batches per run, and only then is that
answer the call's. Polling a batch and downloading its results ride out transient failures (MAX_CALL_ERRORS in a
row). A batch id the provider does not know is sent again only when it was read from the ledger (an earlier run's,
past the provider's retention); one this run submitted and the provider lost is an error for its calls.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Hashable, Iterator, Protocol, TypeVar

from loguru import logger

from strawberry_dspy.models.batch_api import Answer, BatchAPI, BatchAPIError, batch_api_for, transient_status

MAX_SENDS = 3  # batches a request goes into per run before the last one's error (or "not run") is its answer
MAX_CALL_ERRORS = 5  # transient failures in a row polling one batch or downloading its results before its wave fails
T = TypeVar("T")


class WavesClosed(BaseException):
    """The harvest stopped while this call waited for its batch: no trace failed, nothing is stored for it."""


class Ledger(Protocol):
    """Where the batches live between runs (the harvest's store, `store/batch_calls.py`)."""

    def batch_calls(self) -> tuple[dict[str, Answer], dict[str, str]]:
        """(answers kept by request id, the batch id of each request sent but not yet answered)."""

    def batch_submitted(self, batch_id: str, calls: list[tuple[str, Hashable]]) -> None:
        """Remember (request id, trace) of each request of a submitted batch."""

    def batch_collected(self, kept: dict[str, Answer], dropped: list[str]) -> None:
        """Keep the answers to replay; forget the requests that were answered otherwise or never ran."""


def trace_prefix(trace: Hashable) -> str:
    """The first half of the request ids of one trace (a ledger forgets a stored trace's requests by it)."""
    return hashlib.sha256(json.dumps(trace, default=str).encode()).hexdigest()[:16]


def request_id(trace: Hashable, index: int, body: dict) -> str:
    """The id of a trace's `index`-th request with this body: the same in every run that asks the same thing."""
    digest = hashlib.sha256(f"{index}\n{json.dumps(body, sort_keys=True, ensure_ascii=False)}".encode())
    return trace_prefix(trace) + digest.hexdigest()[:24]


@dataclass
class _Call:
    rid: str
    trace: Hashable
    index: int
    body: dict
    url: str
    headers: list[tuple[str, str]]
    answered: threading.Event = field(default_factory=threading.Event)
    answer: Answer | None = None


@dataclass
class WaveCounts:
    """What the waves did: batches submitted and re-attached to, requests sent and answered from the ledger, and
    the tokens of the replies this run's batches brought (prompt with the cache's, completion, cache read, cache
    write): what this run pays for, not the replies an earlier run's batches brought and the ledger replays."""

    submitted: int = 0
    attached: int = 0
    sent: int = 0
    replayed: int = 0
    tokens: list[int] = field(default_factory=lambda: [0, 0, 0, 0])


class Waves:
    """Gathers the calls of `traces` threads into one batch whenever all of them wait (see the module's doc)."""

    def __init__(self, poll_s: float = 30.0, on_state: Callable[[str], None] | None = None):
        self.poll_s, self.on_state = poll_s, on_state or (lambda text: None)
        self.changed = threading.Condition()
        self.pending: dict[str, _Call] = {}
        self.active = 0
        self.closing = threading.Event()
        self.local = threading.local()
        self.counts, self.sends = WaveCounts(), Counter()
        self.api: BatchAPI | None = None
        self.ledger: Ledger | None = None
        self.replies: dict[str, Answer] = {}
        self.open: dict[str, str] = {}
        self.order: dict[Hashable, int] = {}
        self.thread = threading.Thread(target=self._run, name="batch-waves", daemon=True)

    # -- the harvest's side --------------------------------------------------------------------------------------
    def start(self, ledger: Ledger, traces: list[Hashable]) -> None:
        """Begin with the traces to run (every one starts now) and what the ledger remembers. A batch lists its
        requests in the order of `traces` (a live harvest's order: which trace writes a shared prompt-cache prefix)."""
        self.ledger, self.active = ledger, len(traces)
        self.order = {trace: rank for rank, trace in enumerate(traces)}
        self.replies, self.open = ledger.batch_calls()
        self.thread.start()

    @contextmanager
    def trace(self, key: Hashable) -> Iterator[None]:
        """Run one trace in this thread: its LM calls are named after `key`; it leaves the waves when done."""
        self.local.trace, self.local.calls = key, 0
        try:
            yield
        finally:
            with self.changed:
                self.active -= 1
                self.changed.notify_all()

    def close(self) -> None:
        """Stop: calls waiting raise WavesClosed; the batch in flight stays with the provider (a rerun re-attaches)."""
        self.closing.set()
        with self.changed:
            for call in self.pending.values():
                call.answered.set()
            self.changed.notify_all()
        if self.thread.is_alive():
            self.thread.join()

    # -- the transport's side ------------------------------------------------------------------------------------
    def exchange(self, url: str, headers: list[tuple[str, str]], body: bytes) -> Answer:
        """Answer one live request of this thread's trace: from the ledger, or from the next wave's batch (blocks)."""
        trace = getattr(self.local, "trace", None)
        if trace is None:
            raise RuntimeError("a batch LM was called outside Waves.trace(): only a --batch harvest's traces use it")
        payload = json.loads(body)
        call = _Call(request_id(trace, self.local.calls, payload), trace, self.local.calls, payload, url, headers)
        self.local.calls += 1
        with self.changed:
            if self.closing.is_set():
                raise WavesClosed()
            self.local.replayed = call.rid in self.replies
            if self.local.replayed:
                self.counts.replayed += 1
                return self.replies[call.rid]
            self.pending[call.rid] = call
            self.changed.notify_all()
        call.answered.wait()
        if call.answer is None:
            raise WavesClosed()
        return call.answer

    def count_reply(self, tokens: tuple[int, int, int, int]) -> None:
        """Count the tokens of the reply to this thread's last call, unless the ledger replayed it (an earlier run
        paid for it)."""
        if getattr(self.local, "replayed", True):
            return
        with self.changed:
            self.counts.tokens = [have + more for have, more in zip(self.counts.tokens, tokens)]

    # -- the wave loop (its own thread) --------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self.changed:
                while not self.closing.is_set() and not (self.pending and len(self.pending) >= self.active):
                    self.changed.wait()
                if self.closing.is_set():
                    return
                calls = sorted(self.pending.values(), key=lambda c: (self.order.get(c.trace, 0), c.index))
            try:
                self._wave(calls)
            except Exception as error:  # noqa: BLE001 - the wave's traces fail with the cause; none waits forever
                logger.opt(exception=not isinstance(error, BatchAPIError)).error("batch failed: {}", error)
                self._answer({c.rid: _error(400, f"the batch failed: {error}") for c in calls})
            if self.closing.is_set():
                return

    def _wave(self, calls: list[_Call]) -> None:
        self.api = self.api or batch_api_for(calls[0].url, calls[0].headers)
        attached = sorted({self.open[c.rid] for c in calls if c.rid in self.open})
        if attached:  # an earlier run sent these requests: wait for its batch, pay nothing twice
            self.counts.attached += len(attached)
            for batch_id in attached:
                self.on_state(f"batch {batch_id} re-attached")
                self._collect(batch_id, ours=False)
            return
        self.on_state(f"submitting a batch of {len(calls)} request(s)")
        batch_id = self.api.submit([(c.rid, c.body) for c in calls])
        self.ledger.batch_submitted(batch_id, [(c.rid, c.trace) for c in calls])
        self.open.update((c.rid, batch_id) for c in calls)
        self.counts.submitted += 1
        self.counts.sent += len(calls)
        self.on_state(f"batch {batch_id} submitted ({len(calls)} requests)")
        self._collect(batch_id, ours=True)

    def _collect(self, batch_id: str, ours: bool) -> None:
        """Poll one batch (`ours`: this run submitted it) until it ends, keep its answers and wake the calls it
        answered for good; every request in it counts as one of its MAX_SENDS sends."""
        held = [rid for rid, owner in self.open.items() if owner == batch_id]
        self.sends.update(held)
        try:
            state = self._patiently(f"polling batch {batch_id}", lambda: self.api.status(batch_id))
            while state is not None and not state.ended:
                self.on_state(f"batch {batch_id} in progress: {state.done} of {state.total} done")
                if self.closing.wait(self.poll_s):
                    return
                state = self._patiently(f"polling batch {batch_id}", lambda: self.api.status(batch_id))
        except BatchAPIError as error:
            if error.status != 404:
                raise
            if ours:  # submitted moments ago and already unknown: sending it again would pay for a batch lost too
                self._settle(batch_id, held, {rid: _error(404, f"batch {batch_id}, submitted by this run, is unknown "
                                                               f"to the provider ({error})") for rid in held})
                return
            # an earlier run's batch the provider no longer knows (deleted, past its retention): sent again
            logger.warning("batch {} is unknown to the provider ({}): its requests are sent again", batch_id, error)
            self._settle(batch_id, held, {})
            return
        if state is None:
            return
        answers = self._patiently(f"downloading the results of batch {batch_id}", lambda: self.api.results(state))
        if answers is None:
            return
        self.on_state(f"batch {batch_id} ended: {len(answers)} of {len(held)} answered")
        self._settle(batch_id, held, answers)

    def _settle(self, batch_id: str, held: list[str], answers: dict[str, Answer]) -> None:
        """Keep the batch's 200 answers for reruns and wake the calls answered for good. A request the batch did not
        run (expired, cancelled, unknown) or answered with a transient error (429, 5xx, a line of OpenAI's error
        file) waits for the next wave, until it has been in MAX_SENDS batches: then that answer is its own."""
        kept = {rid: answers[rid] for rid in held if rid in answers and answers[rid].status == 200}
        self.ledger.batch_collected(kept, [rid for rid in held if rid not in kept])
        for rid in held:
            del self.open[rid]
        with self.changed:
            self.replies.update(kept)
        again = [rid for rid in held if rid not in answers or transient_status(answers[rid].status)]
        if again:
            logger.warning("batch {} did not run {} request(s) or answered them with a transient error: they go into "
                           "the next batch (at most {} in all)", batch_id, len(again), MAX_SENDS)
        given_up = {rid: answers.get(rid) or _error(504, f"batch {batch_id} did not run this request ({MAX_SENDS} "
                                                         "batches in all)")
                    for rid in again if self.sends[rid] >= MAX_SENDS}
        self._answer({**{rid: answers[rid] for rid in held if rid not in again}, **given_up})

    def _patiently(self, what: str, call: Callable[[], T]) -> T | None:
        """call(), its transient failures tried again poll_s apart (up to MAX_CALL_ERRORS in a row); None if the
        harvest stopped meanwhile."""
        for tries in range(1, MAX_CALL_ERRORS + 1):
            try:
                return call()
            except BatchAPIError as error:
                if not error.transient or tries == MAX_CALL_ERRORS:
                    raise
                logger.warning("{} failed ({}); trying again", what, error)
                if self.closing.wait(self.poll_s):
                    return None
        return None

    def _answer(self, answers: dict[str, Answer]) -> None:
        with self.changed:
            for rid, answer in answers.items():
                if (call := self.pending.pop(rid, None)) is not None:
                    call.answer = answer
                    call.answered.set()


def _error(status: int, message: str) -> Answer:
    """An error answer, as an OpenAI-compatible server words one (the live client raises it with this message)."""
    return Answer(status, json.dumps({"error": {"message": message, "type": "batch_error"}}).encode())
