"""YAML recipes: defaults, overrides, and one clear error per kind of bad input."""

from pathlib import Path

import pytest

from strawberry_dspy.config import load_config, parse_overrides
from strawberry_dspy.errors import UserError

PROGRAMS = Path(__file__).resolve().parent.parent / "programs"


@pytest.mark.parametrize("name", ["strawberry", "strawberry_full", "zero_shot", "cot"])
def test_shipped_programs_load(name):
    config = load_config(PROGRAMS / f"{name}.yaml")
    assert config.program == name.split("_full")[0] and config.model == "local"


def test_yaml_values_reach_the_knobs(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("program: strawberry\nstrawberry:\n  check_every: 5\n  nudges: [\"Sure?\"]\n  temperature: 1\n")
    config = load_config(path)
    assert config.strawberry.check_every == 5 and config.strawberry.nudges == ["Sure?"]
    assert config.strawberry.temperature == 1.0 and isinstance(config.strawberry.temperature, float)


def test_overrides_are_nested_and_typed(tmp_path):
    overrides = parse_overrides(["--strawberry.check_every=2", "--limit=3", "--model=openai/x", "--strawberry.system_prompt=Be brief."])
    config = load_config(PROGRAMS / "strawberry.yaml", overrides)
    assert (config.strawberry.check_every, config.limit, config.model) == (2, 3, "openai/x")
    assert config.strawberry.system_prompt == "Be brief."
    assert config.strawberry.verifier_window == 4  # untouched keys keep the file's value


@pytest.mark.parametrize("text, expected", [
    ("program: strawberry\nbogus: 1\n", "unknown key 'bogus'"),
    ("strawberry:\n  check_evry: 2\n", "unknown key 'strawberry.check_evry'"),
    ("limit: ten\n", "'limit' must be int, got 'ten'"),
    ("limit: true\n", "'limit' must be int"),
    ("strawberry:\n  nudges: Are you sure?\n", "'strawberry.nudges' must be a list"),
    ("program: tree_of_thought\n", "unknown program 'tree_of_thought'"),
    ("strawberry:\n  check_every: 0\n", "check_every must be >= 1, got 0"),
    ("split: validation\n", "unknown split 'validation'"),
    ("program: [unclosed\n", "malformed YAML at line"),
    ("- a\n- b\n", "expected a mapping"),
])
def test_bad_recipes_raise_one_line(tmp_path, text, expected):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(UserError) as err:
        load_config(path)
    message = str(err.value)
    assert expected in message and "\n" not in message and str(path) in message


def test_missing_file():
    with pytest.raises(UserError, match="program file not found: 'nope.yaml'"):
        load_config("nope.yaml")


def test_malformed_override():
    with pytest.raises(UserError, match="KEY=VALUE"):
        parse_overrides(["--limit"])
