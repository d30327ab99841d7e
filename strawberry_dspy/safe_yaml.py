"""YAML as recipes need it: `yaml.safe_load`, but a repeated key is an error and aliases are bounded.

PyYAML keeps the last of two equal keys silently, and expands nothing itself: a 1 KB file of nested aliases
(`b: [*a, *a, ...]`) loads at once yet grows past gigabytes when the config is copied, hashed or dumped. So a
document whose aliases, written out, would hold more than MAX_VALUES values is refused before it is built.
"""

from __future__ import annotations

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode

MAX_VALUES = 100_000  # a recipe holds hundreds; a document that expands beyond this is an alias bomb


class RefusedYAML(yaml.YAMLError):
    """A repeated key or an alias bomb (`problem` and `problem_mark` as PyYAML's own errors have)."""

    def __init__(self, problem: str, mark):
        super().__init__(problem)
        self.problem, self.problem_mark = problem, mark


class _StrictLoader(yaml.SafeLoader):
    def compose_document(self):
        node = super().compose_document()
        if _expanded_size(node, {}) > MAX_VALUES:
            raise RefusedYAML(f"its aliases (*name) expand to more than {MAX_VALUES} values (an alias bomb?); "
                               "write the values out", node.start_mark)
        return node

    def construct_mapping(self, node: MappingNode, deep: bool = False):
        if isinstance(node, MappingNode):
            seen = set()
            for key_node, _ in node.value:  # before merge keys (<<) are flattened: a merged key may be overridden
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                try:
                    key = self.construct_object(key_node, deep=True)
                    hash(key)
                except (TypeError, ConstructorError):
                    continue  # the base class words an unhashable key
                if key in seen:
                    raise RefusedYAML(f"the key {key!r} appears twice in one mapping (the last would win silently); "
                                       "keep one", key_node.start_mark)
                seen.add(key)
        return super().construct_mapping(node, deep)


def _expanded_size(node, sizes: dict[int, int]) -> int:
    """How many values `node` holds with every alias written out (shared nodes counted once per use)."""
    if id(node) in sizes:
        return sizes[id(node)]
    sizes[id(node)] = MAX_VALUES + 1  # a node inside itself (a recursive alias) expands without end
    children = node.value if isinstance(node.value, list) else []
    items = [part for child in children for part in (child if isinstance(child, tuple) else (child,))]
    total = 1
    for child in items:
        total += _expanded_size(child, sizes)
        if total > MAX_VALUES:
            break
    sizes[id(node)] = total
    return total


def load(text: str):
    """Parse YAML text like `yaml.safe_load`, refusing repeated keys and more than MAX_ALIASES aliases."""
    return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
