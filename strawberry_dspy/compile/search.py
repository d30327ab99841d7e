"""`--optimizer search`: an optuna study over the program's knobs, scored on the dev split.

The study lives in `study.sqlite` beside the compiled program under a name derived from
everything that makes its scores comparable, so a rerun resumes it (`load_if_exists`) and
`optuna.load_study(study_name=..., storage="sqlite:///.../study.sqlite")` or
`optuna-dashboard sqlite:///.../study.sqlite` can inspect it.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import dspy
import optuna
from loguru import logger
from tqdm import tqdm

from strawberry_dspy.benchmarks import Benchmark, Problem
from strawberry_dspy.compile.objectives import Evaluation, Objective, evaluate
from strawberry_dspy.compile.space import SearchSpace
from strawberry_dspy.config import ProgramSettings
from strawberry_dspy.errors import UserError
from strawberry_dspy.program.build import build_program

STUDY_FILE = "study.sqlite"
FINISHED = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.FAIL, optuna.trial.TrialState.PRUNED)


@dataclass
class SearchResult:
    """The chosen knobs and how the study got there."""

    config: ProgramSettings  # the base config with the chosen knobs
    params: dict  # chosen values as stored in the study (nudge sets by name)
    value: float  # the chosen setting's dev score
    base_value: float
    trials: int  # finished trials in the study, the base included
    lm_calls: int  # spent by this invocation's trials (resumed trials cost nothing again)
    study_name: str
    storage: str


def study_name(config: ProgramSettings, space: SearchSpace, objective: Objective, dev: list[Problem]) -> str:
    """A stable name: same program, model, benchmark, dev problems, objective and space -> same study."""
    key = {"program": config.fingerprint(), "model": config.model, "benchmark": config.benchmark,
           "scorer": config.scorer, "seed": config.seed, "dev": [p.id for p in dev],
           "objective": objective.to_dict(), "space": space.describe()}
    digest = hashlib.sha1(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:12]
    return f"strawberry-{config.program}-{objective.name}-{digest}"


def search(config: ProgramSettings, space: SearchSpace, objective: Objective, dev: list[Problem], benchmark: Benchmark,
           lm: dspy.BaseLM, budget: int, out_dir: Path, base: Evaluation, progress: bool = True) -> SearchResult:
    """Run (or resume) the study until it holds `budget` trials besides the base; return the best knobs."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = f"sqlite:///{(Path(out_dir) / STUDY_FILE).resolve()}"
    name = study_name(config, space, objective, dev)
    study = optuna.create_study(study_name=name, storage=storage, direction="maximize", load_if_exists=True,
                                sampler=make_sampler(space, budget, config.seed))
    for stale in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        study.tell(stale.number, state=optuna.trial.TrialState.FAIL)  # killed mid-trial by an earlier run
    _add_base(study, space, base)
    done = [t for t in study.get_trials(deepcopy=False, states=FINISHED) if not t.user_attrs.get("base")]
    remaining = max(0, budget - len(done))
    if done:
        logger.info("resuming study {}: {} trials done, {} to go", name, len(done), remaining)
    seen = {_key(t.params): t.value for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))}
    spent = [0]

    def run_trial(trial: optuna.Trial) -> float:
        stored = space.suggest(trial)
        if _key(stored) in seen:  # the sampler repeated itself: reuse the score, spend nothing
            trial.set_user_attr("repeat", True)
            return seen[_key(stored)]
        try:
            # no bar per trial: the search stage has one bar, a tick per trial
            evaluation = _evaluate_trial(config, space, stored, objective, dev, benchmark, lm)
        except UserError:
            raise
        except Exception as exc:  # a broken trial is data: recorded as failed, the study goes on
            trial.set_user_attr("error", f"{type(exc).__name__}: {exc}"[:500])
            raise _TrialError(f"trial {trial.number}: {type(exc).__name__}: {exc}") from exc
        spent[0] += evaluation.lm_calls
        for key, value in evaluation.to_dict().items():
            trial.set_user_attr(key, value)
        seen[_key(stored)] = evaluation.value
        return evaluation.value

    bar = tqdm(total=remaining, desc="search", disable=not progress)

    def tick(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        bar.update(1)
        bar.set_postfix(best=f"{max(seen.values()):.3g}" if seen else "-")

    try:
        if remaining:
            study.optimize(run_trial, n_trials=remaining, catch=(_TrialError,), callbacks=[tick])
    finally:
        bar.close()
    params, value = _choose(study, space, base.value)
    finished = len(study.get_trials(deepcopy=False, states=FINISHED))
    return SearchResult(space.apply(config, params), params, value, base.value, finished, spent[0], name, storage)


class _TrialError(Exception):
    """A trial that broke for a reason other than the user's input (recorded as failed)."""


def make_sampler(space: SearchSpace, budget: int, seed: int) -> optuna.samplers.BaseSampler:
    """Small finite spaces are enumerated (no setting tried twice); others get TPE, seeded."""
    size = space.size()
    if size is not None and size <= budget + 1:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.samplers.BruteForceSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed, n_startup_trials=min(10, max(3, budget // 2)))


def _evaluate_trial(config: ProgramSettings, space: SearchSpace, stored: dict, objective: Objective, dev: list[Problem],
                    benchmark: Benchmark, lm: dspy.BaseLM, progress: bool = False) -> Evaluation:
    candidate = space.apply(config, stored)
    try:
        candidate.validate()
    except UserError as exc:
        raise UserError(f"search trial {stored}: {exc}") from None
    return evaluate(build_program(candidate), dev, benchmark, lm, objective, candidate.concurrency, candidate.seed,
                    progress, config=candidate)


def _add_base(study: optuna.Study, space: SearchSpace, base: Evaluation) -> None:
    """Tell the study how the recipe itself scored (no LM calls), once, when its values lie in the space."""
    if any(t.user_attrs.get("base") for t in study.get_trials(deepcopy=False)):
        return
    try:
        trial = optuna.trial.create_trial(params=dict(space.base), distributions=space.distributions(),
                                          value=base.value, user_attrs={"base": True, **base.to_dict()})
    except ValueError:  # a recipe value outside the searched range: the base stays out of the study
        logger.debug("the recipe's knobs lie outside the search space; base not added to the study")
        return
    study.add_trial(trial)


def _choose(study: optuna.Study, space: SearchSpace, base_value: float) -> tuple[dict, float]:
    """The best trial, but the recipe itself unless a trial beats it on dev (ties keep the recipe)."""
    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    best = max(complete, key=lambda t: (t.value, -t.number), default=None)
    if best is None or best.value <= base_value:
        return dict(space.base), base_value
    return dict(best.params), best.value


def _key(params: dict) -> str:
    return json.dumps(params, sort_keys=True, default=str)
