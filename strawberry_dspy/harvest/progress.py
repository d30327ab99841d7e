"""Following a harvest: its progress bar (done / total, traces/s, ETA; tokens/s, pass rate, failures, the rate-limit
status, 429s and retries, nodes at work, a --batch harvest's batch in flight) and the same figures as a record the
store keeps for the live UI."""

from __future__ import annotations

import threading
import time
from typing import Callable

from loguru import logger
from tqdm import tqdm

from strawberry_dspy.harvest.following import RUNNING
from strawberry_dspy.models.rate_limit import throttle_note
from strawberry_dspy.models.retry import PROVIDER_EVENTS


class HarvestProgress:
    """A tqdm bar fed from the worker threads; also the running counts of this run."""

    def __init__(self, total: int, correct: int = 0, valid: int = 0, enabled: bool = True, planned: int = 0,
                 on_tick: Callable[[dict], None] | None = None, tick_s: float = 1.0, events_since: tuple | None = None):
        self.bar = tqdm(total=total, unit="trace", desc="harvest", dynamic_ncols=True, disable=not enabled)
        self.total, self.planned = total, planned  # this run's units; every unit of the harvest (stored ones too)
        self.start = time.perf_counter()
        self.started_at = time.time()
        self.lock = threading.Lock()
        self.correct, self.valid = correct, valid  # over the whole store: the pass rate shown is the harvest's
        self.new = self.failed = self.skipped = self.completion_tokens = 0
        self.nodes: set[str] = set()  # where the stored traces were sampled (one host with threads)
        self.batch = ""  # a --batch harvest's batch in flight: submitted, in progress (n of m done), ended
        # the provider's 429s and retries from here (or from `events_since`: a trace sampled before the bar)
        self._events_at_start = events_since or PROVIDER_EVENTS.snapshot()
        # every tick_s: the postfix redrawn (a rate limit holds no trace back from showing) and on_tick(record)
        self.on_tick, self.tick_s, self._closed = on_tick, tick_s, threading.Event()
        self._ticker = threading.Thread(target=self._tick, name="harvest-progress", daemon=True)
        self._ticker.start()

    def _tick(self) -> None:
        while not self._closed.wait(self.tick_s):
            with self.lock:
                self.bar.set_postfix_str(self.status(), refresh=True)
            if self.on_tick is not None:
                try:
                    self.on_tick(self.record())
                except Exception as exc:  # following is best effort: a busy store must not end the harvest
                    logger.debug("progress record not written: {}", exc)

    def trace_done(self, correct: bool, failed: bool, completion_tokens: int, node: str = "") -> None:
        """Count one stored trace (sampled on `node`) and refresh the bar."""
        with self.lock:
            self.nodes.add(node)
            self.new += 1
            self.failed += failed
            self.valid += not failed
            self.correct += correct
            self.completion_tokens += completion_tokens
            self._refresh()

    def batch_note(self, text: str) -> None:
        """Show the state of the batch in flight (a --batch harvest's waves report it)."""
        with self.lock:
            self.batch = text
            self.bar.set_postfix_str(self.status(), refresh=True)

    def skipped_one(self) -> None:
        """Count one sample not taken (its problem was stopped early)."""
        with self.lock:
            self.skipped += 1
            self._refresh()

    @property
    def elapsed_s(self) -> float:
        return time.perf_counter() - self.start

    @property
    def tokens_per_s(self) -> float:
        """Generated tokens per second since the bar started."""
        elapsed = self.elapsed_s
        return self.completion_tokens / elapsed if elapsed > 0 else 0.0

    @property
    def events(self) -> tuple[int, int]:
        """(429s, retries) of the providers since this run started (this process's calls)."""
        now, then = PROVIDER_EVENTS.snapshot(), self._events_at_start
        return now[0] - then[0], now[1] - then[1]

    def status(self) -> str:
        """The postfix: tokens/s, pass rate, failures, the rate-limit status, 429s and retries, nodes."""
        rate = f"{self.correct / self.valid:.0%}" if self.valid else "-"
        parts = [f"{self.tokens_per_s:.0f} tok/s", f"pass {rate}"]
        parts += [f"failed {self.failed}"] if self.failed else []
        parts += [f"stopped early {self.skipped}"] if self.skipped else []
        if throttled := throttle_note():  # the LM layer's rate gate is holding calls back: one status
            parts.append(throttled)
        refused, retries = self.events
        parts += [f"{refused} x 429"] if refused else []
        parts += [f"{retries} retries"] if retries else []
        parts += [f"{len(self.nodes)} nodes"] if len(self.nodes) > 1 else []
        parts += [self.batch] if self.batch else []
        return ", ".join(parts)

    def record(self, state: str = RUNNING) -> dict:
        """What the live UI shows of this run (kept in the store's meta): state, done / total, rate, failures."""
        refused, retries = self.events
        with self.lock:
            return {"state": state, "done": self.new + self.skipped, "total": self.total, "planned": self.planned,
                    "stored": self.new, "failed": self.failed, "stopped_early": self.skipped,
                    "rate_limited": refused, "retries": retries, "throttle": throttle_note(), "batch": self.batch,
                    "elapsed_s": round(self.elapsed_s, 3), "started_at": self.started_at, "updated_at": time.time()}

    def _refresh(self) -> None:
        self.bar.set_postfix_str(self.status(), refresh=False)
        self.bar.update()

    def close(self) -> None:
        """Stop the ticker and close the bar."""
        self._closed.set()
        self._ticker.join()
        self.bar.close()

