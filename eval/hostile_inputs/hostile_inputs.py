"""Count the hostile-input sweep's outcomes: python -m eval.hostile_inputs.hostile_inputs [--out FILE]

(run from the repository's root as a module: the sweep's cases are the tests' own, tests/cli/hostile_cases.py)

Every case of tests/cli/hostile_cases.py runs in-process through `strawberry_dspy.cli.main` in a fresh folder of
broken inputs (`make_files`), in a thread given HANG_S seconds. A case is *clean* when it printed exactly one stderr
line starting `error: ` that holds the expected words, exited 2, and left every file as it was. Otherwise it is a
*traceback* (an exception escaped), a *hang* (still running after HANG_S), *data loss* (a file changed or vanished),
or *unclean* (another exit code or message).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import platform
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
os.environ.setdefault("STRAWBERRY_CACHE_DIR", tempfile.mkdtemp(prefix="strawberry-cache-"))

from strawberry_dspy.cli import main
from tests.cli.hostile_cases import CASES, make_files

HANG_S = 30.0


def snapshot(folder: Path) -> dict[str, bytes | None]:
    return {str(p.relative_to(folder)): None if p.is_dir() else p.read_bytes() for p in sorted(folder.rglob("*"))}


def run_case(argv: list[str]) -> tuple[str, int | None, str, float]:
    """(outcome, exit code, stderr, seconds) of one case, without checking messages or files."""
    result: dict = {}
    err = io.StringIO()

    def target():
        try:
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                result["code"] = main(argv)
        except SystemExit as exit_:
            result["code"] = exit_.code
        except BaseException as exc:  # noqa: BLE001 - a traceback is what is being counted
            result["exc"] = exc

    start = time.perf_counter()
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(HANG_S)
    seconds = time.perf_counter() - start
    if thread.is_alive():
        return "hang", None, err.getvalue(), seconds
    if "exc" in result:
        return "traceback", None, f"{type(result['exc']).__name__}: {result['exc']}", seconds
    return "ran", result.get("code"), err.getvalue(), seconds


def sweep() -> dict:
    counts = {"cases": len(CASES), "clean": 0, "tracebacks": 0, "hangs": 0, "data loss": 0, "unclean": 0}
    problems, slowest = [], 0.0
    with tempfile.TemporaryDirectory() as tmp:
        files = make_files(Path(tmp))
        cwd = os.getcwd()
        os.chdir(files)
        try:
            for argv, expected in CASES:
                before = snapshot(files)
                outcome, code, err, seconds = run_case(argv)
                slowest = max(slowest, seconds)
                lines = err.strip().splitlines()
                if outcome == "hang":
                    counts["hangs"] += 1
                elif outcome == "traceback":
                    counts["tracebacks"] += 1
                elif snapshot(files) != before:
                    counts["data loss"] += 1
                elif code == 2 and len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0]:
                    counts["clean"] += 1
                    continue
                else:
                    counts["unclean"] += 1
                problems.append((" ".join(argv), outcome, err.strip()[:200]))
        finally:
            os.chdir(cwd)
    return {**counts, "slowest_s": slowest, "problems": problems}


def report(result: dict) -> str:
    rows = "\n".join(f"| {k} | {result[k]} |" for k in ("cases", "clean", "tracebacks", "hangs", "data loss", "unclean"))
    failures = "\n".join(f"- `{argv}`: {outcome}: {err}" for argv, outcome, err in result["problems"]) or "none"
    return f"""# Hostile inputs: every bad input is one line, exit 2, nothing changed on disk

Command: `python -m eval.hostile_inputs.hostile_inputs` (the cases of `tests/cli/hostile_cases.py`, each run in-process through
`strawberry_dspy.cli.main` in a folder of broken inputs, {HANG_S:g} s allowed per case). The same cases are asserted
one by one by `tests/cli/test_hostile_input.py`.

| outcome | cases |
| --- | --- |
{rows}

Slowest case: {result['slowest_s']:.1f} s. Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python
{platform.python_version()}.

Cases not clean: {failures}

What the cases cover: recipe files (not UTF-8, empty, repeated keys, alias bombs, demos whose `steps` is not a list
of text, nudges and prices of the wrong type, nan / inf numbers), every numeric `--key=value` and flag (nan, inf,
out of range, wrong type), flags that contradict each other, benchmark files, outputs that cannot be written,
stores strawberry did not create (another program's SQLite file, corrupt, empty, missing a core column,
`correct = 'yes'`, an unknown schema version) with and without `--fresh`, model specs and `--api-base` values that
are not URLs, models that cannot load (no output folder left behind: harvest, compile, bootstrap), Ray addresses
where nothing answers, arguments that are not UTF-8, and `ui --host` beyond loopback without `--allow-remote`.
"""


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "eval" / "hostile_inputs" / "report.md"))
    args = parser.parse_args()
    import strawberry_dspy.models.engine as engine  # a case that would load the model counts as unclean, fast

    def refuse(self, slots, port):
        raise SystemExit(3)

    engine.LocalEngine._start = refuse
    os.execve = lambda *a: (_ for _ in ()).throw(SystemExit(3))  # `strawberry ui` would become Streamlit
    result = sweep()
    Path(args.out).write_text(report(result))
    print({k: v for k, v in result.items() if k != "problems"})
