"""The search space of `--optimizer search`: which knobs optuna may set, and to what.

A recipe's optional `search:` section changes the defaults below, one knob per key
(keys are fields of the program's knobs: `strawberry:` or `baseline:`):

    search:
      check_every: [1, 4]                # [low, high]: an int range when both ends are ints, else a float range
      temperature: {low: 0.2, high: 1.0, step: 0.1}
      verifier_every: {choices: [0, 2, 4]}
      max_turns: null                    # null: keep the recipe's value, do not search it
      check_prefill: ["", "<final_answer>"]   # a text knob: a list of variants
      system_prompt:                     # instruction variants; the recipe's own is always one of them
        - "You are a careful solver. One tiny step per reply."
      nudges:                            # named nudge sets; the recipe's set is always 'recipe'
        careful: ["Are you sure?", "Double-check your last step."]
      demos:                             # named demo sets, like nudges: [{question, steps: [...], answer}, ...]
        tiny: [{question: "Calculate 2 + 3.", steps: ["2 + 3 = 5."], answer: "5"}]
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass

import optuna

from strawberry_dspy.config import ProgramSettings
from strawberry_dspy.errors import UserError
from strawberry_dspy.knobs import DEFAULT_NUDGES, StrawberrySettings

NUDGE_SETS = {
    "default": list(DEFAULT_NUDGES),
    "careful": ["Are you sure?", "Any mistakes so far?", "Double-check your last step.",
                "How would you verify your answer?"],
    "forward": ["What's your next step?", "Continue, one small step.", "What do you know so far?"],
}
# Hand-written worked demos in minuscule steps (short: the chat re-sends them every turn). Arithmetic, since
# the default benchmark is; a recipe's `search: demos:` names its own sets for other tasks.
DEMO_SETS = {
    "minuscule": [
        {"question": "Calculate 6 + -2.", "steps": ["Adding -2 is subtracting 2.", "6 - 2 = 4."], "answer": "4"},
        {"question": "Calculate -3 * 5.", "steps": ["3 * 5 = 15.", "One factor is negative, so the product is -15."],
         "answer": "-15"},
    ],
    "one": [{"question": "Calculate ( 7 - 9 ).", "steps": ["7 - 9 = -2."], "answer": "-2"}],
}
SET_KNOBS = ("nudges", "demos")  # list knobs searched as named sets (the study stores the set's name)
STRAWBERRY_DEFAULTS: dict = {
    "nudges": NUDGE_SETS,
    "nudge_probability": {"low": 0.0, "high": 1.0, "step": 0.25},
    "check_every": [1, 4],
    "verifier_every": {"choices": [0, 2, 4]},
    "verifier_window": [2, 6],
    "max_turns": {"low": 4, "high": 12, "step": 2},
    "temperature": {"low": 0.0, "high": 1.0, "step": 0.1},
    "check_prefill": ["", "<final_answer>"],
    "check_temperature": {"low": 0.0, "high": 1.0, "step": 0.1},
    "step_format": ["plain", "numbered", "scratchpad"],
    "reanchor": ["none", "nudges", "checks", "both"],
    "demos": DEMO_SETS,
}
BASELINE_DEFAULTS: dict = {"temperature": {"low": 0.0, "high": 1.0, "step": 0.1}}


@dataclass
class Param:
    """One searched knob: an int or float range, or a list of choices (for nudges and demos: set names)."""

    name: str
    kind: str  # int | float | choice | sets
    low: float | None = None
    high: float | None = None
    step: float | None = None
    choices: list | None = None
    sets: dict | None = None  # sets: set name -> the knob's list (nudges, demos)

    def suggest(self, trial: optuna.Trial):
        """Ask optuna for a value; returns what is stored in the study (a set name for a set knob)."""
        if self.kind == "int":
            return trial.suggest_int(self.name, int(self.low), int(self.high), step=int(self.step or 1))
        if self.kind == "float":
            return trial.suggest_float(self.name, self.low, self.high, step=self.step)
        return trial.suggest_categorical(self.name, self.choices)

    def distribution(self) -> optuna.distributions.BaseDistribution:
        if self.kind == "int":
            return optuna.distributions.IntDistribution(int(self.low), int(self.high), step=int(self.step or 1))
        if self.kind == "float":
            return optuna.distributions.FloatDistribution(self.low, self.high, step=self.step)
        return optuna.distributions.CategoricalDistribution(self.choices)

    def knob_value(self, stored):
        """The knob value for a stored study value."""
        return list(self.sets[stored]) if self.kind == "sets" else stored


@dataclass
class SearchSpace:
    """The searched knobs of one program, and the recipe values they start from."""

    section: str  # strawberry | baseline
    params: list[Param]
    base: dict  # param name -> the recipe's stored value

    def suggest(self, trial: optuna.Trial) -> dict:
        """Stored values for one trial, param by param."""
        return {p.name: p.suggest(trial) for p in self.params}

    def apply(self, config: ProgramSettings, stored: dict) -> ProgramSettings:
        """The config with the knobs of one trial (stored values as in the study)."""
        by_name = {p.name: p for p in self.params}
        knobs = dataclasses.replace(getattr(config, self.section),
                                    **{k: by_name[k].knob_value(v) for k, v in stored.items()})
        return dataclasses.replace(config, **{self.section: knobs})

    def distributions(self) -> dict:
        return {p.name: p.distribution() for p in self.params}

    def size(self) -> int | None:
        """How many distinct settings the space holds (None: a continuous range makes it infinite)."""
        total = 1
        for p in self.params:
            if p.kind == "float" and not p.step:
                return None
            if p.kind in ("int", "float"):
                total *= int(round((p.high - p.low) / (p.step or 1))) + 1
            else:
                total *= len(p.choices)
        return total

    def describe(self) -> dict:
        """A JSON-able view for the metadata and the report."""
        out = {}
        for p in self.params:
            if p.kind in ("int", "float"):
                out[p.name] = {"low": p.low, "high": p.high, "step": p.step}
            elif p.kind == "sets":
                out[p.name] = {name: list(items) for name, items in p.sets.items()}
            else:
                out[p.name] = {"choices": list(p.choices)}
        return out


def build_space(config: ProgramSettings) -> SearchSpace:
    """The search space of a config: defaults for its program, changed by the recipe's `search:` section."""
    section = "strawberry" if config.program == "strawberry" else "baseline"
    knobs = getattr(config, section)
    defaults = STRAWBERRY_DEFAULTS if section == "strawberry" else BASELINE_DEFAULTS
    wanted = {**defaults, **(config.search or {})}
    hints = typing.get_type_hints(type(knobs))
    params, base = [], {}
    for name, spec in wanted.items():
        if name not in hints:
            valid = ", ".join(f.name for f in dataclasses.fields(knobs))
            raise UserError(f"unknown key 'search.{name}': search keys are knobs of '{section}:', one of {valid}")
        if spec is None:
            continue
        param, base_value = _param(name, spec, hints[name], knobs, config)
        if name not in (config.search or {}):
            _widen(param, base_value)  # a default range always holds the recipe's own value
        _check_values(section, knobs, param)
        params.append(param)
        base[name] = base_value
    if not params:
        raise UserError("the search space is empty: every knob in 'search:' is null; give at least one a range")
    return SearchSpace(section, params, base)


def _param(name: str, spec, hint, knobs, config: ProgramSettings) -> tuple[Param, object]:
    current = getattr(knobs, name)
    where = f"search.{name}"
    if name in SET_KNOBS:
        item = str if name == "nudges" else dict
        if not isinstance(spec, dict) or not all(isinstance(v, list) and all(isinstance(s, item) for s in v)
                                                 for v in spec.values()):
            example = 'careful: ["Are you sure?"]' if name == "nudges" else 'tiny: [{question: ..., steps: [...], answer: ...}]'
            raise UserError(f"'{where}' must map set names to lists of {name}, e.g. {example}")
        sets = {"recipe": list(current), **{str(k): list(v) for k, v in spec.items() if list(v) != list(current)}}
        return Param(name, "sets", choices=list(sets), sets=sets), "recipe"
    numeric = _numeric_type(hint)
    if name == "temperature" and current is None:
        current = config.temperature  # the knob's None means the model's temperature
    if name == "check_temperature" and current is None:  # None means the steps' temperature
        current = knobs.temperature if knobs.temperature is not None else config.temperature
    if isinstance(spec, dict) and "choices" in spec:
        choices = _choices(where, spec["choices"], current)
        return Param(name, "choice", choices=choices), current
    if numeric and (isinstance(spec, dict) or _is_pair(spec)):
        low, high, step = (spec.get("low"), spec.get("high"), spec.get("step")) if isinstance(spec, dict) else (*spec, None)
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (low, high)):
            raise UserError(f"'{where}' needs numeric low and high, got {spec!r}; write e.g. [1, 4] or {{low: 1, high: 4}}")
        if low >= high:
            raise UserError(f"'{where}': low must be below high, got [{low}, {high}]")
        kind = "int" if numeric is int else "float"
        if kind == "int" and not all(float(v).is_integer() for v in (low, high, step or 1)):
            raise UserError(f"'{where}' is an integer knob: give integer bounds, got {spec!r}")
        if step is not None and (not isinstance(step, (int, float)) or step <= 0):
            raise UserError(f"'{where}': step must be a positive number, got {step!r}")
        return Param(name, kind, float(low) if kind == "float" else int(low),
                     float(high) if kind == "float" else int(high), step), current
    if isinstance(spec, list) and not numeric:
        return Param(name, "choice", choices=_choices(where, spec, current)), current
    raise UserError(f"'{where}' must be [low, high], {{low, high, step}}, {{choices: [...]}} or, for a text knob, "
                    f"a list of variants; got {spec!r}")


def _widen(param: Param, value) -> None:
    if param.kind not in ("int", "float") or not isinstance(value, (int, float)):
        return
    step = param.step or (1 if param.kind == "int" else 0)
    while value < param.low:
        param.low = param.low - step if step else value
    while value > param.high:
        param.high = param.high + step if step else value


def _choices(where: str, values, current) -> list:
    if not isinstance(values, list) or not values:
        raise UserError(f"'{where}' choices must be a non-empty list, got {values!r}")
    if not all(v is None or isinstance(v, (str, int, float, bool)) for v in values):
        raise UserError(f"'{where}' choices must be plain values (text, numbers, true/false), got {values!r}")
    ordered = [current] + [v for v in values if v != current]
    return list(dict.fromkeys(ordered))


def _check_values(section: str, knobs, param: Param) -> None:
    """Every value the param can take must give usable knobs (raises the knob's own rule otherwise)."""
    if param.kind in ("int", "float"):
        values = [param.low, param.high]
    elif param.kind == "sets":
        values = list(param.sets.values())
    else:
        values = param.choices
    if not isinstance(knobs, StrawberrySettings):
        return
    for value in values:
        try:
            dataclasses.replace(knobs, **{param.name: value}).validate()
        except UserError as broken:
            raise UserError(f"'search.{param.name}' allows {value!r}, which breaks a rule: {broken}") from None


def _numeric_type(hint):
    args = [a for a in typing.get_args(hint) if a is not type(None)] or [hint]
    for tp in (int, float):
        if tp in args:
            return tp
    return None


def _is_pair(spec) -> bool:
    return isinstance(spec, list) and len(spec) == 2
