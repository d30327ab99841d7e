"""`--optimizer search` with a scripted LM in which check_every=3 is known to be best."""

import json

import optuna
import pytest

from strawberry_dspy.compile import CompileSettings, compile_program
from strawberry_dspy.compile.space import STRAWBERRY_DEFAULTS
from tests.compile.helpers import RECIPE, right_after_three_steps, rule_lm, write_recipe, write_sums

OFF = {name: None for name in STRAWBERRY_DEFAULTS}  # search nothing but what a test names


def compile_sums(tmp_path, search, budget, rule=right_after_three_steps, out="out", knobs=None, progress=False,
                 **options):
    spec = write_sums(tmp_path / "sums.jsonl")
    path, config = write_recipe(tmp_path, spec, search={**OFF, **search},
                                strawberry={**RECIPE["strawberry"], **(knobs or {})})
    lm = rule_lm(rule)
    options = {"dev_limit": 6, "test_limit": 6, **options}
    compiled, meta = compile_program(path, config, CompileSettings(budget=budget, out=tmp_path / out, **options),
                                     task_lm=lm, progress=progress)
    return compiled, meta


def trials_of(meta):
    return optuna.load_study(study_name=meta["study"]["name"], storage=meta["study"]["storage"]).trials


def test_search_finds_the_best_check_cadence_within_budget(tmp_path):
    compiled, meta = compile_sums(tmp_path, {"check_every": [1, 4]}, budget=4)
    assert meta["knobs"] == {"check_every": [2, 3]}
    assert meta["scores"]["before"]["dev"]["value"] == 0.0 and meta["scores"]["after"]["dev"]["value"] == 1.0
    assert meta["scores"]["before"]["test"]["accuracy"] == 0.0 and meta["scores"]["after"]["test"]["accuracy"] == 1.0
    saved = json.loads(compiled.read_text())["strawberry"]["config"]
    assert saved["strawberry"]["check_every"] == 3 and saved["split"] == "test" and saved["limit"] == 6
    # the recipe itself is trial 0, told to optuna without LM calls; a small space is enumerated, never repeated
    trials = trials_of(meta)
    assert trials[0].user_attrs["base"] and trials[0].params == {"check_every": 2}
    assert sorted(t.params["check_every"] for t in trials) == [1, 2, 3, 4]
    assert meta["lm_calls"]["optimize"] == sum(t.user_attrs["lm_calls"] for t in trials[1:]) > 0
    report = (compiled.parent / "report.md").read_text()
    assert "check_every  2 -> 3" in report and "100.0%" in report
    assert (compiled.parent / "optuna_history.png").stat().st_size > 1000


def test_tpe_finds_the_best_value_in_a_larger_space(tmp_path):
    # 6 cadences x a continuous temperature: TPE (seeded) rather than enumeration
    _, meta = compile_sums(tmp_path, {"check_every": [1, 6], "temperature": {"low": 0.0, "high": 1.0}}, budget=10,
                           dev_limit=4, test_limit=2)
    assert meta["knobs"]["check_every"] == [2, 3]
    assert len(trials_of(meta)) <= 11


def test_a_rerun_resumes_the_study_and_spends_only_on_new_trials(tmp_path):
    space = {"check_every": [1, 8]}
    _, first = compile_sums(tmp_path, space, budget=2)
    assert len(trials_of(first)) == 3  # base + 2
    _, again = compile_sums(tmp_path, space, budget=2)
    assert again["study"]["name"] == first["study"]["name"] and again["lm_calls"]["optimize"] == 0
    _, more = compile_sums(tmp_path, space, budget=5)
    trials = trials_of(more)
    assert len(trials) == 6 and more["lm_calls"]["optimize"] == sum(t.user_attrs.get("lm_calls", 0) for t in trials[3:])


def test_a_study_killed_mid_trial_resumes(tmp_path):
    space = {"check_every": [1, 8]}
    _, first = compile_sums(tmp_path, space, budget=1)
    study = optuna.load_study(study_name=first["study"]["name"], storage=first["study"]["storage"])
    study.ask()  # a trial left RUNNING, as a kill would leave it
    _, again = compile_sums(tmp_path, space, budget=2)
    states = [t.state for t in trials_of(again)]
    assert states.count(optuna.trial.TrialState.RUNNING) == 0 and states.count(optuna.trial.TrialState.FAIL) == 1


def test_the_recipe_is_kept_when_no_trial_beats_it(tmp_path):
    _, meta = compile_sums(tmp_path, {"check_every": [1, 4]}, budget=3, rule=lambda messages: "no idea")
    assert meta["knobs"]["check_every"][0] == meta["knobs"]["check_every"][1] == 2
    assert meta["scores"]["after"] == meta["scores"]["before"]
    assert "knobs changed: none" in (tmp_path / "out" / "report.md").read_text()


def test_a_trial_that_raises_is_recorded_as_failed_and_the_study_goes_on(tmp_path, monkeypatch):
    from strawberry_dspy.compile import search as search_module

    real = search_module.evaluate

    def flaky(program, *args, **kwargs):
        if program.check.every == 4:
            raise RuntimeError("engine fell over")
        return real(program, *args, **kwargs)

    monkeypatch.setattr(search_module, "evaluate", flaky)
    _, meta = compile_sums(tmp_path, {"check_every": [1, 4]}, budget=4)
    trials = trials_of(meta)
    failed = [t for t in trials if t.state == optuna.trial.TrialState.FAIL]
    assert [t.params["check_every"] for t in failed] == [4] and "engine fell over" in failed[0].user_attrs["error"]
    assert meta["knobs"]["check_every"] == [2, 3]
