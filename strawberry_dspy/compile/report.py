"""The compile report: a before / after table on dev and the held-out test split, and the optuna history plot."""

from __future__ import annotations

import warnings
from pathlib import Path

from strawberry_dspy.report import format_grid, format_table

PLOT_FILE = "optuna_history.png"
REPORT_FILE = "report.md"


def _score(evaluation: dict, objective: dict) -> str:
    if objective["name"] == "band":
        return f"{evaluation['in_band']:.0f}/{evaluation['problems']} in band"
    return f"{evaluation['value']:.1%}"


def before_after_table(meta: dict) -> str:
    """Rows before / after: dev objective, test accuracy (as `strawberry run` reports it), test band, LM calls."""
    objective, scores = meta["objective"], meta["scores"]
    header = ["program", f"dev {objective['name']}", "test accuracy"]
    if objective["name"] == "band":
        header.append("test band")
    header.append("LM calls (dev+test)")
    body = []
    for label, key in (("before (recipe)", "before"), ("after (compiled)", "after")):
        dev, test = scores[key]["dev"], scores[key].get("test")
        row = [label, _score(dev, objective),
               f"{test['accuracy']:.1%} ({round(test['accuracy'] * test['problems'])}/{test['problems']})" if test
               else "not read (--test-limit 0)"]
        if objective["name"] == "band":
            row.append(_score(test, objective) if test else "-")
        row.append(str(dev["lm_calls"] + (test["lm_calls"] if test else 0)))
        body.append(row)
    return format_grid(header, body)


def changed_knobs(meta: dict) -> list[tuple[str, str]]:
    """(knob, 'before -> after') for every searched knob whose value changed."""
    rows = []
    for name, (before, after) in (meta.get("knobs") or {}).items():
        if before != after:
            rows.append((name, f"{_short(before)} -> {_short(after)}"))
    return rows


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 70 else text[:67] + "..."


def format_report(meta: dict) -> str:
    """The whole report as plain text (also written as report.md)."""
    info = [
        ("program", f"{meta['base_program']['path']} (sha256 {meta['base_program']['sha256']})"),
        ("model", meta["model"] + (f", prompt model {meta['prompt_model']}" if meta.get("prompt_model") else "")),
        ("benchmark", meta["benchmark"]),
        ("splits", ", ".join(f"{k} {v}" for k, v in meta["splits"].items())),
        ("optimizer", f"{meta['optimizer']}, budget {meta['budget']} ({meta['budget_meaning']})"),
        ("objective", meta["objective_text"]),
        ("LM calls", f"{meta['lm_calls']['total']} in all: {meta['lm_calls']['optimize']} optimizing, "
                     f"{meta['lm_calls']['evaluate']} scoring before/after"),
    ]
    if meta.get("study"):
        info.append(("optuna study", f"{meta['study']['name']} in {meta['study']['storage']} "
                                     f"({meta['study']['trials']} trials)"))
    parts = [format_table(info, "strawberry compile"), "", before_after_table(meta)]
    if meta.get("rejected"):
        parts += ["", f"kept the recipe: the {meta['optimizer']} program scored {meta['rejected']['value']:.3g} on dev, "
                      f"below the recipe's {meta['scores']['before']['dev']['value']:.3g}"]
    elif meta["optimizer"] == "search":
        knobs = changed_knobs(meta)
        parts += ["", format_table(knobs, "knobs changed") if knobs else "knobs changed: none (the recipe's own values won)"]
    else:
        changed = changed_predictors(meta)
        parts += ["", format_table(changed, "predictors changed") if changed else "predictors changed: none"]
    return "\n".join(parts)


def changed_predictors(meta: dict) -> list[tuple[str, str]]:
    """(predictor, what changed) for the instructions and demos an optimizer set."""
    before, rows = meta.get("predictors_before") or {}, []
    for name, now in (meta.get("predictors") or {}).items():
        was = before.get(name, {})
        if now["instructions"] != was.get("instructions"):
            rows.append((name, f"instructions -> {_short(now['instructions'])}"))
        if now["demos"] != was.get("demos", 0):
            rows.append((name, f"{now['demos']} demos"))
    return rows


def write_report(out_dir: Path, meta: dict, study=None) -> list[Path]:
    """Write report.md (and the optuna history plot when there is a study); return the files written."""
    out_dir = Path(out_dir)
    written = [out_dir / REPORT_FILE]
    written[0].write_text("```\n" + format_report(meta) + "\n```\n")
    if study is not None and plot_history(study, out_dir / PLOT_FILE):
        written.append(out_dir / PLOT_FILE)
    return written


def plot_history(study, path: Path) -> bool:
    """optuna's optimization-history plot as a PNG (False when there is nothing to plot or no matplotlib)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from optuna.visualization.matplotlib import plot_optimization_history
    except ImportError:
        return False
    if not any(t.value is not None for t in study.get_trials(deepcopy=False)):
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # optuna marks its matplotlib plots experimental
        axes = plot_optimization_history(study)
    axes.figure.tight_layout()
    axes.figure.savefig(path, dpi=100)
    plt.close(axes.figure)
    return True
