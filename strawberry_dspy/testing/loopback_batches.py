"""The batches a loopback server holds (`LoopbackOpenAI`'s `/v1/batches`, `LoopbackAnthropic`'s `/v1/messages/batches`).

A batch is answered by the server's own live reply function, request by request in the batch's order, when it ends.
It ends at its `polls + 1`-th status poll, never on a clock, unless `hold(after=n)` keeps every batch after the
n-th running until `release()`. `submitted` counts the batches created; `wait_polled(n)` waits (on an event, not a sleep) until the
n-th batch has been polled once, i.e. its submitter has recorded it and is waiting for it. `refuse(call, *statuses)`
answers the next polls ("poll") or result downloads ("results") with those HTTP statuses instead, one each.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Callable


@dataclass
class Batch:
    """One batch: its requests (custom id, live body), how often it was polled, and its answers once ended."""

    id: str
    number: int
    requests: list[tuple[str, dict]]
    polls: int = 0
    answers: list[tuple[str, int, dict]] | None = None  # (custom id, HTTP status, body), once ended
    extra: dict = field(default_factory=dict)  # what the wire format keeps beside it (file ids, ...)

    @property
    def ended(self) -> bool:
        return self.answers is not None


class BatchQueue:
    """Every batch a server was sent; `answer(body) -> (status, body)` is the server's live reply."""

    def __init__(self, answer: Callable[[dict], tuple[int, dict]], prefix: str, polls: int = 0):
        self.answer, self.prefix, self.polls = answer, prefix, polls
        self.batches: dict[str, Batch] = {}
        self.changed = threading.Condition()
        self.held_after: int | None = None  # batches numbered above it stay in progress (None: none is held)
        self.refusals: dict[str, deque[int]] = {"poll": deque(), "results": deque()}
        self.refused: list[tuple[str, int]] = []  # (call, status) of each refusal served

    @property
    def submitted(self) -> int:
        """How many batches were created."""
        with self.changed:
            return len(self.batches)

    def create(self, requests: list[tuple[str, dict]], **extra) -> Batch:
        with self.changed:
            number = len(self.batches) + 1
            batch = Batch(f"{self.prefix}{number:04d}", number, requests, extra=extra)
            self.batches[batch.id] = batch
            self.changed.notify_all()
            return batch

    def poll(self, batch_id: str) -> Batch | None:
        """The batch after one more status poll (ended at its polls + 1-th, unless held); None if unknown."""
        with self.changed:
            batch = self.batches.get(batch_id)
            if batch is None:
                return None
            batch.polls += 1
            self.changed.notify_all()
            held = self.held_after is not None and batch.number > self.held_after
            if batch.answers is None and batch.polls > self.polls and not held:
                batch.answers = []
                for custom_id, body in batch.requests:
                    status, reply = self.answer(body)
                    batch.answers.append((custom_id, status, reply))
            return batch

    def get(self, batch_id: str) -> Batch | None:
        with self.changed:
            return self.batches.get(batch_id)

    def newest(self, limit: int) -> list[Batch]:
        """The `limit` batches created last, the newest first (a list call: nothing is polled)."""
        with self.changed:
            return list(self.batches.values())[::-1][:limit]

    def refuse(self, call: str, *statuses: int) -> None:
        """Answer the next `call`s ("poll": a status poll, "results": a results download) with these statuses."""
        with self.changed:
            self.refusals[call].extend(statuses)

    def refusal(self, call: str) -> int | None:
        """The status to answer this `call` with instead of its reply (recorded in `refused`), or None."""
        with self.changed:
            if not self.refusals[call]:
                return None
            status = self.refusals[call].popleft()
            self.refused.append((call, status))
            return status

    def hold(self, after: int = 0) -> None:
        """Keep every batch numbered above `after` running (in progress) until release()."""
        with self.changed:
            self.held_after = after

    def release(self) -> None:
        with self.changed:
            self.held_after = None

    def wait_polled(self, number: int, timeout: float = 120.0) -> bool:
        """Wait until the `number`-th batch has been polled at least once; False if it was not within `timeout`."""
        def polled() -> bool:
            return any(b.number == number and b.polls for b in self.batches.values())

        with self.changed:
            return self.changed.wait_for(polled, timeout)
