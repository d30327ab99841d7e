"""Where units of work run: threads of this process (default) or a Ray cluster (`--executor ray`).

harvest and `evaluate.run_program` (run, compile, bootstrap) run their units through `current_executor()`;
a command picks it once with `use_executor(kind, ray_address)` around its work.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from strawberry_dspy.errors import UserError
from strawberry_dspy.executors.base import Executor, RunStats, Worker, Workload
from strawberry_dspy.executors.threads import ThreadExecutor

EXECUTORS = ("thread", "ray")
_current: list[Executor] = [ThreadExecutor()]


def make_executor(kind: str = "thread", ray_address: str | None = None) -> Executor:
    """A thread executor, or a Ray executor on a local instance (address None), `auto` or a cluster address."""
    if kind not in EXECUTORS:
        raise UserError(f"unknown executor {kind!r}: expected one of {', '.join(EXECUTORS)}; e.g. --executor ray")
    if kind == "thread":
        if ray_address:
            raise UserError(f"--ray-address {ray_address!r} needs --executor ray")
        return ThreadExecutor()
    from strawberry_dspy.executors.ray_executor import RayExecutor

    return RayExecutor(ray_address)


def current_executor() -> Executor:
    """The executor units run on now (threads unless a `use_executor` block chose another)."""
    return _current[-1]


@contextmanager
def use_executor(kind: str = "thread", ray_address: str | None = None) -> Iterator[Executor]:
    """Run the block's harvests and evaluations on this executor; its workers are released at the end."""
    executor = make_executor(kind, ray_address)
    _current.append(executor)
    try:
        yield executor
    finally:
        _current.pop()
        executor.close()


__all__ = ["EXECUTORS", "Executor", "RunStats", "Worker", "Workload", "current_executor", "make_executor",
           "use_executor"]
