"""The search space: sensible defaults, the recipe's `search:` section, and one clear line for a bad one."""

from pathlib import Path

import optuna
import pytest

from strawberry_dspy.compile.space import DEMO_SETS, NUDGE_SETS, STRAWBERRY_DEFAULTS, build_space
from strawberry_dspy.config import config_from_dict, load_config
from strawberry_dspy.errors import UserError

ROOT = Path(__file__).resolve().parents[2]


def space_of(search=None, program="strawberry", **knobs):
    data = {"program": program, "search": search}
    if knobs:
        data["strawberry"] = knobs
    return build_space(config_from_dict(data))


def test_default_space_covers_the_loop_knobs_and_starts_from_the_recipe():
    config = load_config(ROOT / "programs" / "strawberry.yaml")
    space = build_space(config)
    names = {p.name for p in space.params}
    assert {"nudges", "nudge_probability", "check_every", "verifier_every", "verifier_window", "max_turns",
            "temperature", "check_prefill"} <= names
    assert space.base["check_every"] == config.strawberry.check_every
    assert space.base["temperature"] == config.temperature  # the knob's None means the model's temperature
    assert space.base["nudges"] == "recipe" and space.base["check_prefill"] == "<final_answer>"
    # the recipe's own values lie inside the default space, so optuna is told how the recipe scored
    optuna.trial.create_trial(params=space.base, distributions=space.distributions(), value=0.0)


def test_a_trial_sets_knobs_and_named_nudge_sets():
    space = space_of({"nudges": {"short": ["Go on."]}, "check_every": [1, 3]})
    trial = optuna.trial.FixedTrial({**{p.name: space.base[p.name] for p in space.params}, "nudges": "short",
                                     "check_every": 3})
    config = space.apply(config_from_dict({"program": "strawberry"}), space.suggest(trial))
    assert config.strawberry.nudges == ["Go on."] and config.strawberry.check_every == 3
    assert set(space.params[0].sets) == {"recipe", "short"}  # the recipe's sets replace the default ones
    assert set(space_of().params[0].sets) == {"recipe", *NUDGE_SETS} - {"default"}  # 'default' is the recipe's own


def test_the_loop_levers_are_in_the_default_space():
    space = space_of(temperature=0.4)
    by_name = {p.name: p for p in space.params}
    assert by_name["step_format"].choices == ["plain", "numbered", "scratchpad"]
    assert by_name["reanchor"].choices == ["none", "nudges", "checks", "both"]
    assert set(by_name["demos"].sets) == {"recipe", *DEMO_SETS} and by_name["demos"].sets["recipe"] == []
    assert space.base["check_temperature"] == 0.4  # unset: checks sample at the steps' temperature
    trial = optuna.trial.FixedTrial({**space.base, "demos": "minuscule", "check_temperature": 0.0,
                                     "step_format": "numbered"})
    knobs = space.apply(config_from_dict({"program": "strawberry"}), space.suggest(trial)).strawberry
    assert knobs.demos == DEMO_SETS["minuscule"] and knobs.check_temperature == 0.0 and knobs.step_format == "numbered"
    knobs.validate()  # usable knobs: no UserError


def test_a_recipe_names_its_own_demo_sets():
    demo = {"question": "Spell cat.", "steps": ["c, a, t."], "answer": "cat"}
    space = space_of({"demos": {"spell": [demo]}})
    assert {p.name: p for p in space.params}["demos"].sets == {"recipe": [], "spell": [demo]}
    with pytest.raises(UserError, match="'search.demos' must map set names to lists of demos"):
        space_of({"demos": {"bad": ["not a demo"]}})
    with pytest.raises(UserError, match=r"strawberry.demos\[0\] must be"):
        space_of({"demos": {"bad": [{"question": "q"}]}})


def test_default_ranges_stretch_to_the_recipe_value():
    space = space_of(max_turns=24, check_every=9)
    by_name = {p.name: p for p in space.params}
    assert (by_name["max_turns"].low, by_name["max_turns"].high) == (4, 24) and by_name["check_every"].high == 9
    optuna.trial.create_trial(params=space.base, distributions=space.distributions(), value=0.0)


def test_recipe_section_overrides_defaults_and_null_removes_a_knob():
    space = space_of({"max_turns": None, "temperature": None, "check_every": {"choices": [2, 5]},
                      "system_prompt": ["Be brief.", "Think in tiny steps."]})
    by_name = {p.name: p for p in space.params}
    assert "max_turns" not in by_name and "temperature" not in by_name
    assert by_name["check_every"].choices == [3, 2, 5]  # the recipe's value first
    assert by_name["system_prompt"].choices == [None, "Be brief.", "Think in tiny steps."]


def test_baselines_search_their_own_knobs():
    space = space_of({"instructions": ["Answer with the number only."]}, program="cot")
    assert space.section == "baseline" and {p.name for p in space.params} == {"temperature", "instructions"}


def test_space_size_decides_enumeration():
    off = {name: None for name in STRAWBERRY_DEFAULTS}
    assert space_of({**off, "check_every": [1, 4]}).size() == 4
    assert space_of({"temperature": {"low": 0.0, "high": 1.0}}).size() is None


@pytest.mark.parametrize("search, message", [
    ({"check_evry": [1, 3]}, "unknown key 'search.check_evry'"),
    ({"check_every": [4, 1]}, "low must be below high"),
    ({"check_every": [0, 3]}, "check_every must be >= 1"),
    ({"check_every": [1.5, 3]}, "integer knob"),
    ({"nudge_probability": [0.0, 2.0]}, "nudge_probability must be in"),
    ({"check_every": "often"}, "must be [low, high]"),
    ({"nudges": ["Go on."]}, "must map set names to lists"),
    ({"first_prompt": ["Solve it."]}, "must contain {question}"),
    ({"check_every": {"choices": []}}, "non-empty list"),
    ({name: None for name in STRAWBERRY_DEFAULTS}, "search space is empty"),
])
def test_bad_search_sections_are_one_line_user_errors(search, message):
    with pytest.raises(UserError, match=message.replace("[", r"\[").replace("{", r"\{").replace("}", r"\}")):
        space_of(search)
