"""The stages of one bootstrap round, each a thin call into the stage module that does the work.

compile -> baseline (the round's starting model on held-out test) -> harvest (train split) -> export (the
band, in the train method's format) -> train -> eval (the new model on the same held-out problems) ->
advance (the next round's model and difficulty level). Each returns the JSON its done marker records.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

import dspy
from loguru import logger

from strawberry_dspy.band import pass_rate
from strawberry_dspy.bootstrap.curriculum import next_level
from strawberry_dspy.bootstrap.settings import COMPILE_DEV_LIMIT, COMPILE_TEST_LIMIT, EXPORT_FORMAT, BootstrapSettings
from strawberry_dspy.config import RunConfig, load_config
from strawberry_dspy.harvest.harvest_dir import program_hash
from strawberry_dspy.harvest.selection import tallies
from strawberry_dspy.program_file import load_program_file


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

    def stage_dir(self, stage: str) -> Path:
        return self.dir / stage


def round_program(ctx: RoundContext, split: str, limit: int, model: str | None = None,
                  temperature: float | None = None) -> tuple[RunConfig, dspy.Module | None]:
    """The round's program (compiled this round, or the recipe) on a split, with a model."""
    path = ctx.done.get("compile", {}).get("program", ctx.settings.program)
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
    from strawberry_dspy.compile import CompileOptions, compile_program

    config = load_config(settings.program, {**settings.overrides, "model": ctx.model, "benchmark": ctx.benchmark})
    options = CompileOptions(optimizer="search", budget=settings.compile_budget, dev_limit=COMPILE_DEV_LIMIT,
                             test_limit=COMPILE_TEST_LIMIT, out=ctx.stage_dir("compile"))
    compiled, meta = compile_program(settings.program, config, options, progress=ctx.progress)
    scores = meta["scores"]
    return {"program": str(compiled), "knobs": meta["knobs"], "dev_before": scores["before"]["dev"]["value"],
            "dev_after": scores["after"]["dev"]["value"], "lm_calls": meta["lm_calls"]["total"]}


def _evaluate(ctx: RoundContext, stage: str, model: str) -> dict:
    """The program with `model` on the held-out test split: a run directory and its accuracy."""
    from strawberry_dspy.run import run

    config, program = round_program(ctx, "test", ctx.settings.eval_limit, model=model)
    out, summary, _ = run(config, ctx.stage_dir(stage) / "run", program, progress=ctx.progress)
    return {"model": model, "benchmark": ctx.benchmark, "program_hash": program_hash(config, program),
            "correct": summary["correct"], "problems": summary["problems"], "accuracy": summary["accuracy"],
            "completion_tokens": summary["completion_tokens"], "run": str(out)}


def baseline_stage(ctx: RoundContext) -> dict:
    """The round's starting model on held-out test, once: a previous round's eval of the same model is reused."""
    earlier = ctx.previous.get("eval")
    if earlier and earlier["model"] == ctx.model and earlier["benchmark"] == ctx.benchmark:
        config, program = round_program(ctx, "test", ctx.settings.eval_limit)
        if earlier["program_hash"] == program_hash(config, program):
            logger.info("round {} baseline: the previous round evaluated {} already", ctx.number, ctx.model)
            return {**earlier, "reused": f"round-{ctx.number - 1}/eval", "completion_tokens": 0}
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
            "in_band": summary.in_band, "completion_tokens": summary.completion_tokens,
            "temperature": config.temperature}


def _trainable(counts: list[tuple[int, int]], method: str) -> str | None:
    """Why the in-band problems give the method nothing to train on, or None when they do."""
    if not counts:
        return "no problem in the band"
    if method == "dpo" and not any(0 < c < t for c, t in counts):
        return "no in-band problem has both a correct and an incorrect trace"
    if method in ("sft", "kto") and not sum(c for c, _ in counts):
        return "no correct trace in the band"
    if method == "kto" and not sum(t - c for c, t in counts):
        return "no incorrect trace in the band"
    return None


def export_stage(ctx: RoundContext) -> dict:
    """The band's traces in the train method's format (DPO pairs by default); 'no pairs' is an outcome, not an error."""
    from strawberry_dspy.export import ExportConfig, export

    settings, method = ctx.settings, ctx.settings.recipe.method
    counts = [(c, t) for c, t in tallies(ctx.done["harvest"]["dir"]).values() if settings.band.contains(pass_rate(c, t))]
    reason = _trainable(counts, method)
    if reason:
        logger.warning("round {}: nothing to train on ({}); the model is carried forward", ctx.number, reason)
        return {"rows": 0, "pairs": 0, "problems_in_band": len(counts), "no_data": reason}
    config = ExportConfig(format=EXPORT_FORMAT[method], style=settings.export_style, band=settings.band)
    report = export(ctx.done["harvest"]["dir"], config, ctx.stage_dir("export") / "data", overwrite=True)
    return {"data": str(report.out), "format": config.format, "rows": report.rows,
            "pairs": report.stats.get("pairs", report.rows), "problems_in_band": report.counts["problems_in_band"]}


def train_stage(ctx: RoundContext) -> dict:
    """Fine-tune the round's model on the export; with no data the model is carried forward untrained."""
    from strawberry_dspy.train.convert import MODEL_CARD
    from strawberry_dspy.train.trainer import train

    export = ctx.done["export"]
    if not export["rows"]:
        return {"skipped": f"no {EXPORT_FORMAT[ctx.settings.recipe.method]} data ({export['no_data']})",
                "model": ctx.model}
    recipe = dataclasses.replace(ctx.settings.recipe, base=ctx.model)
    folder = train(recipe, export["data"], ctx.stage_dir("train") / "model", overwrite=True).resolve()
    card = json.loads((folder / MODEL_CARD).read_text())
    return {"model": f"hf:{folder}", "method": recipe.method, "rows": card["rows"], "steps": card["steps"],
            "train_loss": card["train_loss"], "train_s": card["train_s"]}


def eval_stage(ctx: RoundContext) -> dict:
    """The trained model on the same held-out problems as the baseline (an untrained round reuses the baseline)."""
    model = ctx.done["train"]["model"]
    if model == ctx.model:
        return {**ctx.done["baseline"], "reused": "baseline (no training this round)", "completion_tokens": 0}
    return _evaluate(ctx, "eval", model)


def advance_stage(ctx: RoundContext) -> dict:
    """The next round's model (this round's result) and level (one up when held-out accuracy clears the bar)."""
    decision = next_level(ctx.benchmark, ctx.done["eval"]["accuracy"], ctx.settings.level_up_at)
    return {"model": ctx.done["train"]["model"], "benchmark": decision.benchmark, "level": decision.level,
            "leveled_up": decision.leveled_up, "note": decision.note}


STAGES = {"compile": compile_stage, "baseline": baseline_stage, "harvest": harvest_stage, "export": export_stage,
          "train": train_stage, "eval": eval_stage, "advance": advance_stage}
