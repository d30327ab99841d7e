"""Bad input of every kind a hostile user tried, command by command: one line on stderr, exit 2, never a traceback,
and every file as it was (the cases: tests/cli/hostile_cases.py; their figures: eval/results/hostile_inputs.md).

Run in-process through the dispatcher (`strawberry_dspy.cli.main`, what the console script calls) so the table
stays fast; test_cli.py covers the same contract through a real subprocess.
"""

from pathlib import Path

import pytest

from strawberry_dspy.cli import main
from tests.cli.hostile_cases import CASES, make_files


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    """A folder of broken inputs beside a good recipe, benchmark and harvest store."""
    return make_files(tmp_path_factory.mktemp("hostile"))


@pytest.fixture(autouse=True)
def no_model(monkeypatch):
    """Every case is refused before a model loads or Streamlit starts: one that gets that far fails at once."""
    from strawberry_dspy.models.engine import LocalEngine

    def refuse(self, slots, port):
        raise AssertionError("this bad input reached the model or Streamlit: it should be refused before")

    monkeypatch.setattr(LocalEngine, "_start", refuse)
    monkeypatch.setattr("os.execve", lambda *args: refuse(None, 0, 0))  # `strawberry ui` would become Streamlit


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every path under `folder` with its bytes (None for a folder)."""
    return {str(p.relative_to(folder)): None if p.is_dir() else p.read_bytes() for p in sorted(folder.rglob("*"))}


def run_case(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exit_:
        return exit_.code


def test_the_sweep_is_broad():
    assert len(CASES) >= 250
    assert {argv[0] for argv, _ in CASES} >= {"run", "harvest", "stats", "export", "train", "compile", "bootstrap", "ui"}


@pytest.mark.parametrize("argv, expected", CASES, ids=[" ".join(a).encode("ascii", "replace").decode() for a, _ in CASES])
def test_hostile_input_is_one_line_and_exit_2(files, monkeypatch, capsys, argv, expected):
    monkeypatch.chdir(files)
    before = snapshot(files)
    code = run_case(argv)
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], err
    if any(name in argv for name in ("foreign", "corrupt", "zero", "nocol", "v99", "noturns", "yes")):
        assert "--fresh" not in err  # never advised for a file strawberry would not delete
    assert snapshot(files) == before  # nothing made, changed or removed
