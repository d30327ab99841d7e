"""`strawberry harvest` bad input: one `error:` line, exit 2, and an existing store left as it was."""

import pytest
import yaml

from strawberry_dspy.cli import main
from strawberry_dspy.harvest import harvest
from tests.harvest.scripted import HarvestLM, gold_of, harvest_config, write_problems


@pytest.fixture
def program(tmp_path):
    problems = write_problems(tmp_path / "problems.jsonl", 60)
    path = tmp_path / "program.yaml"
    path.write_text(yaml.safe_dump({"program": "strawberry", "benchmark": f"jsonl:{problems}", "split": "train",
                                    "limit": 2, "strawberry": {"check_every": 1, "verifier_every": 0}}))
    return path


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and len(err.splitlines()) == 1 and "Traceback" not in err
    return err


@pytest.mark.parametrize("args, message", [
    (["--samples", "0"], "--samples must be >= 1, got 0"),
    (["--concurrency", "0"], "concurrency must be >= 1, got 0"),
    (["--band", "0.9", "0.1"], "--band 0.9 0.1"),
    (["--early-stop", "-1"], "--early-stop must be >= 0"),
    (["--temperature", "-0.5"], "--temperature must be >= 0"),
    (["--benchmark", "nosuch:thing"], "unknown benchmark"),
])
def test_bad_arguments(tmp_path, program, capsys, args, message):
    assert main(["harvest", str(program), "--out", str(tmp_path / "h"), *args]) == 2
    assert message in one_error_line(capsys)
    assert not (tmp_path / "h" / "traces.sqlite").exists()


def test_a_store_from_another_program_is_refused(tmp_path, program, capsys):
    config = harvest_config(write_problems(tmp_path / "problems.jsonl", 60), limit=2)
    harvest(config, tmp_path / "h", samples=1, lm=HarvestLM(gold_of(config)), progress=False)
    before = (tmp_path / "h" / "traces.sqlite").read_bytes()
    assert main(["harvest", str(program), "--out", str(tmp_path / "h"), "--strawberry.max_turns=3"]) == 2
    err = one_error_line(capsys)
    assert "holds a harvest of a different setup (program_hash" in err and "--fresh" in err
    assert (tmp_path / "h" / "traces.sqlite").read_bytes() == before
