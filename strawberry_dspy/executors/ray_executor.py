"""The Ray executor: units run on a pool of Ray actors spread over the cluster; results stream back to the driver.

Each worker actor handles one unit at a time (so `concurrency` is both the pool size and the units in flight)
and builds the workload once: the program from the shipped config and compiled state, the benchmark, and its
own LM. A remote OpenAI-compatible server is shared by every worker; an embedded engine (`local`, `hf:`
specs) runs once per node in an engine actor pinned there, with a slot per worker of that node, and the
node's workers reach it on loopback. A worker lost mid-unit is restarted by Ray and the driver runs the unit
again; the driver alone acts on results (the harvest stores them), so nothing is stored twice.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import signal
import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from loguru import logger

from strawberry_dspy.benchmarks import Benchmark
from strawberry_dspy.config import ProgramSettings
from strawberry_dspy.errors import UserError
from strawberry_dspy.executors.base import Executor, Outcome, Worker, Workload, node_label
from strawberry_dspy.extras import require_ray_extra
from strawberry_dspy.models import lm_for
from strawberry_dspy.models.resolve import is_embedded
from strawberry_dspy.program.build import build_program


@dataclass
class Shipped:
    """A workload as it travels to the workers: config, compiled state and benchmark (no live objects)."""

    config: ProgramSettings
    benchmark: Benchmark
    state: dict | None  # program.dump_state() of a compiled program; None: build it from the config
    cwd: str  # the driver's working directory (relative paths, .env), used where it exists

    def build(self, connection: tuple[str, str] | None) -> Worker:
        """The worker: the program rebuilt here, and an LM on the node's engine (connection) or the config's server."""
        if os.path.isdir(self.cwd):
            os.chdir(self.cwd)
        program = build_program(self.config)
        if self.state is not None:
            program.load_state(self.state)
        config = self.config
        if connection is not None:  # the node's embedded engine, an OpenAI-compatible server on loopback
            model, api_base = connection
            config = dataclasses.replace(config, model=model, api_base=api_base, api_key_env=None)
        return Worker(self.config, self.benchmark, program, lm_for(config))


RESTART_TIMEOUT_S = 300  # how long the driver waits for Ray to restart a lost worker


def check_reachable(address: str | None, timeout_s: float = 5.0) -> None:
    """A UserError at once, with its cause, when nothing answers at a HOST:PORT address (ray.init would retry for
    minutes), a ray://HOST:PORT client address too; "auto" and None are left to Ray."""
    if not address or address == "auto":
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or "://" in host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UserError(f"--ray-address must be auto or HOST:PORT (the head's GCS address), got {address!r}")
    try:
        socket.create_connection((host, int(port)), timeout=timeout_s).close()
    except OSError as error:
        raise UserError(f"cannot reach a Ray cluster at --ray-address {address!r} "
                        f"({type(error).__name__}: {error.strerror or error}); check the address (`ray status` on the "
                        "head prints it), or leave --ray-address out for a local instance") from None


def join_error(address: str | None, error: BaseException) -> UserError:
    """The one line for a failed ray.init: what was tried, the cause as Ray gave it (every line of it, joined), and
    the fix for that cause."""
    import ray

    reasons = []
    for cause in (error, error.__cause__ or error.__context__):
        if cause is not None:
            text = " ".join(str(getattr(cause, "message", None) or cause).split())
            if text and text not in reasons:
                reasons.append(f"{type(cause).__name__}: {text}"[:300])
    target = f"--ray-address {address!r}" if address else "a local Ray instance"
    if isinstance(error, ray.exceptions.AuthenticationError) or "token" in " ".join(reasons).lower():
        fix = ("the cluster asks for its authentication token: set RAY_AUTH_TOKEN (or RAY_AUTH_TOKEN_PATH) to the "
               "token the head was started with")
    else:
        fix = "start one with `ray start --head`, or leave --ray-address out for a local instance"
    return UserError(f"cannot join a Ray cluster at {target} ({'; caused by '.join(reasons) or type(error).__name__}): "
                     f"{fix}")


def _started_head() -> bool:
    """Whether ray.init started a new instance (its head node) rather than connecting to a running one."""
    import ray

    node = getattr(ray._private.worker, "_global_node", None)
    return bool(getattr(node, "head", False))


def joined_line(joined: str, address: str | None) -> str:
    """What Ray joined: the resolved address, the nodes by the labels the per-node rows use, and the CPUs."""
    import ray

    alive = [n for n in ray.nodes() if n.get("Alive")]
    labels = sorted(n.get("NodeManagerHostname") or n.get("NodeManagerAddress") or "?" for n in alive)
    asked = f" (--ray-address {address})" if address else ""
    return (f"ray: joined {joined} at {ray.get_runtime_context().gcs_address}{asked}: {len(alive)} node(s) "
            f"({', '.join(labels)}), {int(ray.cluster_resources().get('CPU', 0))} CPU(s)")


class WorkerActor:
    """A Ray actor running units of the current workload, one at a time."""

    def __init__(self):
        import ray

        self.node_id = ray.get_runtime_context().get_node_id()
        self.label = node_label()  # the same label the thread executor gives its host
        self.key: str | None = None
        self.worker: Worker | None = None

    def where(self) -> tuple[str, int]:
        """(node id, pid): where this worker runs."""
        return self.node_id, os.getpid()

    def run(self, fn: Callable[[Worker, Any], Any], shipped: list, connections: dict, unit: Any) -> tuple[Any, str]:
        """fn on one unit; the workload (a ref inside a list, so Ray does not fetch it every call) is built once."""
        import ray

        ref = shipped[0]
        if self.key != ref.hex():
            if is_embedded(ray.get(ref).config.model) and self.node_id not in connections:
                raise _NoEngine(f"no engine on node {self.label}")
            self.worker = ray.get(ref).build(connections.get(self.node_id))
            self.key = ref.hex()
        return fn(self.worker, unit), self.label


class EngineActor:
    """The embedded engine of one node (a llama.cpp server on its loopback), shared by that node's workers."""

    def __init__(self, config: ProgramSettings, slots: int):
        self.error: UserError | None = None  # a bad spec: raised by address(), where the driver sees it as is
        try:
            self.lm = lm_for(dataclasses.replace(config, slots=max(config.slots, slots), concurrency=1))
        except UserError as error:
            self.error = error
            return
        api_base = self.lm.kwargs.get("api_base")
        if not api_base:
            self.error = UserError(f"model {config.model!r} runs inside one process and cannot be shared by Ray "
                                   "workers; use --executor thread, or a spec served by llama.cpp")
        self.connection = (self.lm.model, api_base)

    def address(self) -> tuple[str, str]:
        """(model name, api_base) of the engine's OpenAI-compatible endpoint."""
        if self.error is not None:
            raise self.error
        return self.connection


def _user_error_in(error: BaseException) -> UserError | None:
    """The UserError a remote actor raised, found through Ray's wrappers (its `cause` chain), if any."""
    for _ in range(4):
        if isinstance(error, UserError):
            return error
        error = getattr(error, "cause", None)
        if error is None:
            return None
    return None


class _NoEngine(RuntimeError):
    """A worker restarted on a node without an engine yet: the driver starts one and runs the unit again."""


class RayExecutor(Executor):
    """A pool of Ray worker actors (grown to the largest concurrency asked for) and an engine actor per node."""

    kind = "ray"

    def __init__(self, address: str | None = None):
        require_ray_extra()
        import ray

        self.started = False
        joined = "this process's Ray instance"
        if not ray.is_initialized():
            check_reachable(address)
            try:  # address None: a local instance (or RAY_ADDRESS); "auto": the cluster `ray start` runs here
                with _terminal_ctrl_c_ignored():
                    ray.init(address=address, include_dashboard=False, log_to_driver=False,
                             logging_level=logging.ERROR)
            except Exception as error:  # connection, auth, version mismatch: each named with its cause
                raise join_error(address, error) from None
            self.started = True
            joined = "a new local Ray instance" if _started_head() else "the running Ray cluster"
        self.workers: list = []
        self.pids: list[int] = []  # of the workers as started (a restarted one has a new pid)
        self.engines: dict[tuple[str, str], tuple[Any, tuple[str, str]]] = {}  # (node, model spec) -> actor, address
        logger.info("{}", joined_line(joined, address))

    def open(self, workload: Workload, concurrency: int) -> _RaySession:
        import ray

        new = []
        while len(self.workers) + len(new) < concurrency:
            # one unit at a time per actor; no CPU reserved (a worker waits on its LM); SPREAD over the nodes
            new.append(ray.remote(WorkerActor).options(
                num_cpus=0, scheduling_strategy="SPREAD", max_restarts=-1, max_task_retries=0).remote())
        self.pids += [pid for _, pid in ray.get([w.where.remote() for w in new])]  # waits for them to start
        self.workers += new
        workers = self.workers[:concurrency]
        state = workload.program.dump_state() if workload.program is not None else None
        shipped = ray.put(Shipped(workload.config, workload.benchmark, state, os.getcwd()))
        return _RaySession(self, workload.config, workers, [shipped])

    def driver_lm(self, config: ProgramSettings) -> None:
        return None  # each worker connects its own (an engine per node, or the shared server)

    def connections(self, config: ProgramSettings, workers: list) -> dict[str, tuple[str, str]]:
        """The engine address of each node the workers run on (engines started where missing); {} for a server."""
        import ray
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        if not is_embedded(config.model):
            return {}
        nodes = [node for node, _ in ray.get([w.where.remote() for w in workers])]
        key = config.model  # workers set their own sampling settings: one engine per model and node
        started = {}
        for node in set(nodes):
            if (node, key) not in self.engines:
                actor = ray.remote(EngineActor).options(
                    num_cpus=0, scheduling_strategy=NodeAffinitySchedulingStrategy(node, soft=False),
                ).remote(config, nodes.count(node))
                started[node] = actor
        for node, actor in started.items():
            try:
                self.engines[(node, key)] = (actor, ray.get(actor.address.remote()))
            except ray.exceptions.RayError as error:  # the engine did not start: a bad spec is the user's error
                raise _user_error_in(error) or error
        return {node: address for (node, k), (_, address) in self.engines.items() if k == key}

    def close(self) -> None:
        """Kill the pool and the engines; shut Ray down if this executor started it."""
        import ray

        for actor in [*self.workers, *(a for a, _ in self.engines.values())]:
            ray.kill(actor, no_restart=True)
        self.workers, self.pids, self.engines = [], [], {}
        if self.started:
            ray.shutdown()
            self.started = False


@contextmanager
def _terminal_ctrl_c_ignored() -> Iterator[None]:
    """Start Ray's processes with SIGINT blocked (they inherit the mask): a terminal's Ctrl-C reaches the whole
    process group, and only the driver should act on it (drain, then stop the workers). A Ctrl-C meanwhile is
    delivered to the driver when the block ends."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class _RaySession:
    """One workload on the pool: each worker runs one unit and has at most one more queued behind it, so it starts
    the next unit without waiting for the driver's round trip (the driver still bounds and sees every unit)."""

    def __init__(self, executor: RayExecutor, config: ProgramSettings, workers: list, shipped: list):
        self.executor, self.config, self.shipped = executor, config, shipped
        self.queued = len(workers)
        self.load = {id(w): 0 for w in workers}  # units submitted to each worker and not yet back
        self.workers, self.busy = list(workers), {}
        self.connections = executor.connections(config, workers)

    def submit(self, fn: Callable[[Worker, Any], Any], unit: Any) -> Any:
        actor = min(self.workers, key=lambda w: self.load[id(w)])  # an idle worker first, else one running a unit
        self.load[id(actor)] += 1
        ref = actor.run.remote(fn, self.shipped, self.connections, unit)
        self.busy[ref] = actor
        return ref

    def wait(self, handles: list, timeout: float) -> list[tuple[Any, Outcome]]:
        import ray

        ready, _ = ray.wait(handles, num_returns=1, timeout=timeout)
        if ready and len(handles) > 1:
            ready, _ = ray.wait(handles, num_returns=len(handles), timeout=0)
        done, lost = [], []
        for ref in ready:
            actor = self.busy.pop(ref)
            self.load[id(actor)] -= 1
            try:
                result, node = ray.get(ref)
                done.append((ref, Outcome(result, node)))
            except ray.exceptions.RayActorError as error:  # the worker process or its node died
                done.append((ref, Outcome(lost=str(error).splitlines()[0][:200])))
                lost.append(actor)
            except ray.exceptions.RayTaskError as error:
                if not isinstance(error.cause, _NoEngine):
                    raise _user_error_in(error) or error.cause or error
                done.append((ref, Outcome(lost=str(error.cause))))
                lost.append(actor)
        if lost:
            self._await_restart(lost)
        return done

    def _await_restart(self, actors: list) -> None:
        """Wait until Ray has restarted the lost workers (units sent meanwhile would fail at once), then make sure
        their nodes have engines."""
        import ray

        deadline = time.monotonic() + RESTART_TIMEOUT_S
        for actor in {id(a): a for a in actors}.values():
            while True:
                try:
                    ray.get(actor.where.remote(), timeout=max(1.0, deadline - time.monotonic()))
                    break
                except ray.exceptions.ActorUnavailableError:  # restarting
                    time.sleep(0.2)
                except (ray.exceptions.GetTimeoutError, ray.exceptions.RayActorError):
                    if time.monotonic() > deadline:
                        raise UserError(f"a lost Ray worker did not come back within {RESTART_TIMEOUT_S} s; check the "
                                        "cluster (ray status) and rerun the same command to resume") from None
                    time.sleep(0.2)
        self.connections = self.executor.connections(self.config, self.workers)

    def cancel(self) -> None:
        import ray

        for ref in self.busy:
            ray.cancel(ref)

    def close(self) -> None:
        pass
