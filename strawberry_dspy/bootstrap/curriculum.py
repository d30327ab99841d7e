"""The difficulty curriculum of the loop: a reasoning-gym task's `level=N` option, raised when the model outgrows it.

The rule: when the held-out accuracy of a round's trained model at the current level exceeds the threshold,
the next round runs one level up. A spec without `level` counts as level 0; the options the task's
curriculum sets (e.g. min_terms/max_terms for basic_arithmetic) are dropped when the level changes, since an
explicit option would otherwise pin the difficulty the level is meant to raise. Other benchmarks (jsonl, hf,
tasks without a curriculum) have no levels and stay as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from strawberry_dspy.benchmarks.base import parse_spec


@dataclass(frozen=True)
class Curriculum:
    """The levels of one reasoning-gym task: 0..top, and the spec options each level sets."""

    task: str
    top: int
    fields: frozenset[str]  # config fields the curriculum sets (explicit options for them are dropped on level-up)


def curriculum_of(spec: str) -> Curriculum | None:
    """The task's curriculum, or None for benchmarks without difficulty levels."""
    source, task, _ = parse_spec(spec)
    if source != "reasoning_gym":
        return None
    from reasoning_gym.factory import CURRICULA, create_curriculum

    if task not in CURRICULA:
        return None
    curriculum = create_curriculum(task)
    top = max((len(attr.levels) for attr in curriculum.attributes.values()), default=1) - 1
    fields = set()
    for attr in curriculum.attributes.values():
        fields |= {getattr(attr, name) for name in ("field_name", "lower_field_name", "upper_field_name")
                   if getattr(attr, name, None)}
    return Curriculum(task, top, frozenset(fields))


def level_of(spec: str) -> int | None:
    """The spec's difficulty level: its level=N, 0 when a curriculum task has none, None without a curriculum."""
    if curriculum_of(spec) is None:
        return None
    return int(parse_spec(spec)[2].get("level", 0))


def with_level(spec: str, level: int) -> str:
    """The spec at another level: level=N set, the options the curriculum controls dropped, the rest kept as written."""
    curriculum = curriculum_of(spec)
    if curriculum is None:
        return spec
    head, _, query = spec.partition("?")
    kept = [pair for pair in filter(None, query.split("&"))
            if unquote(pair.partition("=")[0]) not in curriculum.fields | {"level"}]
    return f"{head}?{'&'.join([*kept, f'level={level}'])}"


@dataclass
class LevelDecision:
    """Where the next round runs, and why."""

    benchmark: str
    level: int | None
    leveled_up: bool
    note: str


def next_level(spec: str, accuracy: float, threshold: float) -> LevelDecision:
    """Move one level up when held-out accuracy at this level exceeds the threshold (and a level is left)."""
    curriculum, level = curriculum_of(spec), level_of(spec)
    if curriculum is None or level is None:
        return LevelDecision(spec, None, False, "no curriculum: same problems")
    if accuracy <= threshold:
        return LevelDecision(spec, level, False, f"stays at level {level} ({accuracy:.0%} <= {threshold:.0%})")
    if level >= curriculum.top:
        return LevelDecision(spec, level, False, f"top level {level} reached ({accuracy:.0%} > {threshold:.0%})")
    return LevelDecision(with_level(spec, level + 1), level + 1, True,
                         f"level up to {level + 1} ({accuracy:.0%} > {threshold:.0%})")
