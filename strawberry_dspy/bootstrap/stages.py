"""The stages of one bootstrap round, each a thin call into the stage module that does the work.

compile -> baseline (the round's starting model on held-out test, K samples a problem) -> harvest (train
split) -> export-FORMAT (the band, in each format an arm trains on) -> per arm: train-ARM, dev-ARM (the
trained model on dev: the only figure any choice reads) and eval-ARM (on the same held-out problems as the
baseline) -> advance (the next round's model: the arm best on dev; its level: one up when that arm's dev
accuracy clears the bar). The test split is read only by baseline and eval-ARM, and the markers count it.
Each stage returns the JSON its done marker records.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from dataclasses import dataclass, field
from pathlib import Path

import dspy
from loguru import logger

from strawberry_dspy.band import pass_rate
from strawberry_dspy.bootstrap.curriculum import next_level
from strawberry_dspy.bootstrap.settings import ARMS, COMPILE_DEV_LIMIT, EXPORT_FORMAT, TRAIN_METHOD, BootstrapSettings
from strawberry_dspy.config import ProgramSettings, load_config
from strawberry_dspy.errors import UserError
from strawberry_dspy.harvest.harvest_dir import program_hash
from strawberry_dspy.harvest.selection import tallies
from strawberry_dspy.program_file import load_program_file
from strawberry_dspy.train.recipe import TrainSettings


@dataclass
class RoundContext:
    """One round's inputs and the markers of its finished stages."""

    settings: BootstrapSettings
    number: int
    dir: Path
    model: str  # the round's starting model spec
    benchmark: str  # the round's benchmark spec (its difficulty level)
    level: int | None
    progress: bool = True
    done: dict[str, dict] = field(default_factory=dict)  # stage -> marker, this round
    previous: dict[str, dict] = field(default_factory=dict)  # stage -> marker, the round before
    arms: list[str] = field(default_factory=list)  # the arms this round trains (round 1: all; later: the winner)

    def stage_dir(self, stage: str) -> Path:
        return self.dir / stage


def round_program(ctx: RoundContext, split: str, limit: int, model: str | None = None,
                  temperature: float | None = None) -> tuple[ProgramSettings, dspy.Module | None]:
    """The round's program (compiled this round, or the recipe) on a split, with a model."""
    compiled = ctx.done.get("compile", {})
    # a skipped compile names the recipe as it was then: the loop's own program now (the identity checks its text)
    path = ctx.settings.program if "skipped" in compiled else compiled.get("program", ctx.settings.program)
    overrides = {**ctx.settings.overrides, "model": model or ctx.model, "benchmark": ctx.benchmark,
                 "split": split, "limit": limit}
    config, program = load_program_file(path, overrides)
    if temperature is not None:
        config.set_temperature(temperature)
    return config, program


def compile_stage(ctx: RoundContext) -> dict:
    """A small knob search of the recipe for this round's model and level (skipped with --no-compile)."""
    settings = ctx.settings
    if not settings.compile_budget:
        return {"skipped": "--no-compile", "program": settings.program}
    from strawberry_dspy.compile import CompileSettings, compile_program

    config = load_config(settings.program, {**settings.overrides, "model": ctx.model, "benchmark": ctx.benchmark})
    options = CompileSettings(optimizer="search", budget=settings.compile_budget, dev_limit=COMPILE_DEV_LIMIT,
                              test_limit=0, out=ctx.stage_dir("compile"))  # choices read dev only
    compiled, meta = compile_program(settings.program, config, options, progress=ctx.progress)
    scores = meta["scores"]
    return {"program": str(compiled), "knobs": meta["knobs"], "dev_before": scores["before"]["dev"]["value"],
            "dev_after": scores["after"]["dev"]["value"], "lm_calls": meta["lm_calls"]["total"]}


def _evaluate(ctx: RoundContext, stage: str, model: str, split: str = "test") -> dict:
    """The program with `model` on held-out test (K samples a problem) or on dev (one): a run directory, its accuracy."""
    from strawberry_dspy.run import run

    settings = ctx.settings
    limit, samples = (settings.eval_limit, settings.eval_samples) if split == "test" else (settings.dev_limit, 1)
    config, program = round_program(ctx, split, limit, model=model)
    out, summary, _ = run(config, ctx.stage_dir(stage) / "run", program, progress=ctx.progress, samples=samples)
    return {"model": model, "benchmark": ctx.benchmark, "split": split, "program_hash": program_hash(config, program),
            "correct": summary["correct"], "problems": summary["problems"], "traces": summary["traces"],
            "samples": samples, "accuracy": summary["accuracy"], "accuracy_ci": summary["accuracy_ci"],
            "trivial": summary["trivial"], "completion_tokens": summary["completion_tokens"], "run": str(out),
            "test_reads": int(split == "test")}


def baseline_stage(ctx: RoundContext) -> dict:
    """The round's starting model on held-out test, once: a previous round's eval of the same model is reused."""
    arm = ctx.previous.get("advance", {}).get("arm")
    earlier = ctx.previous.get(f"eval-{arm}")
    if earlier and earlier["model"] == ctx.model and earlier["benchmark"] == ctx.benchmark:
        config, program = round_program(ctx, "test", ctx.settings.eval_limit)
        if earlier["program_hash"] == program_hash(config, program):
            logger.info("round {} baseline: the previous round evaluated {} already", ctx.number, ctx.model)
            return {**earlier, "reused": f"round-{ctx.number - 1}/eval-{arm}", "completion_tokens": 0, "test_reads": 0}
    return _evaluate(ctx, "baseline", ctx.model)


def harvest_stage(ctx: RoundContext) -> dict:
    """K samples per train problem with the round's model (resumes a harvest cut short)."""
    from strawberry_dspy.harvest import harvest

    settings = ctx.settings
    config, program = round_program(ctx, "train", settings.limit, temperature=settings.temperature)
    summary = harvest(config, ctx.stage_dir("harvest"), samples=settings.samples, program=program,
                      band=settings.band, progress=ctx.progress)
    if summary.interrupted:  # no marker: the rerun resumes the store
        raise KeyboardInterrupt
    return {"dir": str(summary.out), "problems": summary.problems, "samples": summary.samples,
            "traces": summary.traces, "failed": summary.failed, "pass_rate": summary.pass_rate,
            "in_band": summary.in_band, "correct": round(summary.pass_rate * summary.traces),
            "completion_tokens": summary.completion_tokens, "temperature": config.temperature}


def _trainable(counts: list[tuple[int, int]], method: str) -> str | None:
    """Why the in-band problems give the method nothing to train on, or None when they do."""
    if not counts:
        return "no problem in the band"
    if method == "dpo" and not any(0 < c < t for c, t in counts):
        return "no in-band problem has both a correct and an incorrect trace"
    if method in ("sft", "rft", "kto") and not sum(c for c, _ in counts):
        return "no correct trace in the band"
    if method == "kto" and not sum(t - c for c, t in counts):
        return "no incorrect trace in the band"
    return None


def export_stage(ctx: RoundContext, fmt: str) -> dict:
    """The band's traces in one format an arm trains on; 'no rows' is an outcome, not an error.

    Test and dev problems (and any written differently: the expression check) never reach it; DPO pairs are
    resampled by the seed's step weight (shorter correct, longer incorrect traces weigh more).
    """
    from strawberry_dspy.export import ExportSettings, export

    settings, name = ctx.settings, f"export-{fmt}"
    fmt, _, variant = fmt.partition("-")  # sft-checked: the SFT rows of the correct traces whose steps hold
    counts = [(c, t) for c, t in tallies(ctx.done["harvest"]["dir"]).values() if settings.band.contains(pass_rate(c, t))]
    reason = _trainable(counts, fmt)
    if reason:
        logger.warning("round {}: nothing to export as {} ({})", ctx.number, fmt, reason)
        return {"rows": 0, "pairs": 0, "problems_in_band": len(counts), "no_data": reason, "format": fmt}
    # decontaminated against the held-out and dev problems this loop evaluates on (a small task's test split can
    # hold more distinct expressions than the loop ever reads: those train problems stay)
    config = ExportSettings(format=fmt, style=settings.export_style, band=settings.band, eval_splits=["test", "dev"],
                            resample=settings.resample if fmt == "dpo" else 0.0, steps_hold=variant == "checked",
                            decontam_limit=max(settings.eval_limit, settings.dev_limit))
    try:
        report = export(ctx.done["harvest"]["dir"], config, ctx.stage_dir(name) / "data", overwrite=True)
    except UserError as error:  # decontamination left no row to train on: an outcome of the round, said in its marker
        logger.warning("round {}: nothing to export as {} ({})", ctx.number, fmt, error)
        return {"rows": 0, "pairs": 0, "problems_in_band": len(counts), "no_data": str(error), "format": fmt}
    return {"data": str(report.out), "format": fmt, "rows": report.rows,
            "pairs": report.stats.get("pairs", report.rows), "problems_in_band": report.counts["problems_in_band"],
            "decontaminated": report.counts["decontaminated"],
            **({"steps_wrong": report.counts["steps_wrong"]} if variant == "checked" else {})}


def train_stage(ctx: RoundContext, arm: str) -> dict:
    """Fine-tune the round's model by the arm's steps; a step without data carries the model forward untrained.

    rft+dpo starts its DPO step from the rft arm's model when this round trained one (the same SFT, not twice).
    """
    from strawberry_dspy.train.convert import MODEL_CARD
    from strawberry_dspy.train.trainer import train

    model, done, steps = ctx.model, [], list(ARMS[arm])
    if len(steps) > 1 and "train-" + steps[0] in ctx.done and ctx.done["train-" + steps[0]].get("trained"):
        model, done = ctx.done["train-" + steps[0]]["model"], [{"method": steps[0], "reused": f"train-{steps[0]}"}]
        steps = steps[1:]
    for step in steps:
        export, method = ctx.done[f"export-{EXPORT_FORMAT[step]}"], TRAIN_METHOD.get(step, step)
        if not export["rows"]:
            done.append({"method": method, "skipped": f"no {export['format']} data ({export['no_data']})"})
            continue
        template = ctx.settings.recipe  # its trl: keys belong to its own trainer (loss_type means other things to SFT)
        same = TrainSettings(method=method).trainer == template.trainer
        recipe = dataclasses.replace(template, method=method, base=model, trl=template.trl if same else {},
                                     rpo_alpha=template.rpo_alpha if method == "dpo" else 0.0)
        folder = train(recipe, export["data"], ctx.stage_dir(f"train-{arm}") / f"model-{method}", overwrite=True).resolve()
        card = json.loads((folder / MODEL_CARD).read_text())
        model = f"hf:{folder}"
        done.append({"method": method, "rows": card["rows"], "steps": card["steps"], "train_loss": card["train_loss"],
                     "train_s": card["train_s"], "rpo_alpha": recipe.rpo_alpha})
    trained = model != ctx.model
    return {"model": model, "arm": arm, "trained": trained, "steps": done,
            **({} if trained else {"skipped": "; ".join(s.get("skipped", "") for s in done)})}


def dev_stage(ctx: RoundContext, arm: str) -> dict:
    """The arm's model on dev (one sample a problem): what the choice of arm and the level-up read."""
    return _evaluate(ctx, f"dev-{arm}", ctx.done[f"train-{arm}"]["model"], split="dev")


def eval_stage(ctx: RoundContext, arm: str) -> dict:
    """The arm's model on the baseline's held-out problems and seeds (an untrained arm reuses the baseline)."""
    model = ctx.done[f"train-{arm}"]["model"]
    if model == ctx.model:
        return {**ctx.done["baseline"], "reused": "baseline (not trained)", "completion_tokens": 0, "test_reads": 0}
    return _evaluate(ctx, f"eval-{arm}", model)


def advance_stage(ctx: RoundContext) -> dict:
    """The next round's model (the arm best on dev) and level (one up when its dev accuracy clears the bar)."""
    arms = ctx.arms
    best = max(arms, key=lambda arm: (ctx.done[f"dev-{arm}"]["accuracy"], -arms.index(arm)))
    decision = next_level(ctx.benchmark, ctx.done[f"dev-{best}"]["accuracy"], ctx.settings.level_up_at)
    return {"arm": best, "model": ctx.done[f"train-{best}"]["model"], "benchmark": decision.benchmark,
            "level": decision.level, "leveled_up": decision.leveled_up,
            "note": f"{best} continues (best on dev); {decision.note}",
            "dev": {arm: ctx.done[f"dev-{arm}"]["accuracy"] for arm in arms}}


def stage_plan(ctx: RoundContext) -> list[tuple[str, object]]:
    """The round's stages in order: shared ones, one export per format the arms read, then each arm's train/dev/eval."""
    plan: list[tuple[str, object]] = [("compile", compile_stage), ("baseline", baseline_stage),
                                      ("harvest", harvest_stage)]
    formats = list(dict.fromkeys(EXPORT_FORMAT[m] for arm in ctx.arms for m in ARMS[arm]))
    plan += [(f"export-{fmt}", functools.partial(export_stage, fmt=fmt)) for fmt in formats]
    for arm in ctx.arms:
        plan += [(f"train-{arm}", functools.partial(train_stage, arm=arm)),
                 (f"dev-{arm}", functools.partial(dev_stage, arm=arm)),
                 (f"eval-{arm}", functools.partial(eval_stage, arm=arm))]
    return plan + [("advance", advance_stage)]
