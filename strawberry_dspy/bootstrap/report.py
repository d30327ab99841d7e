"""The round table (OUT/rounds.md) and plot (OUT/rounds.png): held-out accuracy before/after each round."""

from __future__ import annotations

import json
from pathlib import Path

from strawberry_dspy.report import format_grid
from strawberry_dspy.stats import paired, wilson

HEADER = ["round", "level", "arm", "before (95% CI)", "after (95% CI)", "after - before (95% CI), p, detectable",
          "dev", "in band", "rows", "steps", "CPU", "next round"]


def _evaluation(marker: dict, name: str):
    """The per-problem pass rates of an evaluation marker's run directory (None when it has none)."""
    from strawberry_dspy.compare import read_run

    run = marker.get("run")
    return read_run(run) if run and (Path(run) / "results.jsonl").is_file() else None


def accuracy_cell(evaluation: dict) -> str:
    """'21.3% [17.0%, 25.9%] (n=300 x 4)' from the run's rows, else from the marker's counts."""
    read = _evaluation(evaluation, "")
    if read is not None:
        return read.accuracy.cell()
    correct, n = evaluation["correct"], evaluation.get("traces", evaluation["problems"])
    lo, hi = wilson(correct, n)
    return f"{correct / n:.1%} [{lo:.1%}, {hi:.1%}] {correct}/{n}" if n else "-"


def paired_cell(before: dict, after: dict) -> str:
    """The paired difference of per-problem pass rates, its interval, p and the smallest detectable difference."""
    if after.get("reused"):
        return "same model"
    old, new = _evaluation(before, "before"), _evaluation(after, "after")
    if old is None or new is None or old.rates.keys() != new.rates.keys():
        return "-"
    return paired(old.rates, new.rates).cell()


def arm_rows(entry: dict) -> list[list[str]]:
    """One round's lines of the table: one per arm it trained."""
    rows = []
    for arm in entry.get("arms", []):
        train, after, dev = entry[f"train-{arm}"], entry[f"eval-{arm}"], entry[f"dev-{arm}"]
        exports = [entry[k] for k in entry if k.startswith("export-")]
        data = ", ".join(f"{e['rows']} {e['format']}" for e in exports) or "-"
        steps = "+".join(str(s.get("steps", "skipped" if "skipped" in s else "reused")) for s in train["steps"])
        cpu = sum(entry[s].get("cpu_s", 0.0) for s in entry if isinstance(entry[s], dict) and
                  (s in ("compile", "baseline", "harvest") or s.startswith("export-") or s.endswith(f"-{arm}")))
        next_round = entry["advance"]["note"] if entry["advance"].get("arm") == arm else ""
        rows.append([str(entry["round"]), "-" if entry["level"] is None else str(entry["level"]), arm,
                     accuracy_cell(entry["baseline"]), accuracy_cell(after), paired_cell(entry["baseline"], after),
                     f"{dev['accuracy']:.1%}", f"{entry['harvest']['in_band']}/{entry['harvest']['problems']}", data,
                     steps, f"{cpu / 60:.0f} min", next_round])
    return rows


def format_rounds(rounds: list[dict], settings) -> str:
    """The markdown report: the setup, the round table, and each round's models."""
    lines = ["# strawberry bootstrap", "",
             f"Program `{settings.program}` on `{settings.benchmark}`, starting model `{settings.model}`; per round: "
             f"{settings.limit} train problems x {settings.samples} samples "
             f"(temperature {settings.temperature if settings.temperature is not None else 'of the recipe'}), band "
             f"{settings.band}, arms {', '.join(settings.arm_list())} "
             f"({'compile budget ' + str(settings.compile_budget) if settings.compile_budget else 'no compile'}), "
             f"held-out accuracy on {settings.eval_limit} test problems x {settings.eval_samples} samples. The arm "
             f"best on {settings.dev_limit} dev problems continues; level up when its dev accuracy exceeds "
             f"{settings.level_up_at:.0%}.", "",
             "After - before: the mean paired difference of per-problem pass rates on the same held-out problems "
             "and seeds, its 95% interval, a paired permutation test's p, and the smallest difference this "
             "evaluation detects with 80% power. CPU: the arm's stages plus the shared compile, baseline, harvest "
             "and exports.", "", "```",
             format_grid(HEADER, [row for entry in rounds for row in arm_rows(entry)]), "```", ""]
    for entry in rounds:
        trivial = entry["baseline"].get("trivial") or {}
        if trivial:
            lines.append(f"- round {entry['round']} trivial baselines on the held-out problems: " +
                         ", ".join(f"{name} {value:.1%}" for name, value in trivial.items()))
        lines.append(f"- round {entry['round']}: `{entry['benchmark']}`; from `{entry['model']}` to "
                     f"`{entry['advance']['model']}`")
    return "\n".join(lines) + "\n"


def plot_rounds(rounds: list[dict], path: str | Path) -> Path:
    """Held-out accuracy before and after each round, with 95% Wilson intervals and the level per round."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    with plt.style.context("default"):  # another stage (optuna's plots) may have changed the global style
        fig = _draw(plt, rounds)
        fig.savefig(path)
    plt.close(fig)
    return path


def _draw(plt, rounds: list[dict]):
    fig, ax = plt.subplots(figsize=(7, 4), dpi=120)
    ticks, labels = [], []
    x = 0
    for entry in rounds:
        points = [("before", entry["baseline"], "#8c8c8c")] + [(arm, entry[f"eval-{arm}"], "#d62728")
                                                               for arm in entry.get("arms", [])]
        for label, marker, colour in points:
            read = _evaluation(marker, label)
            acc = read.accuracy if read is not None else None
            mean = acc.mean if acc else marker["accuracy"]
            lo, hi = (acc.low, acc.high) if acc else wilson(marker["correct"], marker.get("traces", marker["problems"]))
            ax.errorbar([x], [mean], yerr=[[mean - lo], [hi - mean]], fmt="o", capsize=4, color=colour)
            ticks.append(x)
            level = "" if entry["level"] is None else f" L{entry['level']}"
            labels.append(f"r{entry['round']}{level}\n{label}")
            x += 1
        x += 0.5
    ax.set_xticks(ticks, labels, fontsize=7)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("held-out accuracy (95% CI)")
    n = rounds[0]["baseline"]["problems"] if rounds else 0
    fig.suptitle(f"strawberry bootstrap: held-out test accuracy per round and arm ({n} problems)", fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def write_report(out: Path, rounds: list[dict], settings) -> None:
    """OUT/rounds.md and OUT/rounds.png."""
    (out / "rounds.md").write_text(format_rounds(rounds, settings))
    plot_rounds(rounds, out / "rounds.png")
