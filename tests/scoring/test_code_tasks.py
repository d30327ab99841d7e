"""The code-task scorer: a model's program runs against the task's tests with a time limit, a memory limit, no
network and none of the parent's environment; the bundled benchmark's reference solutions pass, wrong ones fail."""

import socket
import time
from pathlib import Path

import pytest

from strawberry_dspy.benchmarks import load_benchmark
from strawberry_dspy.errors import UserError
from strawberry_dspy.scoring.code_tasks import BENCHMARK, program_of
from strawberry_dspy.scoring.sandbox import Limits, network_isolation, run_python

ROOT = Path(__file__).resolve().parents[2]
SCORER = "strawberry_dspy.scoring.code_tasks:score"


@pytest.fixture(scope="module")
def tasks(request):
    benchmark = load_benchmark(f"jsonl:{ROOT / BENCHMARK.split(':', 1)[1]}", SCORER)
    problems = [p for split in ("train", "dev", "test") for p in benchmark.problems(split)]
    return benchmark, {p.question.split("`")[1].split("(")[0]: p for p in problems}


def fenced(code: str) -> str:
    return f"Here is my solution.\n\n```python\n{code}```\n"


def test_every_reference_solution_passes_and_is_read_from_a_fenced_block(tasks):
    benchmark, problems = tasks
    assert len(problems) == 12
    for name, problem in problems.items():
        assert problem.metadata["tests"], name
        score = benchmark.score(problem, fenced(problem.answer))
        assert (score.correct, score.rule) == (True, "scorer-pass"), name


@pytest.mark.parametrize("name, answer", [
    ("add", "def add(a, b):\n    return a - b\n"),  # wrong
    ("is_prime", "def is_prime(n):\n    return n % 2 == 1\n"),  # right on some tests only
    ("fib", "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n"),  # right, but too slow for fib(200)
    ("gcd", "def gcd(a, b):\n    while True:\n        pass\n"),  # never ends
    ("flatten", "def flatten(xs):\n    return [bytearray(10 ** 10)]\n"),  # beyond the memory limit
    ("add", "print('no function here')"),
    ("add", ""),  # no answer
])
@pytest.mark.slow  # waits on real time (time limits, Retry-After, an outage): out of the quick loop
def test_wrong_slow_and_greedy_programs_fail(tasks, name, answer):
    benchmark, problems = tasks
    start = time.monotonic()
    score = benchmark.score(problems[name], fenced(answer) if answer else None)
    assert (score.correct, score.rule) == (False, "scorer-fail")
    assert time.monotonic() - start < 2 * 2 + 1 + 5  # the wall-clock limit (2 x time_limit + 1 s) holds


def test_a_program_cannot_reach_the_network():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.setblocking(False)
    port = server.getsockname()[1]
    attempts = [
        f"import urllib.request\nurllib.request.urlopen('http://127.0.0.1:{port}/', timeout=2)\n",
        f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2)\n",
    ]
    if network_isolation():  # a namespace: even the raw module finds no network
        attempts.append(f"import _socket\ns = _socket.socket()\ns.settimeout(2)\ns.connect(('127.0.0.1', {port}))\n")
    for source in attempts:
        result = run_python(source + "print('reached')", Limits(seconds=2))
        assert not result.passed and "reached" not in result.stdout, result
        assert result.network == ("namespace" if network_isolation() else "socket-guard")
    with pytest.raises(BlockingIOError):  # nothing ever connected
        server.accept()
    server.close()


def test_the_program_sees_none_of_the_parents_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-of-the-parent")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    (tmp_path / "sitecustomize.py").write_text("print('imported from PYTHONPATH')\n")
    result = run_python("import os, sys\nprint(sorted(os.environ))\nprint(os.getcwd())\n")
    assert result.passed
    assert "sk-secret" not in result.stdout and "OPENAI_API_KEY" not in result.stdout
    assert "imported from PYTHONPATH" not in result.stdout
    assert "strawberry-sandbox-" in result.stdout  # it ran in its own temporary folder ...
    assert not Path(result.stdout.strip().splitlines()[-1]).exists()  # ... which is gone


def test_output_is_bounded():
    result = run_python("import sys\nsys.stdout.write('x' * 5_000_000)\n", Limits(seconds=2, output_kb=64))
    assert not result.passed and len(result.stdout) <= 2000


def test_program_of_takes_the_last_fenced_block():
    assert program_of("first\n```python\nx = 1\n```\nthen\n```\ny = 2\n```") == "y = 2\n"
    assert program_of("def f():\n    return 1") == "def f():\n    return 1"
    assert program_of(None) == ""


def test_a_task_without_tests_is_one_line_naming_the_scorer(tmp_path):
    path = tmp_path / "tasks.jsonl"
    path.write_text('{"question": "Write f.", "answer": "def f(): pass"}\n' * 1)
    benchmark = load_benchmark(f"jsonl:{path}", SCORER)
    problem = next(p for split in ("train", "dev", "test") for p in benchmark.problems(split))
    with pytest.raises(UserError, match=f"scorer '{SCORER}' raised ValueError .* no `tests` column"):
        benchmark.score(problem, "def f(): pass")


def test_without_unshare_the_socket_guard_still_stops_ordinary_network_use(monkeypatch, tmp_path):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.setblocking(False)
    port = server.getsockname()[1]
    monkeypatch.setenv("PATH", str(tmp_path))  # a machine without unshare
    network_isolation.cache_clear()
    try:
        assert network_isolation() == ()
        for source in (f"import urllib.request\nurllib.request.urlopen('http://127.0.0.1:{port}/', timeout=2)\n",
                       f"import socket\nsocket.socket().connect(('127.0.0.1', {port}))\n"):
            result = run_python(source + "print('reached')", Limits(seconds=2))
            assert not result.passed and result.network == "socket-guard"
            assert "network access is disabled" in result.stderr
    finally:
        network_isolation.cache_clear()
    with pytest.raises(BlockingIOError):
        server.accept()
    server.close()


def test_strawberry_run_of_the_code_tasks_recipe_grades_by_running_the_programs(tmp_path, tasks, capsys):
    """`strawberry run programs/code_tasks.yaml` against a model (a loopback server) that answers every task with its
    reference solution, except `gcd`, which it gets wrong: the run's accuracy is what the programs' tests say."""
    import json

    from strawberry_dspy.cli import main
    from strawberry_dspy.testing.loopback_openai import LoopbackOpenAI

    _, problems = tasks
    by_question = {p.question: p.answer for p in problems.values()}

    def reply(body: dict) -> str:
        text = "\n".join(str(m.get("content", "")) for m in body["messages"])
        question = next(q for q in by_question if q in text)
        code = "def gcd(a, b):\n    return a * b\n" if "`gcd(a, b)`" in question else by_question[question]
        return f"<final_answer>\n```python\n{code}```\n</final_answer>"

    with LoopbackOpenAI(reply) as server:
        code = main(["run", str(ROOT / "programs" / "code_tasks.yaml"), "--model", "openai/stub-model", "--api-base",
                     server.url, "--benchmark", f"jsonl:{ROOT / BENCHMARK.split(':', 1)[1]}", "--split", "train",
                     "--out", str(tmp_path / "run")])
    assert code == 0, capsys.readouterr().err
    rows = [json.loads(line) for line in (tmp_path / "run" / "results.jsonl").read_text().splitlines()]
    assert len(rows) == 8 and {r["rule"] for r in rows} == {"scorer-pass", "scorer-fail"}  # the train split
    for row in rows:
        assert row["correct"] == ("`gcd(a, b)`" not in row["question"]), row["question"]
