"""Recipes' YAML: repeated keys and alias bombs are refused at once; ordinary anchors and merges still work."""

import pytest

from strawberry_dspy import safe_yaml
from strawberry_dspy.config import read_yaml
from strawberry_dspy.errors import UserError

BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{n}: &{n} [{', '.join(['*' + p] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi"))  # 9^9 values, 370 bytes


def test_anchors_aliases_and_merge_keys_load_as_yaml_does():
    text = "base: &base {temperature: 0.5, limit: 2}\nrun: {<<: *base, limit: 3}\nnudges: &n [a, b]\nagain: *n\n"
    assert safe_yaml.load(text) == {"base": {"temperature": 0.5, "limit": 2}, "run": {"temperature": 0.5, "limit": 3},
                                    "nudges": ["a", "b"], "again": ["a", "b"]}


@pytest.mark.parametrize("text, words", [
    ("limit: 2\nlimit: 3\n", ["'limit' appears twice", "line 2"]),
    ("strawberry:\n  max_turns: 4\n  max_turns: 8\n", ["'max_turns' appears twice", "line 3"]),
    (BOMB, ["expand to more than 100000 values"]),
    ("a: &a [*a]\n", ["expand to more than"]),
])
def test_repeated_keys_and_alias_bombs_are_one_line(tmp_path, text, words):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(text)
    with pytest.raises(UserError) as refused:
        read_yaml(recipe)  # refused before anything is expanded: a bomb would otherwise fill the memory
    assert "\n" not in str(refused.value) and all(w in str(refused.value) for w in words), refused.value
