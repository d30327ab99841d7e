"""`strawberry compile`: optimize a program against the gold answers of the dev split, report before / after on test."""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass
from pathlib import Path

import dspy
import optuna
from dspy.utils.callback import BaseCallback
from loguru import logger

from strawberry_dspy.admission import admit
from strawberry_dspy.benchmarks import load_benchmark
from strawberry_dspy.compile.compiled import (base_program_record, check_compile_output, claim_compile_output,
                                             save_compiled)
from strawberry_dspy.compile.metrics import FeedbackMetric, GoldMetric, to_examples
from strawberry_dspy.compile.objectives import EVALUATION_KEYS, Evaluation, Objective, evaluate
from strawberry_dspy.compile.optimizers import BUDGET_MEANING, OPTIMIZERS, optimize, predictor_state
from strawberry_dspy.compile.report import PLOT_FILE, REPORT_FILE, write_report
from strawberry_dspy.compile.search import search
from strawberry_dspy.compile.space import DEMO_SETS, build_space
from strawberry_dspy.config import ProgramSettings
from strawberry_dspy.errors import UserError
from strawberry_dspy.leaks import demo_record
from strawberry_dspy.models import lm_for, prompt_lm_for
from strawberry_dspy.models.probe import check_answers
from strawberry_dspy.options import option
from strawberry_dspy.program.build import build_program
from strawberry_dspy.provenance import package_versions
from strawberry_dspy.stage_output import RUNS, default_dir, log_to, task_slug

MIN_DEV = 2  # fewer dev problems cannot tell two settings apart
COMPILED_FILE = "compiled.json"


@dataclass
class CompileSettings:
    """What `strawberry compile` does besides the program's own config; each field is a flag (strawberry_dspy/options.py)."""

    optimizer: str = option("search", "; ".join(f"{k}: budget = {v}" for k, v in BUDGET_MEANING.items()),
                            choices=OPTIMIZERS)
    budget: int = option(8, "see --optimizer")
    objective: Objective = dataclasses.field(default_factory=Objective)  # its fields are flags: --objective, --band, --samples
    prompt_model: str | None = option(None, "teacher / proposer / reflection model spec (default: the task model)")
    dev_limit: int = option(20, "dev problems to score on")
    test_limit: int = option(20, "held-out test problems for a final before/after (0: test is not read at all)")
    train_limit: int = option(20, "train problems for bootstrap/mipro/gepa")
    out: str | Path | None = option(None, "output directory, or a path ending in .json",
                                    shown="runs/compiled/<recipe>-<task>-<optimizer>-<hash>")

    def validate(self) -> None:
        """Raise a UserError naming the first broken rule."""
        if self.optimizer not in OPTIMIZERS:
            raise UserError(f"unknown optimizer {self.optimizer!r}: expected one of {', '.join(OPTIMIZERS)}")
        if not isinstance(self.budget, int) or self.budget < 1:
            raise UserError(f"--budget must be >= 1 (for {self.optimizer}: {BUDGET_MEANING[self.optimizer]}), "
                            f"got {self.budget}")
        self.objective.validate()
        if self.objective.name == "band" and self.optimizer != "search":
            raise UserError(f"the band objective needs --optimizer search (DSPy's optimizers score one example at a "
                            f"time), got --optimizer {self.optimizer}")
        for name, least in (("dev_limit", 1), ("test_limit", 0), ("train_limit", 1)):
            if getattr(self, name) < least:
                raise UserError(f"--{name.replace('_', '-')} must be >= {least}, got {getattr(self, name)}")


class LMCallCounter(BaseCallback):
    """Counts every LM call made under it (task and prompt model alike), across threads."""

    def __init__(self):
        self.calls = 0
        self._lock = threading.Lock()

    def on_lm_start(self, call_id, instance, inputs):
        with self._lock:
            self.calls += 1


def default_out_dir(program_path: Path, config: ProgramSettings, options: CompileSettings) -> Path:
    """runs/compiled/<recipe>-<task>-<optimizer>-<hash>: the same compile (any budget) lands, and resumes, in one place."""
    key = {"config": config.to_dict(), "optimizer": options.optimizer, "objective": options.objective.to_dict(),
           "limits": [options.dev_limit, options.test_limit, options.train_limit], "prompt": options.prompt_model}
    return default_dir(f"{program_path.stem}-{task_slug(config.benchmark)}-{options.optimizer}", key,
                       under=RUNS / "compiled")


def output_paths(program_path: Path, config: ProgramSettings, options: CompileSettings) -> tuple[Path, Path]:
    """(output directory, compiled file)."""
    if options.out is None:
        out_dir = default_out_dir(program_path, config, options)
        return out_dir, out_dir / COMPILED_FILE
    out = Path(options.out)
    return (out.parent, out) if out.suffix == ".json" else (out, out / COMPILED_FILE)


def compile_program(program_path: str | Path, config: ProgramSettings, options: CompileSettings,
                    task_lm: dspy.BaseLM | None = None, prompt_lm: dspy.BaseLM | None = None,
                    progress: bool = True) -> tuple[Path, dict]:
    """Compile a recipe: optimize on dev, score before / after on test, save compiled.json and the report."""
    program_path = Path(program_path)
    if program_path.suffix == ".json":
        raise UserError(f"compile takes a program YAML recipe, got {str(program_path)!r}; "
                        "compile the recipe it came from (e.g. programs/strawberry.yaml)")
    options.validate()
    benchmark = load_benchmark(config.benchmark, config.scorer)
    # worked demos a trial may send: the recipe's, and for the loop every demo set the search space offers
    worked = [*config.strawberry.demos, *(d for demos in DEMO_SETS.values() for d in demos
                                          if config.program == "strawberry")]
    dev = admit(benchmark.problems("dev", options.dev_limit), config.max_question_chars, worked=worked).problems
    if len(dev) < MIN_DEV:
        raise UserError(f"the dev split of {config.benchmark} has {len(dev)} problem(s) (--dev-limit "
                        f"{options.dev_limit}); compiling needs >= {MIN_DEV}: raise --dev-limit or use a larger benchmark")
    test = admit(benchmark.problems("test", options.test_limit), config.max_question_chars, worked=worked).problems
    if not test and options.test_limit:
        raise UserError(f"the test split of {config.benchmark} is empty; use a larger benchmark")
    train = (admit(benchmark.problems("train", options.train_limit), config.max_question_chars, worked=worked).problems
             if options.optimizer != "search" else [])
    if options.optimizer != "search" and not train:
        raise UserError(f"the train split of {config.benchmark} is empty, and {options.optimizer} learns from it; "
                        "use a larger benchmark or --optimizer search")
    space = build_space(config) if options.optimizer == "search" else None  # bad `search:` fails before any LM call
    out_dir, compiled_path = output_paths(program_path, config, options)
    file_form = options.out is not None and Path(options.out).suffix == ".json"
    side_files = [REPORT_FILE, PLOT_FILE]
    check_compile_output(out_dir, compiled_path, file_form, side_files, program_path)  # before the model loads
    # the models before the folder: one that cannot load, or does not answer a first request, leaves nothing behind
    if task_lm is None:
        task_lm = lm_for(config)
        check_answers(task_lm, config.model, "compile")
    if prompt_lm is None and options.prompt_model:
        prompt_lm = prompt_lm_for(config, options.prompt_model)
        check_answers(prompt_lm, options.prompt_model, "compile")
    claim_compile_output(out_dir, compiled_path, file_form, side_files, program_path)
    with log_to(out_dir / "compile.log"):
        return _compile(program_path, config, options, benchmark, train, dev, test, space, task_lm, prompt_lm,
                        out_dir, compiled_path, progress)


def _compile(program_path, config, options, benchmark, train, dev, test, space, task_lm, prompt_lm, out_dir,
             compiled_path, progress) -> tuple[Path, dict]:
    objective = options.objective

    def score(program: dspy.Module, problems, what: str, program_config: ProgramSettings = config) -> Evaluation:
        logger.info("scoring {} ({} problems x {} samples)", what, len(problems), objective.samples)
        return evaluate(program, problems, benchmark, task_lm, objective, config.concurrency, config.seed,
                        what if progress else False, config=program_config)  # one labelled bar per stage

    base_program = build_program(config)
    before = {"dev": score(base_program, dev, "the recipe on dev")}
    logger.info("{} {} with {}, budget {} ({})", "compiling" if options.optimizer != "search" else "searching",
                program_path, options.optimizer, options.budget, BUDGET_MEANING[options.optimizer])
    study, knobs = None, {}
    counter = LMCallCounter()
    if options.optimizer == "search":
        result = search(config, space, objective, dev, benchmark, task_lm, options.budget, out_dir, before["dev"], progress)
        compiled_config, optimize_calls = result.config, result.lm_calls
        compiled_program = build_program(compiled_config)
        study = optuna.load_study(study_name=result.study_name, storage=result.storage)
        knobs = {name: [space.base[name], result.params[name]] for name in space.base}
        chosen_trial = _trial_with(study, result.params)
    else:
        metric, feedback = GoldMetric(benchmark, train + dev), FeedbackMetric(benchmark, train + dev)
        with dspy.context(callbacks=[*dspy.settings.get("callbacks", []), counter]):
            compiled_program = optimize(options.optimizer, base_program, to_examples(train, config.seed),
                                        to_examples(dev, config.seed), metric, feedback, options.budget, task_lm,
                                        prompt_lm, config.concurrency, config.seed, config.max_reply_chars)
        compiled_config, optimize_calls, chosen_trial = config, counter.calls, None
    test_reads = 0  # every choice above read dev; test is read only for the final figures, and counted
    if test:
        before["test"] = score(base_program, test, "the recipe on test")
        test_reads += 1
    evaluate_calls = sum(e.lm_calls for e in before.values())
    unchanged = options.optimizer == "search" and all(a == b for a, b in knobs.values())
    after, rejected = dict(before), None
    if not unchanged:
        after_dev = _trial_evaluation(chosen_trial)
        if after_dev is None:
            after_dev = score(compiled_program, dev, "the compiled program on dev", compiled_config)
            evaluate_calls += after_dev.lm_calls
        if _as_dict(after_dev)["value"] < before["dev"].value:  # an optimizer made it worse: keep the recipe
            rejected = _as_dict(after_dev)
            logger.warning("the {} program scores {:.3g} on dev, below the recipe's {:.3g}: keeping the recipe",
                           options.optimizer, rejected["value"], before["dev"].value)
            compiled_program, compiled_config = base_program, config
        else:
            after = {"dev": after_dev}
            if test:
                after["test"] = score(compiled_program, test, "the compiled program on test", compiled_config)
                evaluate_calls += after["test"].lm_calls
                test_reads += 1
    saved_config = dataclasses.replace(compiled_config, split="test", limit=len(test) or compiled_config.limit)
    meta = {
        "base_program": base_program_record(program_path),
        "model": config.model,
        "prompt_model": options.prompt_model,
        "benchmark": config.benchmark,
        "scorer": config.scorer,
        "splits": {**({"train": len(train)} if train else {}), "dev": len(dev), "test": len(test)},
        "problem_ids": {"dev": [p.id for p in dev], "test": [p.id for p in test]},
        # the problems its demos came from (question or answer in a demo): run / harvest / export leave them out
        "demo_problems": demo_record(compiled_program, train + dev + test),
        "seed": config.seed,
        "optimizer": options.optimizer,
        "budget": options.budget,
        "budget_meaning": BUDGET_MEANING[options.optimizer],
        "objective": objective.to_dict(),
        "objective_text": objective.describe(),
        "lm_calls": {"optimize": optimize_calls, "evaluate": evaluate_calls, "total": optimize_calls + evaluate_calls},
        "scores": {k: {split: _as_dict(e) for split, e in v.items()} for k, v in (("before", before), ("after", after))},
        "knobs": knobs,
        "test_reads": test_reads,  # evaluations on the test split (none of them chose anything)
        "rejected": rejected,  # the optimizer's program when it scored below the recipe on dev (then not saved)
        "predictors": predictor_state(compiled_program),
        "predictors_before": predictor_state(base_program),
        "study": ({"name": study.study_name, "storage": f"sqlite:///{(out_dir / 'study.sqlite').resolve()}",
                   "trials": len(study.trials)} if study is not None else None),
        "versions": package_versions(),
    }
    save_compiled(compiled_path, compiled_program, saved_config, meta)
    write_report(out_dir, meta, study)
    logger.info("compiled program: {}", compiled_path)
    return compiled_path, meta


def _trial_with(study: optuna.Study, params: dict):
    """The completed trial that scored these params (None: the recipe itself, or not in the study)."""
    for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
        if trial.params == params and "value" in trial.user_attrs:
            return trial
    return None


def _trial_evaluation(trial) -> dict | None:
    """A trial's stored evaluation: its dev score needs no second run."""
    return None if trial is None else {k: trial.user_attrs.get(k) for k in EVALUATION_KEYS}


def _as_dict(evaluation) -> dict:
    return evaluation if isinstance(evaluation, dict) else evaluation.to_dict()
