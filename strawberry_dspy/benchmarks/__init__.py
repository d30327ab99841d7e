"""Benchmarks: problems with verifiable gold answers, loaded from a spec string."""

from __future__ import annotations

from strawberry_dspy.benchmarks.base import SPLIT_FRACTIONS, Benchmark, Problem, parse_spec, question_hash, split_of
from strawberry_dspy.errors import UserError
from strawberry_dspy.scoring import Score

SPEC_FORMS = "reasoning_gym:<task>, jsonl:PATH, csv:PATH, parquet:PATH or hf:DATASET"


def load_benchmark(spec: str, scorer: str | None = None) -> Benchmark:
    """The benchmark a spec names, e.g. 'reasoning_gym:basic_arithmetic?level=2' or 'jsonl:data/gsm8k.jsonl'."""
    source, target, options = parse_spec(spec)
    if not target:
        raise UserError(f"unknown benchmark {spec!r}: expected {SPEC_FORMS}")
    if source == "reasoning_gym":
        # imported here: reasoning_gym takes about a second to import and file benchmarks do not need it
        from strawberry_dspy.benchmarks.reasoning_gym_tasks import ReasoningGymBenchmark

        return ReasoningGymBenchmark(spec, target, options, scorer)
    if source in ("jsonl", "csv", "parquet"):
        from strawberry_dspy.benchmarks.files import FileBenchmark

        return FileBenchmark(spec, target, options, scorer)
    if source == "hf":
        from strawberry_dspy.benchmarks.hf import HFBenchmark

        return HFBenchmark(spec, target, options, scorer)
    raise UserError(f"unknown benchmark {spec!r}: expected {SPEC_FORMS}")


__all__ = ["Benchmark", "Problem", "Score", "SPLIT_FRACTIONS", "load_benchmark", "question_hash", "split_of"]
