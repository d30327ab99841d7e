"""`strawberry ui`'s command line: bad directories, a taken port, Streamlit missing: one line and exit 2."""

import importlib.util
import socket

import pytest

from strawberry_dspy.cli import main
from strawberry_dspy.cli import ui as ui_command
from tests.ui.stores import make_harvest


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
    return err


def test_a_missing_or_empty_directory_is_one_line(tmp_path, capsys):
    assert main(["ui", str(tmp_path / "nope")]) == 2
    assert "does not exist" in one_line_error(capsys)
    assert main(["ui", str(tmp_path)]) == 2
    assert "holds no harvest (traces.sqlite) or run (results.jsonl)" in one_line_error(capsys)


def test_a_corrupt_store_is_refused_before_streamlit_starts(tmp_path, capsys):
    out = make_harvest(tmp_path, problems=2, samples=1)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "traces.sqlite").write_bytes(b"not a database, " * 64)
    assert main(["ui", str(out), str(bad), "--port", "0"]) == 2
    assert "is corrupt or not a harvest store" in one_line_error(capsys)
    assert (bad / "traces.sqlite").read_bytes() == b"not a database, " * 64  # looked at, never touched


def test_a_taken_port_is_one_line(tmp_path, capsys):
    out = make_harvest(tmp_path, problems=2, samples=1)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["ui", str(out), "--port", str(port)]) == 2
    assert f"cannot serve on 127.0.0.1:{port}" in one_line_error(capsys)
    assert main(["ui", "--port", "70000"]) == 2
    assert "--port must be between 1 and 65535" in one_line_error(capsys)


def test_without_streamlit_the_error_names_the_install_command(monkeypatch, capsys):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "streamlit" else real(name, *a))
    assert main(["ui"]) == 2
    assert "pip install 'strawberry-dspy[ui]'" in one_line_error(capsys)


def test_streamlit_is_told_to_stay_offline_and_local():
    command = ui_command.streamlit_command("127.0.0.1", 8555)
    assert command[1:4] == ["-m", "streamlit", "run"] and command[4].endswith("strawberry_dspy/ui/app.py")
    assert {"--server.address=127.0.0.1", "--server.port=8555", "--browser.gatherUsageStats=false",
            "--server.headless=true"} <= set(command)


@pytest.mark.parametrize("argv", [["ui", "--strawberry.max_turns=2"]])
def test_overrides_are_refused(argv, capsys):
    assert main(argv) == 2
    assert "ui takes no --key=value overrides" in one_line_error(capsys)
