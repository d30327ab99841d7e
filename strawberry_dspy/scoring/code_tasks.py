"""A plug-in scorer for code tasks: the model's Python program runs against the task's tests in a sandbox.

Use it as `scorer: strawberry_dspy.scoring.code_tasks:score` (or `--scorer=...`) on a benchmark whose rows carry
`tests` (a list of Python statements, usually asserts, or one string of them) beside `question` and `answer` (a
reference solution); `time_limit` (CPU seconds) and `memory_mb` per row are optional. The answer passes when the
program, followed by the tests, exits with status 0 within the limits (`sandbox.py` says what isolates it).
`programs/code_tasks.yaml` runs the bundled benchmark, `strawberry_dspy/scoring/code_tasks.jsonl`.
"""

from __future__ import annotations

import re

from strawberry_dspy.scoring.sandbox import Limits, RunResult, run_python

BENCHMARK = "jsonl:strawberry_dspy/scoring/code_tasks.jsonl"
_FENCE = re.compile(r"```[ \t]*(?:python|py|python3)?[ \t]*\n(.*?)```", re.DOTALL | re.IGNORECASE)


def program_of(answer: str | None) -> str:
    """The program an answer gives: the last fenced code block that defines or does something, else the whole text."""
    if not answer:
        return ""
    blocks = [block for block in _FENCE.findall(answer) if block.strip()]
    return blocks[-1] if blocks else answer.strip().strip("`")


def tests_of(example) -> str:
    """The task's tests as one block of statements."""
    tests = example.get("tests") if hasattr(example, "get") else getattr(example, "tests", None)
    if not tests:
        raise ValueError("the task has no `tests` column: each row needs a list of test statements")
    return tests if isinstance(tests, str) else "\n".join(str(test) for test in tests)


def run_task(example, answer: str | None) -> RunResult:
    """The answer's program followed by the task's tests, run under the task's limits."""
    get = example.get if hasattr(example, "get") else lambda key, default=None: getattr(example, key, default)
    limits = Limits(seconds=float(get("time_limit", 5) or 5), memory_mb=int(get("memory_mb", 512) or 512))
    return run_python(f"{program_of(answer)}\n\n\n{tests_of(example)}\n", limits)


def score(example, pred, trace=None) -> bool:
    """DSPy metric: does the model's program pass every test of the task?"""
    answer = getattr(pred, "answer", None)
    if not program_of(answer).strip():
        tests_of(example)  # a task without tests is the benchmark's error, even when the answer is empty
        return False
    return run_task(example, answer).passed
