"""The harvest's progress bar: traces/s, generated tokens/s, running pass rate, failures, rate-limit throttling and nodes at work."""

from __future__ import annotations

import threading
import time

from tqdm import tqdm

from strawberry_dspy.models.rate_limit import throttle_note


class HarvestProgress:
    """A tqdm bar fed from the worker threads; also the running counts of this run."""

    def __init__(self, total: int, correct: int = 0, valid: int = 0, enabled: bool = True):
        self.bar = tqdm(total=total, unit="trace", desc="harvest", dynamic_ncols=True, disable=not enabled)
        self.start = time.perf_counter()
        self.lock = threading.Lock()
        self.correct, self.valid = correct, valid  # over the whole store: the pass rate shown is the harvest's
        self.new = self.failed = self.skipped = self.completion_tokens = 0
        self.nodes: set[str] = set()  # where the stored traces were sampled (one host with threads)

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

    def skipped_one(self) -> None:
        """Count one sample not taken (its problem was stopped early)."""
        with self.lock:
            self.skipped += 1
            self._refresh()

    @property
    def tokens_per_s(self) -> float:
        """Generated tokens per second since the bar started."""
        elapsed = time.perf_counter() - self.start
        return self.completion_tokens / elapsed if elapsed > 0 else 0.0

    def _refresh(self) -> None:
        rate = f"{self.correct / self.valid:.0%}" if self.valid else "-"
        extra = (f", failed {self.failed}" if self.failed else "") + (f", stopped early {self.skipped}" if self.skipped else "")
        if throttled := throttle_note():  # the LM layer's rate gate is holding calls back
            extra += f", {throttled}"
        extra += f", {len(self.nodes)} nodes" if len(self.nodes) > 1 else ""
        self.bar.set_postfix_str(f"{self.tokens_per_s:.0f} tok/s, pass {rate}{extra}", refresh=False)
        self.bar.update()

    def close(self) -> None:
        """Close the bar."""
        self.bar.close()
