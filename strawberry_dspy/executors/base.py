"""The work an executor runs and the one dispatch loop every executor shares.

A *workload* is what each worker builds once: the program (its resolved config and compiled state), its
LM and the benchmark that scores it. A *unit* (a problem, or a (problem, sample) pair) is run by a
module-level function `fn(worker, unit)` anywhere; its result comes back to the driver, which alone
acts on it (the harvest stores it). The loop keeps at most `concurrency` units running (a session may queue
one more per worker, `Session.queued`, so a worker never waits for the driver between units), pulls the next
unit only when a slot frees (so a harvest decides early stopping with the results so far), runs a unit
again when its worker died, and on Ctrl-C stops starting units and drains those in flight (a second
Ctrl-C drops them).
"""

from __future__ import annotations

import socket
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Protocol

import dspy
from loguru import logger

from strawberry_dspy.attempt import Attempt, attempt
from strawberry_dspy.benchmarks import Benchmark, Problem
from strawberry_dspy.config import ProgramSettings
from strawberry_dspy.errors import UserError

MAX_ATTEMPTS = 3  # a unit whose worker died this many times stops the run (it may be what kills them)
WAIT_S = 0.5  # how long one wait blocks: Ctrl-C and stop requests are seen at least this often


@dataclass
class Workload:
    """What every worker builds once: the program from its config (and compiled state), its LM, the benchmark.

    `program` and `lm` are used as they are by the thread executor; Ray workers rebuild the program from
    `config` plus the program's saved state and connect their own LM (`lm_for`), since neither object
    can leave the process (a DSPy module holds locks; the embedded engine listens on this host's loopback).
    """

    config: ProgramSettings
    benchmark: Benchmark
    program: dspy.Module | None = None
    lm: dspy.BaseLM | None = None


@dataclass
class Worker:
    """A workload built in a worker: the program and LM a unit runs with, and the benchmark that scores it."""

    config: ProgramSettings
    benchmark: Benchmark
    program: dspy.Module
    lm: dspy.BaseLM

    def attempt(self, problem: Problem, seed: int) -> Attempt:
        """The program's answer to one problem with one seed, through the one seam (`attempt.attempt`), scored."""
        return attempt(self.program, problem.question, seed, self.lm, self.config.max_reply_chars,
                       lambda answer: self.benchmark.score(problem, answer))


@dataclass
class Outcome:
    """What came back for one unit: its result and the node that ran it, or the loss of its worker."""

    result: Any = None
    node: str = ""
    lost: str | None = None  # why the worker is gone (the unit runs again)


class Session(Protocol):
    """One executor's workers, ready for one workload."""

    queued: int  # units a session accepts beyond `concurrency` (queued at a worker behind the one it runs)

    def submit(self, fn: Callable[[Worker, Any], Any], unit: Any) -> Any:
        """Start one unit on a free worker; a handle for `wait`."""

    def wait(self, handles: list[Any], timeout: float) -> list[tuple[Any, Outcome]]:
        """The handles that finished within `timeout` seconds, with their outcomes."""

    def cancel(self) -> None:
        """Drop the units in flight."""

    def close(self) -> None:
        """Done with this workload: free the workers for the next one."""


def node_label() -> str:
    """How a node is named in the per-node rows and in Ray's start line: its host name (as Ray's node table has it),
    the same for the thread executor's one host and for each Ray node."""
    return socket.gethostname()


def per_node_line(rates: dict[str, float]) -> str:
    """'vm 1.20 traces/s, gpu-2 3.41 traces/s': the per-node row of the run and harvest tables."""
    return ", ".join(f"{node} {rate:.2f} traces/s" for node, rate in sorted(rates.items()))


@dataclass
class RunStats:
    """What one dispatch did: results per node, units run again after a lost worker, whether Ctrl-C cut it short."""

    per_node: Counter = field(default_factory=Counter)
    lost: int = 0
    interrupted: bool = False
    wall_s: float = 0.0

    def node_rates(self) -> dict[str, float]:
        """Results per second of each node over the run's wall time."""
        return {node: n / self.wall_s for node, n in self.per_node.items()} if self.wall_s else {}


class Executor:
    """Runs units of a workload on workers and streams their results to the driver (base of thread and ray)."""

    kind = "base"

    def open(self, workload: Workload, concurrency: int) -> Session:  # pragma: no cover - abstract
        """Workers for `workload`, at least `concurrency` of them."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the workers (a no-op for threads)."""

    def driver_lm(self, config: ProgramSettings) -> dspy.BaseLM | None:
        """The LM to build in this process before any work (a bad spec fails first), or None where workers build theirs."""
        from strawberry_dspy.models import lm_for

        return lm_for(config)

    def run(self, workload: Workload, fn: Callable[[Worker, Any], Any], units: Iterable[Any],
            on_result: Callable[[Any, Any, str], None], concurrency: int, drain: bool = True) -> RunStats:
        """Run fn on every unit with at most `concurrency` in flight; call on_result(unit, result, node) here.

        `units` is pulled lazily, one unit per freed slot. With drain, the first Ctrl-C stops pulling and waits for
        the units in flight (their results still reach on_result); otherwise, or at a second Ctrl-C, the units in
        flight are dropped and KeyboardInterrupt propagates.
        """
        stats, start = RunStats(), time.perf_counter()
        session = self.open(workload, concurrency)
        try:
            _dispatch(session, fn, iter(units), on_result, concurrency + session.queued, drain, stats)
        finally:
            session.close()
        stats.wall_s = time.perf_counter() - start
        return stats


def _dispatch(session: Session, fn: Callable[[Worker, Any], Any], pending: Any, on_result: Callable[[Any, Any, str], None],
              bound: int, drain: bool, stats: RunStats) -> None:
    again: deque = deque()  # units whose worker died: they run first, before any new one
    attempts: Counter = Counter()
    in_flight: dict[Any, Any] = {}
    stopping = False
    while True:
        try:
            while not stopping and len(in_flight) < bound:
                unit = again.popleft() if again else next(pending, _END)
                if unit is _END:
                    break
                in_flight[session.submit(fn, unit)] = unit
            if not in_flight:
                return
            for handle, outcome in session.wait(list(in_flight), WAIT_S):
                unit = in_flight.pop(handle)
                if outcome.lost is None:
                    stats.per_node[outcome.node] += 1
                    on_result(unit, outcome.result, outcome.node)
                    continue
                stats.lost += 1
                attempts[id(unit)] += 1
                if attempts[id(unit)] >= MAX_ATTEMPTS:
                    session.cancel()
                    raise UserError(f"workers died {MAX_ATTEMPTS} times running one unit ({_describe(unit)}); "
                                    f"last: {outcome.lost}; check the workers' logs (ray logs, dmesg for OOM)")
                logger.warning("a worker was lost running {} ({}); running it again", _describe(unit), outcome.lost)
                again.append(unit)
        except KeyboardInterrupt:
            if stopping or not drain:
                session.cancel()
                raise
            stopping = stats.interrupted = True
            if in_flight:
                logger.warning("stopping: finishing {} unit(s) in flight (Ctrl-C again to drop them)", len(in_flight))


_END = object()


def _describe(unit: Any) -> str:
    """A unit as a short text for messages: its problem id and sample index when it has them."""
    parts = unit if isinstance(unit, tuple) else (unit,)
    return " sample ".join(str(getattr(p, "id", p)) for p in parts)[:120]
