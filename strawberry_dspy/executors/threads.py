"""The thread executor (the default): units run on a thread pool of this process, sharing one program and LM."""

from __future__ import annotations

from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any, Callable

from dspy.dsp.utils.settings import thread_local_overrides

from strawberry_dspy.executors.base import Executor, Outcome, Session, Worker, Workload, node_label
from strawberry_dspy.models import lm_for
from strawberry_dspy.program.build import build_program


class ThreadExecutor(Executor):
    """C threads in this process; the program and LM are the caller's (or built once from the config)."""

    kind = "thread"

    def open(self, workload: Workload, concurrency: int) -> Session:
        worker = Worker(workload.config, workload.benchmark, workload.program or build_program(workload.config),
                        workload.lm or lm_for(workload.config))
        return _ThreadSession(worker, concurrency)


class _ThreadSession:
    queued = 0  # a thread pool queues nothing: the next unit starts when the driver submits it

    def __init__(self, worker: Worker, concurrency: int):
        self.worker, self.node = worker, node_label()
        self.pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="strawberry")
        # the caller's DSPy settings (callbacks, a test's LM) reach the threads, as in DSPy's own ParallelExecutor
        self.overrides = thread_local_overrides.get().copy()

    def submit(self, fn: Callable[[Worker, Any], Any], unit: Any) -> Future:
        return self.pool.submit(self._call, fn, unit)

    def _call(self, fn: Callable[[Worker, Any], Any], unit: Any) -> Any:
        token = thread_local_overrides.set({**thread_local_overrides.get(), **self.overrides})
        try:
            return fn(self.worker, unit)
        finally:
            thread_local_overrides.reset(token)

    def wait(self, handles: list[Future], timeout: float) -> list[tuple[Future, Outcome]]:
        done, _ = wait(handles, timeout=timeout, return_when=FIRST_COMPLETED)
        return [(f, Outcome(f.result(), self.node)) for f in done]  # fn's own exception propagates

    def close(self) -> None:
        self.pool.shutdown(wait=False)

    def cancel(self) -> None:
        # threads cannot be stopped: the units in flight finish unseen (the CLI exits without waiting for them)
        self.pool.shutdown(wait=False, cancel_futures=True)

