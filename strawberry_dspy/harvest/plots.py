"""The pass-rate histogram of a harvest, as a PNG (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path

MAX_BINS = 20


def pass_rate_histogram(rates: list[float], band: tuple[float, float], samples: int, path: str | Path,
                        title: str = "") -> Path:
    """Write a histogram of per-problem pass rates with the selection band shaded; returns the path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # one bar per reachable pass rate k/K when K is small, else MAX_BINS equal bins
    bins = samples + 1 if 0 < samples < MAX_BINS else MAX_BINS
    width = 1.0 / (bins - 1) if bins == samples + 1 else 1.0 / bins
    edges = [i / (bins - 1) - width / 2 for i in range(bins + 1)] if bins == samples + 1 else [i / bins for i in range(bins + 1)]
    fig, ax = plt.subplots(figsize=(7, 4), dpi=120)
    ax.axvspan(band[0], band[1], color="#2ca02c", alpha=0.12, label=f"band [{band[0]:g}, {band[1]:g}]")
    counts, _, bars = ax.hist(rates, bins=edges, color="#d62728", edgecolor="white", rwidth=0.9)
    for count, bar in zip(counts, bars):
        centre = bar.get_x() + bar.get_width() / 2
        bar.set_color("#2ca02c" if band[0] <= centre <= band[1] else "#7f7f7f")
        if count:
            ax.annotate(f"{int(count)}", (centre, count), ha="center", va="bottom", fontsize=8, xytext=(0, 2),
                        textcoords="offset points")
    in_band = sum(band[0] <= r <= band[1] for r in rates)
    ax.set_xlim(-0.05, 1.05)
    ax.set_xlabel(f"pass rate (correct / non-failed samples, K = {samples})")
    ax.set_ylabel("problems")
    ax.set_title(title or "pass rate per problem", fontsize=10)
    ax.text(0.99, 0.97, f"{in_band} of {len(rates)} problems in band", transform=ax.transAxes, ha="right", va="top",
            fontsize=9)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path)
    plt.close(fig)
    return path
