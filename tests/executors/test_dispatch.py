"""The dispatch loop every executor shares (a scripted session), the thread executor, and the [ray] extra check."""

import importlib.util
import socket

import pytest

from strawberry_dspy.cli import main
from strawberry_dspy.errors import UserError
from strawberry_dspy.executors import make_executor
from strawberry_dspy.executors.base import MAX_ATTEMPTS, Executor, Outcome, Workload


class ScriptedSession:
    """Finishes the oldest unit in flight each wait; `lose` lists units whose worker dies (once per listing)."""

    queued = 0

    def __init__(self, lose=()):
        self.lose, self.in_flight, self.started, self.most = list(lose), [], [], 0
        self.cancelled = self.closed = False

    def submit(self, fn, unit):
        self.started.append(unit)
        self.in_flight.append(unit)
        self.most = max(self.most, len(self.in_flight))
        return len(self.started)  # handle

    def wait(self, handles, timeout):
        handle = min(handles)
        unit = self.started[handle - 1]
        self.in_flight.remove(unit)
        if unit in self.lose:
            self.lose.remove(unit)
            return [(handle, Outcome(lost="worker died"))]
        return [(handle, Outcome(result=unit * 10, node="n1"))]

    def cancel(self):
        self.cancelled = True

    def close(self):
        self.closed = True


class ScriptedExecutor(Executor):
    def __init__(self, session):
        self.session = session

    def open(self, workload, concurrency):
        return self.session


def run(session, units, concurrency=2, on_result=None):
    got = []
    stats = ScriptedExecutor(session).run(Workload(None, None), None, units,
                                          on_result or (lambda u, r, n: got.append((u, r, n))), concurrency)
    return got, stats


def test_bounded_in_flight_lazy_pull_and_every_result_once():
    pulled = []

    def units():
        for u in range(7):
            pulled.append(u)
            yield u

    session = ScriptedSession()
    got, stats = run(session, units(), concurrency=3)
    assert sorted(got) == [(u, u * 10, "n1") for u in range(7)]
    assert session.most == 3 and session.closed and not stats.interrupted
    assert stats.per_node == {"n1": 7} and stats.lost == 0


def test_a_lost_unit_runs_again_and_is_reported_once():
    session = ScriptedSession(lose=[2, 2])
    got, stats = run(session, range(5))
    assert sorted(u for u, _, _ in got) == [0, 1, 2, 3, 4]
    assert session.started.count(2) == 3 and stats.lost == 2


def test_a_unit_that_keeps_killing_workers_stops_the_run():
    session = ScriptedSession(lose=[1] * MAX_ATTEMPTS)
    with pytest.raises(UserError, match=f"workers died {MAX_ATTEMPTS} times running one unit"):
        run(session, range(3))
    assert session.cancelled and session.closed


def test_first_ctrl_c_drains_the_units_in_flight_second_drops_them():
    session = ScriptedSession()
    interrupts = [1]

    def on_result(unit, result, node):
        got.append(unit)
        if interrupts:
            interrupts.pop()
            raise KeyboardInterrupt

    got = []
    _, stats = run(session, range(10), concurrency=3, on_result=on_result)
    assert stats.interrupted and got == [0, 1, 2]  # unit 0 interrupted; 1 and 2 were in flight and still reported
    assert not session.cancelled

    session, got = ScriptedSession(), []
    with pytest.raises(KeyboardInterrupt):
        run(session, range(10), concurrency=3, on_result=lambda u, r, n: (_ for _ in ()).throw(KeyboardInterrupt))
    assert session.cancelled


def test_thread_executor_rejects_a_ray_address_and_unknown_kinds():
    with pytest.raises(UserError, match="needs --executor ray"):
        make_executor("thread", "auto")
    with pytest.raises(UserError, match="unknown executor 'dask'"):
        make_executor("dask")


def test_executor_ray_without_ray_is_one_line_naming_the_install(monkeypatch, capsys, tmp_path):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "ray" else real_find_spec(name, *a))
    program = tmp_path / "p.yaml"
    program.write_text("program: cot\nlimit: 1\n")
    code = main(["harvest", str(program), "--executor", "ray", "--out", str(tmp_path / "h"), "--no-progress"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    assert err[0].startswith("error: --executor ray needs the [ray] extra") and "pip install" in err[0] and "[ray]" in err[0]
    assert not (tmp_path / "h").exists()


def test_a_session_may_queue_one_unit_per_worker_beyond_the_concurrency():
    session = ScriptedSession()
    session.queued = 3
    got, _ = run(session, range(20), concurrency=3)
    assert len(got) == 20 and session.most == 6


def test_a_ray_address_where_nothing_listens_is_one_line_with_its_cause_at_once(tmp_path, capsys):
    pytest.importorskip("ray")
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    program = tmp_path / "p.yaml"
    program.write_text("program: zero_shot\n")
    code = main(["run", str(program), "--executor", "ray", "--ray-address", f"127.0.0.1:{port}",
                 "--out", str(tmp_path / "r")])
    (line,) = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert code == 2 and f"cannot reach a Ray cluster at --ray-address '127.0.0.1:{port}'" in line
    assert "ConnectionRefusedError" in line and "ray status" in line


def test_a_rejected_ray_token_keeps_its_cause_and_says_what_to_set():
    ray = pytest.importorskip("ray")
    from strawberry_dspy.executors.ray_executor import join_error

    rejected = ray.exceptions.AuthenticationError("Authentication token mismatch: the cluster requires a token")
    message = str(join_error("10.0.0.5:6379", rejected))
    assert message.startswith("cannot join a Ray cluster at --ray-address '10.0.0.5:6379' (AuthenticationError: ")
    assert "token mismatch" in message and "RAY_AUTH_TOKEN" in message and "\n" not in message
    try:
        try:
            raise TimeoutError("GCS did not answer in 60 s")
        except TimeoutError as cause:
            raise ConnectionError("could not connect") from cause
    except ConnectionError as error:
        message = str(join_error("auto", error))
    assert "ConnectionError: could not connect; caused by TimeoutError: GCS did not answer in 60 s" in message
    assert "ray start --head" in message
