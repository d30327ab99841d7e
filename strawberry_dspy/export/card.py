"""Provenance beside the data: a dataset card (README.md) and the resolved export config (export.yaml)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from strawberry_dspy.export.config import ExportSettings
from strawberry_dspy.export.render import __doc__ as STYLE_NOTES
from strawberry_dspy.export.weighting import __doc__ as WEIGHTING_NOTES
from strawberry_dspy.export.writer import DATA_FILES, hub_data_file
from strawberry_dspy.provenance import package_versions

TRL_TYPES = {
    "sft": ("prompt-completion", "SFTTrainer"),
    "dpo": ("preference (explicit prompt)", "DPOTrainer"),
    "kto": ("unpaired preference", "KTOTrainer"),
    "stepwise": ("stepwise supervision", "a process reward model trainer"),
}


def public_store(store: str) -> str:
    """The store as a published card names it: its harvest folder's name, no local path."""
    path = Path(store)
    return f"{path.parent.name}/{path.name}"


def export_yaml(config: ExportSettings, store: str) -> str:
    """The resolved export config, with the store it read, as YAML."""
    return yaml.safe_dump({"store": store, **config.to_dict()}, sort_keys=False, allow_unicode=True)


def _columns(config: ExportSettings) -> str:
    if config.format == "sft":
        trl = "`messages`" if config.sft_form == "messages" else "`prompt`, `completion`"
        return f"{trl} (conversational); provenance: `problem_id`, `trace_id`"
    if config.format == "dpo":
        return ("`prompt`, `chosen`, `rejected` (conversational); `weight`; provenance: `problem_id`, "
                "`chosen_trace_id`, `rejected_trace_id`, `chosen_steps`, `rejected_steps`")
    if config.format == "kto":
        return "`prompt`, `completion`, `label` (conversational); provenance: `problem_id`, `trace_id`, `steps`"
    return "`prompt`, `completions`, `labels` (standard: TRL has no conversational stepwise form); provenance: `problem_id`, `trace_id`"


def _load_snippet(config: ExportSettings, repo: str | None) -> str:
    if repo:
        return f'from datasets import load_dataset\nds = load_dataset("{repo}", split="train")'
    if config.to == "disk":
        return f'from datasets import load_from_disk\nds = load_from_disk("PATH/{DATA_FILES["disk"]}")'
    kind = "json" if config.to == "jsonl" else "parquet"
    return (f'from datasets import load_dataset\nds = load_dataset("PATH", split="train")  # or:\n'
            f'ds = load_dataset("{kind}", data_files="PATH/{DATA_FILES[config.to]}", split="train")')


def _front_matter(config: ExportSettings, repo: str | None) -> str:
    meta: dict = {"tags": ["trl", "strawberry-dspy", config.format]}
    data_file = hub_data_file(config.to) if repo else DATA_FILES.get(config.to) if config.to != "disk" else None
    if data_file:  # the file this folder or repo really holds
        meta["configs"] = [{"config_name": "default", "data_files": [{"split": "train", "path": data_file}]}]
    return "---\n" + yaml.safe_dump(meta, sort_keys=False) + "---\n"


def _review_line(flagged: dict) -> str:
    problems, traces = flagged.get("problems", 0), flagged.get("traces", 0)
    return (f"Review: {problems} problem(s) of the band and {traces} trace(s) that a reviewer flagged (`strawberry "
            "review`, the Harvest browser) were left out (`flagged`); pass rates, and so the band, still count every "
            "finished trace.")


def dataset_card(config: ExportSettings, meta: dict[str, str], counts: dict, stats: dict, store: str,
                 harvest_versions: dict, repo: str | None = None) -> str:
    """README.md: what the data is, where it came from, what was removed, and how to load it.

    With `repo` it is the card of the Hub copy: `configs` names the repo's data file, the snippet loads the repo,
    and the store is named without its local path.
    """
    if repo:
        store = public_store(store)
    trl_type, trainer = TRL_TYPES[config.format]
    if config.format == "sft" and config.sft_form == "messages":
        trl_type = "language modeling"
    lo, hi = config.band
    lines = [
        _front_matter(config, repo),
        f"# strawberry-dspy {config.format.upper()} export ({config.style} traces)",
        "",
        f"Reasoning traces harvested by the `{meta.get('program', '?')}` program, in TRL's **{trl_type}** type "
        f"for `{trainer}`.",
        "",
        f"Columns: {_columns(config)}.",
        "",
        "```python",
        _load_snippet(config, repo),
        "```",
        "",
        "## Provenance",
        "",
        "| | |",
        "| --- | --- |",
        f"| store | `{store}` |",
        f"| program | `{meta.get('program', '?')}` (hash `{meta.get('program_hash', '?')}`) |",
        f"| model | `{meta.get('model', '?')}` |",
        f"| benchmark | `{meta.get('benchmark', '?')}` |",
        f"| harvested | {meta.get('created_at', '?')} |",
        f"| pass-rate band | [{lo}, {hi}] |",
        f"| style | {config.style} |",
        f"| thinking | {'left out' if config.thinking == 'off' else f'in each assistant message as `{config.thinking}`'} |",
        "",
        "## Counts",
        "",
        "```json",
        json.dumps({**counts, **stats}, indent=2),
        "```",
        "",
        f"Decontamination: problems of the {', '.join(config.eval_splits)} split(s) never reach this export: by stored "
        f"split and hash split, by normalized question hash, by the canonical form of the question's expression (`expression`: the same expression with other spacing, brackets or unary signs), and by {config.ngram}-gram overlap >= "
        f"{config.ngram_threshold} against {counts.get('eval_questions_checked', 0)} evaluation questions of "
        f"`{config.decontam_benchmark or meta.get('benchmark', '?')}`. Problems whose question was in the compiled "
        "program's demos (their answer was in the prompt) are removed too (`demo`). Identical renderings of a "
        "problem's traces are kept once.",
        "",
        _review_line(counts.get("flagged") or {}),
        "",
        *([f"Steps: {counts['steps_wrong']} correct trace(s) whose arithmetic steps write an equation that does not "
           "hold were left out (`--steps-hold`: a right answer reached through a wrong step is not trained on).", ""]
          if "steps_wrong" in counts else []),
        "## Trace style and loss",
        "",
        STYLE_NOTES.strip(),
    ]
    if config.format == "dpo":
        lines += ["", "## Weighting", "", f"weighting: `{config.weighting}`, alpha {config.alpha}, "
                  f"resample factor {config.resample or 'off'}.", "", WEIGHTING_NOTES.strip()]
        if config.resample:
            lines += ["", "Rows are already repeated by weight: do not also apply the `weight` column."]
    if config.format == "kto":
        lines += ["", f"Class balance: {stats.get('desirable')} desirable, {stats.get('undesirable')} undesirable "
                  "(set KTOConfig desirable_weight / undesirable_weight so that desirable_weight x desirable / "
                  "(undesirable_weight x undesirable) is in [1, 4/3])."]
    if config.format == "stepwise":
        lines += ["", "**The step labels are the verifier's verdicts (the same kind of model judging a window of "
                  "steps), not gold labels.** An 'incorrect' verdict marks every step of its window False; each row "
                  "keeps the longest prefix of steps that a decisive verdict covers."]
    lines += ["", "## Package versions", "", "```json",
              json.dumps({"export": package_versions(), "harvest": harvest_versions}, indent=2), "```", ""]
    return "\n".join(lines)
