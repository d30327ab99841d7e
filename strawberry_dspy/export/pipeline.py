"""The export stage: store -> decontaminate -> band -> render + dedup -> TRL rows -> files (+ card)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from loguru import logger

from strawberry_dspy.errors import UserError
from strawberry_dspy.export.band import by_problem, in_band, pass_rates
from strawberry_dspy.export.card import dataset_card, export_yaml
from strawberry_dspy.export.config import ExportConfig
from strawberry_dspy.export.decontam import decontaminate, eval_questions
from strawberry_dspy.export.formats import dpo_rows, kto_rows, rendered_groups, sft_rows, stepwise_rows
from strawberry_dspy.export.reader import Store, read_store
from strawberry_dspy.export.writer import check_destination, push_to_hub, write_export


@dataclass
class ExportReport:
    """Where the export went and what it holds or left out."""

    out: Path
    rows: int
    counts: dict = field(default_factory=dict)  # traces read, failed, removed per reason, duplicates, rows
    stats: dict = field(default_factory=dict)  # format-specific: pairs, class balance, step labels


def default_out(store: Store, config: ExportConfig) -> Path:
    """<run dir>/exports/<format>-<style>."""
    return store.path.parent / "exports" / f"{config.format}-{config.style}"


def export(directory: str | Path, config: ExportConfig, out: str | Path | None = None,
           overwrite: bool = False) -> ExportReport:
    """Export a harvest store's traces as a TRL-ready dataset with its card; nothing is written on error."""
    config.validate()
    store = read_store(directory)
    out = Path(out) if out else default_out(store, config)
    check_destination(out, overwrite, store.path.parent)
    if not store.traces:
        raise UserError(f"{store.path} holds no finished traces ({store.failed} failed): run `strawberry harvest` "
                        "first, or check why its traces failed")
    spec = config.decontam_benchmark or store.meta.get("benchmark")
    if not spec:
        raise UserError(f"{store.path} does not name its benchmark: pass --decontam-benchmark SPEC")
    reference = eval_questions(spec, config.eval_splits, config.decontam_limit)
    clean = decontaminate(store.problems, config.eval_splits, reference, config.ngram, config.ngram_threshold)
    groups = by_problem([t for t in store.traces if t.problem_id in clean.kept])
    selected = in_band(groups, config.band)
    if not selected:
        rates = sorted(pass_rates(groups).values())
        seen = f"pass rates from {rates[0]:.2f} to {rates[-1]:.2f}" if rates else "no problems left after decontamination"
        raise UserError(f"--band {config.band[0]} {config.band[1]} selects no problem ({seen}): widen the band")
    counts = {
        "traces": len(store.traces) + store.failed, "failed_skipped": store.failed,
        "problems": len(store.problems), "eval_questions_checked": clean.reference,
        "decontaminated": clean.counts(), "problems_in_band": len(selected),
    }
    stats: dict = {}
    rendered = rendered_groups(selected, store.problems, config, stats)
    if config.format == "sft":
        rows = sft_rows(rendered, config, stats)
    elif config.format == "dpo":
        rows = dpo_rows(rendered, config, stats)
    elif config.format == "kto":
        rows = kto_rows(rendered, config, stats)
    else:
        rows = stepwise_rows(rendered, store.problems, config, stats)
    counts["duplicates_dropped"], counts["empty_skipped"] = stats.pop("duplicates"), stats.pop("empty")
    counts["rows"] = len(rows)
    card = dataset_card(config, store.meta, counts, stats, str(store.path), store.meta_json("versions_json"))
    write_export(out, rows, config.to, {"README.md": card, "export.yaml": export_yaml(config, str(store.path))},
                 overwrite, store.path.parent)
    logger.info("exported {} {} rows to {}", len(rows), config.format, out)
    if config.push_to_hub:
        push_to_hub(config.push_to_hub, rows, card)
        logger.info("pushed to the Hub dataset {}", config.push_to_hub)
    return ExportReport(out, len(rows), counts, stats)
