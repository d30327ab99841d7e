"""What a compile maximizes on the dev split: gold accuracy, or the number of problems in a pass-rate band.

`band` counts the problems whose estimated pass rate (k samples each, distinct seeds) lies in
the band (`strawberry_dspy.band`, the same default as harvest and export): "barely solvable" problems are the ones whose traces hold both right and wrong
answers, i.e. the preference pairs a harvest is for.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import dspy

from strawberry_dspy.band import DEFAULT_BAND, Band, pass_rate
from strawberry_dspy.benchmarks import Benchmark, Problem
from strawberry_dspy.config import ProgramSettings
from strawberry_dspy.errors import UserError
from strawberry_dspy.evaluate import ProblemResult, run_program
from strawberry_dspy.options import option

OBJECTIVES = ("accuracy", "band")
DEFAULT_BAND_SAMPLES = 4
EVALUATION_KEYS = ("value", "accuracy", "pass_rate", "in_band", "problems", "samples", "lm_calls", "answers")


@dataclass
class Objective:
    """The dev-split score a compile maximizes."""

    name: str = option("accuracy", "accuracy (problems solved) or band (problems whose pass rate lies in --band)",
                       flag="--objective", choices=OBJECTIVES)
    band: Band = option(DEFAULT_BAND, "the pass-rate band of --objective band")
    samples: int | None = option(None, "samples per dev problem, distinct seeds (band needs >= 2)",
                                 shown=f"1; {DEFAULT_BAND_SAMPLES} for band")

    def __post_init__(self) -> None:
        if self.samples is None:  # one sample scores accuracy; a pass rate needs several
            self.samples = DEFAULT_BAND_SAMPLES if self.name == "band" else 1

    def validate(self) -> None:
        """Raise a UserError naming the first broken rule."""
        if self.name not in OBJECTIVES:
            raise UserError(f"unknown objective {self.name!r}: expected one of {', '.join(OBJECTIVES)}")
        if self.samples < 1:
            raise UserError(f"--samples must be >= 1, got {self.samples}")
        self.band = Band.of(self.band)
        if self.name != "band" and self.band != DEFAULT_BAND:
            raise UserError(f"--band {self.band.lo:g} {self.band.hi:g} applies to --objective band only, got "
                            f"--objective {self.name}: drop --band or pass --objective band")
        if self.name == "band":
            if self.samples < 2:
                raise UserError(f"the band objective estimates pass rates from several samples: --samples must be "
                                f">= 2, got {self.samples}; e.g. --samples {DEFAULT_BAND_SAMPLES}")

    def in_band(self, rate: float) -> bool:
        """Whether one problem's pass rate counts for the band objective."""
        return self.band.contains(rate)

    def value(self, pass_rates: list[float]) -> float:
        """The score of a list of per-problem pass rates."""
        if self.name == "band":
            return float(sum(self.in_band(r) for r in pass_rates))
        return sum(pass_rates) / len(pass_rates) if pass_rates else 0.0

    def describe(self) -> str:
        if self.name == "band":
            return f"band: problems with pass rate in {self.band} over {self.samples} samples"
        return "accuracy" + (f" (mean over {self.samples} samples)" if self.samples > 1 else "")

    def to_dict(self) -> dict:
        return {"name": self.name, "lo": self.band.lo, "hi": self.band.hi, "samples": self.samples}


@dataclass
class Evaluation:
    """A program scored on a split: the objective, and the single-sample accuracy `strawberry run` reports."""

    value: float
    accuracy: float  # sample 0, seeded like `strawberry run`
    pass_rate: float  # mean over all samples
    in_band: int
    problems: int
    samples: int
    lm_calls: int
    results: list[ProblemResult] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict:
        """The scores, and sample 0's answer per problem (what a rerun with the same seeds must reproduce)."""
        scores = {k: getattr(self, k) for k in EVALUATION_KEYS if k != "answers"}
        return {**scores, "answers": {r.problem_id: r.answer for r in self.results}}


def lm_calls_of(results: list[ProblemResult]) -> int:
    """LM calls made by a run, counted from its traces (every assistant or verifier turn is one call)."""
    return sum(1 for r in results for t in r.trace.get("turns", []) if t.get("role") in ("assistant", "verifier"))


def evaluate(program: dspy.Module, problems: list[Problem], benchmark: Benchmark, lm: dspy.BaseLM,
             objective: Objective, concurrency: int, seed: int, progress: bool | str = False,
             config: ProgramSettings | None = None) -> Evaluation:
    """Run the program `objective.samples` times (seeds seed, seed+1, ...) and score it.

    `config` is the one the program was built from (what Ray workers rebuild it from).
    """
    runs = [run_program(program, problems, benchmark, lm, concurrency, seed + k, progress, config=config)
            for k in range(objective.samples)]
    pass_rates = [pass_rate(sum(run[i].correct for run in runs), len(runs)) for i in range(len(problems))]
    first = runs[0]
    return Evaluation(
        value=objective.value(pass_rates),
        accuracy=sum(r.correct for r in first) / len(first) if first else 0.0,
        pass_rate=sum(pass_rates) / len(pass_rates) if pass_rates else 0.0,
        in_band=sum(objective.in_band(r) for r in pass_rates),
        problems=len(problems),
        samples=objective.samples,
        lm_calls=sum(lm_calls_of(run) for run in runs),
        results=first,
    )
