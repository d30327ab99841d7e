"""The pass-rate histogram of a harvest, as a PNG (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path

from strawberry_dspy.band import Band
from strawberry_dspy.errors import UserError
from strawberry_dspy.stage_output import OutputKind, check_output_file, write_file

MAX_BINS = 20
SOURCE = "strawberry stats"  # stored in the PNG's text chunk: how a later `stats` knows the file is its own
PLOT = OutputKind("stats", "pass-rate plot")


def is_plot(path: Path) -> bool:
    """Whether `path` is a histogram written by `strawberry stats` (what --plot may replace)."""
    with open(path, "rb") as f:
        head = f.read(4096)  # text chunks come before the image data
    if not head.startswith(b"\x89PNG"):
        return False
    # or the default plot of a harvest from before the Source tag
    return SOURCE.encode() in head or (path.name == "pass_rates.png" and b"Matplotlib" in head)


def pass_rate_histogram(rates: list[float], band: Band, samples: int, path: str | Path,
                        title: str = "") -> Path:
    """Write a histogram of per-problem pass rates with the selection band shaded; returns the path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.ticker import MaxNLocator

    if 0 < samples < MAX_BINS:  # one bar per reachable pass rate k/K (a rate over fewer samples goes to the nearest)
        centres = np.arange(samples + 1) / samples
        edges = np.concatenate([[-0.5 / samples], (centres[:-1] + centres[1:]) / 2, [1 + 0.5 / samples]])
    else:
        edges = np.linspace(0.0, 1.0, MAX_BINS + 1)
        centres = (edges[:-1] + edges[1:]) / 2
    counts, _ = np.histogram(np.clip(rates, 0.0, 1.0), bins=edges)
    width = 0.7 * min(np.diff(edges))
    lo, hi = band
    colours = ["#2ca02c" if band.contains(c) else "#8c8c8c" for c in centres]
    fig, ax = plt.subplots(figsize=(7, 4), dpi=120)
    ax.axvspan(lo, hi, color="#2ca02c", alpha=0.10, zorder=0)
    ax.bar(centres, counts, width=width, color=colours, zorder=2)
    for centre, count in zip(centres, counts):
        if count:
            ax.annotate(str(int(count)), (centre, count), ha="center", va="bottom", fontsize=8, xytext=(0, 2),
                        textcoords="offset points")
    in_band = sum(band.contains(r) for r in rates)
    ax.set_xlim(-0.06, 1.06)
    ax.set_ylim(0, max(counts.max(), 1) * 1.15)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(f"pass rate per problem (correct / non-failed samples, K = {samples})")
    ax.set_ylabel("problems")
    ax.set_title(f"{title or 'pass rate per problem'}\n{in_band} of {len(rates)} problems in the band "
                 f"{band} (shaded green)", fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    path = Path(path)
    try:
        check_output_file(path, PLOT, is_plot)
        write_file(path, lambda tmp: fig.savefig(tmp, format="png", metadata={"Source": SOURCE}))
    except OSError as error:
        raise UserError(f"cannot write the plot to {path} ({error.strerror or error}): pass a writable --plot path") from None
    finally:
        plt.close(fig)
    return path
