"""Compare evaluations on the same problems: each run's accuracy with its interval, and every later run against
the first by the paired difference of per-problem pass rates (its 95% interval, p, the smallest difference the
comparison could detect). Used by `strawberry compare`, the UI's Runs page and the bootstrap's round table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from strawberry_dspy.errors import UserError
from strawberry_dspy.report import format_grid
from strawberry_dspy.stats import Accuracy, Paired, accuracy, paired, pass_rates

RESULTS_FILE = "results.jsonl"


@dataclass
class Evaluation:
    """One evaluation's per-problem pass rates (problem id -> rate) and sample counts."""

    name: str
    rates: dict[str, float]
    counts: dict[str, int]

    @property
    def accuracy(self) -> Accuracy:
        return accuracy(list(self.rates.values()), [self.counts[pid] for pid in self.rates])


def evaluation_of_rows(name: str, rows: list[dict]) -> Evaluation:
    """An Evaluation from rows holding problem_id and correct (one row per trace)."""
    rates, counts = pass_rates(rows)
    return Evaluation(name, rates, counts)


def read_run(path: str | Path) -> Evaluation:
    """A run directory's results.jsonl as an Evaluation; one line naming the folder when it is not a run."""
    path = Path(path)
    file = path / RESULTS_FILE if path.is_dir() else path
    if not file.is_file():
        raise UserError(f"{str(path)!r} is not a run directory (no {RESULTS_FILE}): pass folders written by "
                        "`strawberry run` (or a bootstrap round's baseline/run, eval-*/run)")
    rows = []
    for number, line in enumerate(file.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            rows.append({"problem_id": str(row["problem_id"]), "correct": bool(row["correct"])})
        except (ValueError, KeyError, TypeError):
            raise UserError(f"{file}:{number}: not a result row (a JSON object with problem_id and correct); "
                            "pass a run directory written by `strawberry run`") from None
    return evaluation_of_rows(path.name if path.is_dir() else path.parent.name, rows)


def compare(evaluations: list[Evaluation]) -> list[tuple[Evaluation, Paired | None]]:
    """Each evaluation with its paired comparison against the first (None for the first itself)."""
    reference = evaluations[0]
    return [(e, None if i == 0 else paired(reference.rates, e.rates)) for i, e in enumerate(evaluations)]


def comparison_table(evaluations: list[Evaluation]) -> str:
    """The plain-text table `strawberry compare` prints."""
    body = []
    for evaluation, diff in compare(evaluations):
        body.append([evaluation.name, evaluation.accuracy.cell(),
                     "reference" if diff is None else f"{diff.problems}",
                     "-" if diff is None else diff.cell(),
                     "-" if diff is None else f"{diff.only_b} / {diff.only_a}"])
    return format_grid(["run", "accuracy (95% CI)", "shared problems", f"minus {evaluations[0].name} (95% CI)",
                        "problems better / worse"], body)
