"""The export stage: store -> decontaminate -> band -> render + dedup -> TRL rows -> files (+ card).

The stages are generators chained problem by problem: the store streams one problem's traces at a time and each
row is written as it is made, so memory does not grow with the store (DPO keeps one small length pair per row).
"""

from __future__ import annotations

import gc
import json
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable, Iterator

from loguru import logger
from tqdm import tqdm

from strawberry_dspy.band import Band
from strawberry_dspy.errors import UserError
from strawberry_dspy.export.card import dataset_card, export_yaml, public_store
from strawberry_dspy.export.config import ExportSettings
from strawberry_dspy.export.decontam import decontaminate, eval_questions
from strawberry_dspy.export.formats import ROWS, rendered_groups
from strawberry_dspy.export.writer import check_destination, push_to_hub, write_export
from strawberry_dspy.scoring.steps import StepCheck, check_text
from strawberry_dspy.store import DEMO_LEAKS_META, ProblemRow, StoredTrace, TraceStore




def meta_kinds(config: ExportSettings) -> tuple[str, ...]:
    """The turn kinds whose meta this export reads: a check reply's answer status (flat style), the system turn's
    worked demos (turns style), and the steps' numbers and verdicts (stepwise labels)."""
    return (("check",) if config.style == "flat" else ("system",)) + (
        ("step", "verify") if config.format == "stepwise" else ())


@dataclass
class ExportReport:
    """Where the export went and what it holds or left out."""

    out: Path
    rows: int
    counts: dict = field(default_factory=dict)  # traces read, failed, removed per reason, duplicates, rows
    stats: dict = field(default_factory=dict)  # format-specific: pairs, class balance, step labels


def default_out(store_file: Path, config: ExportSettings) -> Path:
    """<run dir>/exports/<format>-<style>."""
    return store_file.parent / "exports" / f"{config.format}-{config.style}"


def select(store: TraceStore, kept: set[str], band: Band | None) -> list[str]:
    """Ids of the kept problems in the band (None: the one the harvest used), from the pass rates alone: an
    export reads the turns of these problems only."""
    return [pid for pid in store.in_band(band) if pid in kept]


def unflagged(groups: Iterable[tuple[ProblemRow, list[StoredTrace]]], flagged_traces: set[int],
              counts: dict | None = None) -> Iterator[tuple[ProblemRow, list[StoredTrace]]]:
    """Each problem without its traces a reviewer flagged (`strawberry review`); a problem left with none is skipped.

    counts: its "traces" entry counts the traces left out.
    """
    for problem, traces in groups:
        kept = [t for t in traces if t.id not in flagged_traces]
        if counts is not None:
            counts["traces"] += len(traces) - len(kept)
        if kept:
            yield problem, kept


def steps_that_hold(groups: Iterable[tuple[ProblemRow, list[StoredTrace]]],
                    counts: dict) -> Iterator[tuple[ProblemRow, list[StoredTrace]]]:
    """Each problem without its correct traces whose steps write an equation that does not hold (a right answer
    reached through a wrong step); counts["steps_wrong"] counts them. Incorrect traces stay (DPO's rejected side)."""
    for problem, traces in groups:
        kept = [t for t in traces if not (t.correct and steps_check(t).holds is False)]
        counts["steps_wrong"] += len(traces) - len(kept)
        if kept:
            yield problem, kept


def steps_check(trace: StoredTrace) -> StepCheck:
    """The equations of a trace's step turns, checked."""
    return sum((check_text(t.content) for t in trace.turns if t.role == "assistant" and t.kind == "step"),
               start=StepCheck())


def export(directory: str | Path, config: ExportSettings, out: str | Path | None = None,
           overwrite: bool = False) -> ExportReport:
    """Export a harvest store's traces as a TRL-ready dataset with its card; nothing is written on error."""
    config.validate()
    with TraceStore.open(directory, readonly=True) as store:
        return _export(store, config, out, overwrite)


def _export(store: TraceStore, config: ExportSettings, out: str | Path | None, overwrite: bool) -> ExportReport:
    config = replace(config, band=store.selection_band(config.band))  # the card names the band used
    meta = store.meta()
    out = Path(out) if out else default_out(store.path, config)
    check_destination(out, overwrite, store.path.parent)
    traces, failed, _ = store.outcomes()
    if traces == failed:
        raise UserError(f"{store.path} holds no finished traces ({failed} failed): run `strawberry harvest` "
                        "first, or check why its traces failed")
    spec = config.decontam_benchmark or meta.get("benchmark")
    if not spec:
        raise UserError(f"{store.path} does not name its benchmark: pass --decontam-benchmark SPEC")
    reference = eval_questions(spec, config.eval_splits, config.decontam_limit)
    problems = {p.id: p for p in store.problems()}
    demo_qhashes = set(json.loads(meta.get(DEMO_LEAKS_META) or "[]"))
    if config.demos:  # imported here: loading a program imports dspy, which an export otherwise never needs
        from strawberry_dspy.program_file import leaked_by_files

        demo_qhashes |= leaked_by_files(config.demos, list(problems.values()))
    clean = decontaminate(problems, config.eval_splits, reference, config.ngram, config.ngram_threshold, demo_qhashes)
    if clean.removed["demo"]:
        logger.warning("removed {} problem(s) whose question is in the harvested program's demos (answer leaks)",
                       len(clean.removed["demo"]))
    counts = {
        "traces": traces, "failed_skipped": failed,
        "problems": len(problems), "eval_questions_checked": clean.reference,
        "decontaminated": clean.counts(), "problems_in_band": 0,
    }
    stats: dict = {}
    # a reviewer's flags: the band still reads every trace (how hard the problem was), the rows leave flagged ones out
    flagged_problems, flagged_traces = store.flagged()
    in_band_ids = select(store, clean.kept, config.band)
    chosen = [pid for pid in in_band_ids if pid not in flagged_problems]
    counts["flagged"] = flagged = {"problems": len(in_band_ids) - len(chosen), "traces": 0}
    if config.steps_hold:
        counts["steps_wrong"] = 0
    groups = tqdm(store.by_problem(meta_kinds(config), chosen, thinking=config.thinking != "off"), desc="export",
                  unit="problem", disable=None, leave=False, total=len(chosen))

    def in_band() -> Iterator[tuple[ProblemRow, list[StoredTrace]]]:
        kept = unflagged(groups, flagged_traces, flagged)
        for group in steps_that_hold(kept, counts) if config.steps_hold else kept:
            counts["problems_in_band"] += 1
            yield group
        if not counts["problems_in_band"]:  # before the format's own complaint about having no rows
            rates = {pid: r for pid, r in store.pass_rates().items() if r is not None and pid in clean.kept}
            error = _nothing_selected(config, rates, clean.counts(), len(problems), len(clean.kept))
            if flagged["problems"] or flagged["traces"]:
                error = UserError(f"{error} ({flagged['problems']} problem(s) and {flagged['traces']} trace(s) are "
                                  "flagged: strawberry review DIR --list)")
            raise error

    def provenance(rows: int) -> dict[str, str]:  # written after the rows, when the counts are final
        counts["duplicates_dropped"], counts["empty_skipped"] = stats.pop("duplicates"), stats.pop("empty")
        if missing := stats.pop("demos_missing"):
            logger.warning("{} trace(s) were harvested before worked demos were recorded: their prompts lack the "
                           "demos the program sent (harvest again to export them as sent)", missing)
        counts["rows"] = rows
        files["README.md"] = dataset_card(config, meta, counts, stats, str(store.path), store.meta_json("versions_json"))
        files["export.yaml"] = export_yaml(config, str(store.path))
        return files

    files: dict[str, str] = {}
    with _gc_paused() if config.to == "jsonl" else nullcontext():  # the others hand every row to datasets
        rows = write_export(out, ROWS[config.format](rendered_groups(in_band(), config, stats), config, stats),
                            config.to, provenance, overwrite, store.path.parent)
    logger.info("exported {} {} rows to {}", rows, config.format, out)
    if repo := config.push_to_hub:
        store_name = str(store.path)
        texts = {"README.md": dataset_card(config, meta, counts, stats, store_name, store.meta_json("versions_json"),
                                           repo=repo),
                 "export.yaml": export_yaml(config, public_store(store_name))}
        url = push_to_hub(repo, out, config.to, texts, private=config.private)
        logger.info("pushed to the Hub dataset {} ({})", repo, url)
    return ExportReport(out, rows, counts, stats)


def _nothing_selected(config: ExportSettings, rates: dict, removed: dict[str, int], problems: int,
                      kept: int) -> UserError:
    """Why no problem reached the export, with the fix that fits: decontamination, failures, or the band."""
    lo, hi = config.band
    if not kept:
        reasons = ", ".join(f"{n} by {reason}" for reason, n in removed.items() if n)
        return UserError(f"decontamination removed all {problems} problem(s) of the store ({reasons}): nothing is "
                         "left to export; harvest problems of the train split (the test split never reaches a "
                         "training export), or check --decontam-benchmark")
    if not rates:
        return UserError(f"none of the {kept} problem(s) left after decontamination has a finished trace: rerun "
                         "the harvest (it samples failed traces again)")
    seen = f"pass rates from {min(rates.values()):.2f} to {max(rates.values()):.2f}"
    return UserError(f"--band {lo:g} {hi:g} selects no problem ({seen}): widen the band to include them")


@contextmanager
def _gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off while the rows stream: the turns read and the rows made hold no reference
    cycles (reference counting frees them), and the collections that their millions of allocations set off were an
    eighth of a large export's time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
