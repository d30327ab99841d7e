"""`strawberry compile` bad input: one clear line on stderr, exit 2, before any model is loaded."""

import json

import pytest

from tests.cli.test_cli import strawberry
from tests.compile.test_compiled import compiled_file

RECIPE = "programs/strawberry.yaml"


def _tiny_benchmark(tmp_path):
    path = tmp_path / "two.jsonl"
    path.write_text("".join(json.dumps({"question": f"What is {i} + 1?", "answer": str(i + 1)}) + "\n" for i in range(2)))
    return f"jsonl:{path}"


def _recipe_with(tmp_path, text):
    path = tmp_path / "recipe.yaml"
    path.write_text("program: strawberry\n" + text)
    return str(path)


@pytest.mark.parametrize("make_args, expected", [
    (lambda t: ["--optimizer", "annealing"], "argument --optimizer: invalid choice: 'annealing' (choose from"),
    (lambda t: ["--budget", "0"], "--budget must be >= 1"),
    (lambda t: ["--dev-limit", "1"], "compiling needs >= 2"),
    (lambda t: ["--benchmark", _tiny_benchmark(t)], "the dev split of jsonl:"),
    (lambda t: ["--objective", "band", "--band", "0.8", "0.2"], "0 <= LO < HI <= 1"),
    (lambda t: ["--objective", "band", "--band", "0.5", "0.5"], "0 <= LO < HI <= 1"),
    (lambda t: ["--objective", "band", "--band", "half", "1"], "--band: invalid float value: 'half'"),
    (lambda t: ["--objective", "band", "--optimizer", "mipro"], "band objective needs --optimizer search"),
    (lambda t: ["--objective", "f1"], "argument --objective: invalid choice: 'f1' (choose from"),
    (lambda t: ["--test-limit", "-1"], "--test-limit must be >= 0"),
])
def test_bad_compile_input_is_one_line_and_exit_2(tmp_path, make_args, expected):
    result = strawberry("compile", RECIPE, *make_args(tmp_path), "--out", str(tmp_path / "out"))
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], result.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_bad_search_section_is_one_line_and_exit_2(tmp_path):
    recipe = _recipe_with(tmp_path, "search:\n  check_every: [3, 1]\n")
    result = strawberry("compile", recipe, "--out", str(tmp_path / "out"))
    assert result.returncode == 2 and "'search.check_every': low must be below high" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_compile_rejects_a_compiled_file_as_its_program(tmp_path):
    path, *_ = compiled_file(tmp_path)
    result = strawberry("compile", str(path))
    assert result.returncode == 2 and "compile takes a program YAML recipe" in result.stderr


def test_run_rejects_a_compiled_file_from_another_program_version(tmp_path):
    path, _, _, recipe = compiled_file(tmp_path)
    recipe.write_text(recipe.read_text() + "  check_every: 4\n")
    result = strawberry("run", str(path))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "has changed since" in lines[0] and "recompile" in lines[0]
