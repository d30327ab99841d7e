"""Waves: the LM calls of many traces gathered into one provider batch per turn (`strawberry harvest --batch`).

Every trace runs in its own thread as in a live harvest; its LM's transport (`batch_lm.py`) hands each request to
`Waves.exchange`, which blocks it. When every trace still running is blocked (or done), the requests waiting form a
wave: one batch is submitted, polled every `poll_s` seconds, and its answers wake their traces, which take their
next turn. A request is named by its trace, its call number in the trace and its body (`request_id`), so a rerun of
the same harvest asks the same requests: what an earlier run's batches answered is replayed from the ledger (the
harvest's store), and a wave whose requests an earlier run already submitted re-attaches to that batch instead of
paying for it twice.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Hashable, Iterator, Protocol

from loguru import logger

from strawberry_dspy.models.batch_api import Answer, BatchAPI, BatchAPIError, BatchState, batch_api_for

MAX_SENDS = 3  # a request a batch expired or cancelled this many times is answered with an error
MAX_POLL_ERRORS = 5  # transient failures in a row while polling one batch before its wave fails


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
    """What the waves did: batches submitted and re-attached to, requests sent and answered from the ledger."""

    submitted: int = 0
    attached: int = 0
    sent: int = 0
    replayed: int = 0


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
            if (kept := self.replies.get(call.rid)) is not None:
                self.counts.replayed += 1
                return kept
            self.pending[call.rid] = call
            self.changed.notify_all()
        call.answered.wait()
        if call.answer is None:
            raise WavesClosed()
        return call.answer

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
                self._collect(batch_id)
            return
        self.on_state(f"submitting a batch of {len(calls)} request(s)")
        batch_id = self.api.submit([(c.rid, c.body) for c in calls])
        self.ledger.batch_submitted(batch_id, [(c.rid, c.trace) for c in calls])
        self.open.update((c.rid, batch_id) for c in calls)
        self.sends.update(c.rid for c in calls)
        self.counts.submitted += 1
        self.counts.sent += len(calls)
        self.on_state(f"batch {batch_id} submitted ({len(calls)} requests)")
        self._collect(batch_id)

    def _collect(self, batch_id: str) -> None:
        """Poll one batch until it ends, keep its answers and wake the calls it answers."""
        held = [rid for rid, owner in self.open.items() if owner == batch_id]
        try:
            state = self._poll(batch_id)
            while state is not None and not state.ended:
                self.on_state(f"batch {batch_id} in progress: {state.done} of {state.total} done")
                if self.closing.wait(self.poll_s):
                    return
                state = self._poll(batch_id)
        except BatchAPIError as error:
            if error.status != 404:
                raise
            # a batch the provider no longer knows (deleted, past its retention): its requests go into a new one
            logger.warning("batch {} is unknown to the provider ({}): its requests are sent again", batch_id, error)
            self.ledger.batch_collected({}, held)
            for rid in held:
                del self.open[rid]
            return
        if state is None:
            return
        answers = self.api.results(state)
        kept = {rid: answers[rid] for rid in held if rid in answers and answers[rid].status == 200}
        self.ledger.batch_collected(kept, [rid for rid in held if rid not in kept])
        for rid in held:
            del self.open[rid]
        with self.changed:
            self.replies.update(kept)
        lost = [rid for rid in held if rid not in answers]
        if lost:
            logger.warning("batch {} ended ({}) without answering {} request(s): they go into the next batch",
                           batch_id, state.body.get("status") or state.body.get("processing_status"), len(lost))
        given_up = {rid: _error(504, f"batch {batch_id} did not run this request ({MAX_SENDS} tries)")
                    for rid in lost if self.sends[rid] >= MAX_SENDS}
        self.on_state(f"batch {batch_id} ended: {len(answers)} of {len(held)} answered")
        self._answer({**{rid: a for rid, a in answers.items() if rid in held}, **given_up})

    def _poll(self, batch_id: str) -> BatchState | None:
        """The batch's state; transient failures are polled through (up to MAX_POLL_ERRORS in a row)."""
        for tries in range(1, MAX_POLL_ERRORS + 1):
            try:
                return self.api.status(batch_id)
            except BatchAPIError as error:
                if not error.transient or tries == MAX_POLL_ERRORS:
                    raise
                logger.warning("polling batch {} failed ({}); polling again", batch_id, error)
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
