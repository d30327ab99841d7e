"""Turn a spec's text options (and `level`) into a reasoning-gym task config dataclass."""

from __future__ import annotations

import dataclasses
import datetime
import difflib
import enum
from typing import Any

from reasoning_gym.factory import CURRICULA, DATASETS, create_curriculum

from strawberry_dspy.errors import UserError

DEFAULT_SEED = 42
PROCEDURAL_SIZE = 10_000  # fixed, so problems never depend on the limit; word_ladder refuses more than 20_000
_TRUE, _FALSE = {"true", "1", "yes", "on"}, {"false", "0", "no", "off"}


def check_task(task: str) -> None:
    """Raise a UserError naming close matches when reasoning-gym has no such task."""
    if task in DATASETS:
        return
    names = sorted(DATASETS)
    close = difflib.get_close_matches(task, names, n=3)
    hint = f"did you mean {', '.join(close)}?" if close else f"valid tasks include {', '.join(names[:6])}, ..."
    raise UserError(f"unknown reasoning_gym task {task!r}: {hint} ({len(names)} tasks in reasoning_gym.factory.DATASETS)")


def _field_default(field: dataclasses.Field) -> Any:
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return None


def _parse_like(default: Any, annotation: str, raw: str) -> Any:
    """Parse `raw` into the type of the field's default (or, for None defaults, its annotation)."""
    if isinstance(default, bool):
        if raw.lower() not in _TRUE | _FALSE:
            raise ValueError(raw)
        return raw.lower() in _TRUE
    if isinstance(default, enum.Enum):
        choices = {str(member.value): member for member in type(default)}
        if raw not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}")
        return choices[raw]
    if isinstance(default, (int, float)):
        return type(default)(raw)
    if isinstance(default, (datetime.date, datetime.time)):
        return type(default).fromisoformat(raw)
    if isinstance(default, str):
        return raw
    if isinstance(default, (list, tuple)):
        items = [item.strip() for item in raw.split(",") if item.strip()]
        if default and isinstance(default[0], (list, tuple, dict)):
            raise TypeError("nested values cannot be written in a spec")
        return type(default)(_parse_like(default[0], "", item) for item in items) if default else type(default)(items)
    if default is None:
        if any(kind in annotation for kind in ("list", "tuple", "Sequence")):
            return [item.strip() for item in raw.split(",") if item.strip()]
        for kind in (int, float):
            if kind.__name__ in annotation:
                return kind(raw)
        return raw
    raise TypeError(f"{type(default).__name__} values cannot be written in a spec")


def _coerce(task: str, field: dataclasses.Field, raw: str) -> Any:
    try:
        return _parse_like(_field_default(field), str(field.type), raw)
    except (ValueError, TypeError) as error:
        expected = getattr(field.type, "__name__", str(field.type))
        raise UserError(
            f"option {field.name}={raw!r} of reasoning_gym:{task} is not a valid {expected} ({error}): "
            f"fix the value or leave the option out"
        ) from None


def _curriculum_at(task: str, raw_level: str):
    if task not in CURRICULA:
        raise UserError(f"reasoning_gym task {task!r} has no difficulty curriculum, so level={raw_level} cannot apply: drop level")
    curriculum = create_curriculum(task)
    top = max((len(attr.levels) for attr in curriculum.attributes.values()), default=1) - 1
    try:
        level = int(raw_level)
    except ValueError:
        level = -1
    if not 0 <= level <= top:
        raise UserError(f"level={raw_level!r} is out of range for reasoning_gym:{task}: use a whole number from 0 to {top}")
    curriculum.set_global_level(level)
    return curriculum


def build_config(task: str, options: dict[str, str]) -> Any:
    """The task's config dataclass: curriculum level first (if any), then explicit options on top."""
    config_cls = DATASETS[task][1]
    fields = {field.name: field for field in dataclasses.fields(config_cls) if field.init}
    for key in options:
        if key != "level" and key not in fields:
            valid = ", ".join(["level", *sorted(fields)])
            raise UserError(f"unknown option {key!r} for reasoning_gym:{task}: valid options are {valid}")
    values = {key: _coerce(task, fields[key], raw) for key, raw in options.items() if key != "level"}
    for key, default in (("seed", DEFAULT_SEED), ("size", PROCEDURAL_SIZE)):
        if key in fields:
            values.setdefault(key, default)
    try:
        if "level" in options:
            # reasoning-gym's default context: a range attribute at level N spans levels 0..N.
            base = _curriculum_at(task, options["level"]).generate_configuration()
            config = dataclasses.replace(base, **values)
        else:
            config = config_cls(**values)
        if callable(getattr(config, "validate", None)):
            config.validate()
    except (AssertionError, ValueError, TypeError) as error:
        raise UserError(f"invalid options for reasoning_gym:{task} ({str(error) or type(error).__name__}): change the option values") from None
    return config
