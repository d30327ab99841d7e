"""DSPy's ParallelExecutor with a bounded submission window, so its bookkeeping no longer grows with the work list.

`ParallelExecutor._execute_parallel` (DSPy 3.4) submits every item at once and, on each completion, calls
`concurrent.futures.wait` over all pending futures (which installs and removes a waiter on each of them) and scans
the whole result list twice: O(items) work per finished item, quadratic over a harvest. With 6,400 items of 50 ms
on 64 threads that is 2.8 s of CPU in 5.9 s of wall time, held under the GIL the sampling threads need; a harvest
of 100k (problem, sample) pairs would spend most of its CPU there. Here at most two tasks per thread are submitted
at a time and each completion costs O(threads). Everything else is ParallelExecutor's own: the per-task DSPy
settings (thread-local overrides) and callback ancestry, error counting, cancellation, Ctrl-C, and results in input
order. Worth upstreaming.
"""

from __future__ import annotations

import copy
import logging
import signal
import threading
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any, Callable

import tqdm
from dspy.dsp.utils.settings import thread_local_overrides
from dspy.utils.parallelizer import ParallelExecutor

logger = logging.getLogger(__name__)
WINDOW_PER_THREAD = 2  # submitted tasks per thread: a thread that finishes always finds the next one queued


class WindowedExecutor(ParallelExecutor):
    """`ParallelExecutor` whose parallel path keeps at most `WINDOW_PER_THREAD * num_threads` tasks submitted."""

    def _execute_parallel(self, function: Callable[[Any], Any], data: list) -> list:
        results: list = [None] * len(data)
        parent_overrides = thread_local_overrides.get().copy()

        def worker(index: int, item: Any) -> tuple[int, Any]:
            # as ParallelExecutor's worker: the caller's DSPy settings, task-local changes isolated
            overrides = {**thread_local_overrides.get(), **parent_overrides}
            if overrides.get("usage_tracker"):
                overrides["usage_tracker"] = copy.deepcopy(overrides["usage_tracker"])
            token = thread_local_overrides.set(overrides)
            try:
                return index, function(item)
            finally:
                thread_local_overrides.reset(token)

        items = iter(enumerate(data))
        pending: set[Future] = set()
        pool = ThreadPoolExecutor(max_workers=self.num_threads)
        bar = tqdm.tqdm(total=len(data), dynamic_ncols=True, disable=self.disable_progress_bar)
        try:
            with _cancel_on_sigint(self.cancel_jobs):
                while not self.cancel_jobs.is_set():
                    while len(pending) < WINDOW_PER_THREAD * self.num_threads:
                        nxt = next(items, None)
                        if nxt is None:
                            break
                        pending.add(pool.submit(worker, *nxt))
                    if not pending:
                        break
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        index, outcome = future.result()  # the wrapped function returns errors, never raises
                        self._process_outcome(results, index, outcome)
                        bar.update()
        finally:
            bar.close()
            pool.shutdown(wait=False)  # as ParallelExecutor: tasks still running finish on their own
        if self.cancel_jobs.is_set():
            logger.warning("Execution cancelled due to errors or interruption.")
            raise Exception("Execution cancelled due to errors or interruption.")
        return results


class _cancel_on_sigint:
    """In the main thread, Ctrl-C also cancels the tasks not yet started (then raises as before)."""

    def __init__(self, cancel: threading.Event):
        self.cancel, self.previous, self.installed = cancel, None, False

    def __enter__(self) -> None:
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.getsignal(signal.SIGINT)
            signal.signal(signal.SIGINT, self._handler)
            self.installed = True

    def __exit__(self, *exc) -> None:
        if self.installed:
            signal.signal(signal.SIGINT, self.previous if self.previous is not None else signal.default_int_handler)

    def _handler(self, sig, frame) -> None:
        self.cancel.set()
        logger.warning("SIGINT received. Cancelling.")
        if callable(self.previous):
            self.previous(sig, frame)
        else:
            signal.default_int_handler(sig, frame)
