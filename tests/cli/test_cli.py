"""The `strawberry` command as a user meets it: a table on success, one line and exit 2 on bad input."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCHMARK = "reasoning_gym:basic_arithmetic?min_terms=2&max_terms=2&max_digits=1"


def strawberry(*args, cwd=ROOT, env=None):
    return subprocess.run([sys.executable, "-m", "strawberry_dspy.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env={**os.environ, **(env or {})})


@pytest.mark.integration
def test_run_prints_its_table_and_writes_the_run_directory(tmp_path):
    out = tmp_path / "run"
    result = strawberry("run", "programs/strawberry.yaml", "--limit", "2", "--out", str(out), "--benchmark", BENCHMARK)
    assert result.returncode == 0, result.stderr
    for row in ("accuracy", "mean steps", "stop reasons", "prompt tokens", "completion tokens", "time"):
        assert row in result.stdout
    assert (out / "results.jsonl").read_text().count("\n") == 2


def _bad_yaml(tmp_path, text):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("make_args, expected", [
    (lambda t: ["run", _bad_yaml(t, "program: [oops\n")], "malformed YAML"),
    (lambda t: ["run", _bad_yaml(t, "programme: strawberry\n")], "unknown key 'programme'"),
    (lambda t: ["run", _bad_yaml(t, "limit: many\n")], "'limit' must be int"),
    (lambda t: ["run", _bad_yaml(t, "program: tot\n")], "unknown program 'tot'"),
    (lambda t: ["run", str(t / "missing.yaml")], "program file not found"),
    (lambda t: ["run", "programs/cot.yaml", "--benchmark", "reasoning_gym:no_such_task"], "no_such_task"),
    (lambda t: ["run", "programs/cot.yaml", "--benchmark", "mystery:thing"], "mystery:thing"),
    (lambda t: ["run", "programs/cot.yaml", "--benchmark", f"jsonl:{t}/none.jsonl"], "none.jsonl"),
    (lambda t: ["run", "programs/cot.yaml", "--model", "nonsense/model"], "nonsense/model"),
    (lambda t: ["run", "programs/cot.yaml", "--model", "anthropic/claude-x"], "ANTHROPIC_API_KEY"),
    (lambda t: ["run", "programs/cot.yaml", "--model", "ollama_chat/llama3", "--api-base", "http://127.0.0.1:9"], "ollama serve"),
    (lambda t: ["run", "programs/cot.yaml", "--model", "openai/x", "--api-base", "http://127.0.0.1:9/v1"], "127.0.0.1:9"),
    (lambda t: ["run", "programs/cot.yaml", "--strawberry.check_every=0", "--program=strawberry"], "check_every must be >= 1"),
    (lambda t: ["run", "programs/cot.yaml", "--limit=0"], "limit must be >= 1"),
    # argparse's own complaints are one line too, naming the command to ask for --help
    (lambda t: ["frobnicate"], "invalid choice: 'frobnicate'"),
    (lambda t: ["harvest"], "strawberry harvest: the following arguments are required: program"),
    (lambda t: ["harvest", "programs/cot.yaml", "--samples", "many"], "argument --samples/-k: invalid int value: 'many'"),
    (lambda t: ["run", "programs/cot.yaml", "stray"], "unrecognized arguments: stray"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, make_args, expected):
    result = strawberry(*make_args(tmp_path), "--out", str(tmp_path / "out"), cwd=ROOT,
                        env={"ANTHROPIC_API_KEY": "", "OLLAMA_HOST": "http://127.0.0.1:9"})
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def _help(command: str) -> str:
    result = strawberry(command, "--help")
    assert result.returncode == 0, result.stderr
    return " ".join(result.stdout.split())


def test_help_lists_choices_names_inputs_alike_and_run_takes_the_common_flags():
    compile_help = _help("compile")
    assert "--optimizer {search,bootstrap,mipro,gepa}" in compile_help and "--objective {accuracy,band}" in compile_help
    for command in ("export", "stats"):
        assert "HARVEST_DIR a harvest directory (or its traces.sqlite)" in _help(command)
    run_help = _help("run")
    for flag in ("--no-progress", "--config FILE.yaml", "--temperature T", "--samples K", "--executor"):
        assert flag in run_help
    for command in ("run", "harvest", "compile"):  # one wording of --api-base, which serves anthropic/ too
        assert "--api-base URL base URL of the model's server" in _help(command)
        assert "for openai/... models" not in _help(command)


def test_run_reads_its_options_from_config_and_flags(tmp_path):
    from strawberry_dspy.cli import build_parser
    from strawberry_dspy.options import options_from_args
    from strawberry_dspy.run import RunSettings

    config = tmp_path / "run.yaml"
    config.write_text("samples: 3\ntemperature: 0.5\n")
    args = build_parser(["run"]).parse_args(["run", "programs/cot.yaml", "--config", str(config), "--no-progress"])
    assert options_from_args(RunSettings, args) == RunSettings(samples=3, temperature=0.5, progress=False)
    args = build_parser(["run"]).parse_args(["run", "programs/cot.yaml", "--config", str(config), "--samples", "2"])
    assert options_from_args(RunSettings, args) == RunSettings(samples=2, temperature=0.5, progress=True)
