"""Real harvest stores and run directories for the UI tests, made with scripted models (no network, no engine)."""

from __future__ import annotations

from pathlib import Path

from strawberry_dspy.benchmarks import load_benchmark
from strawberry_dspy.config import config_from_dict
from strawberry_dspy.harvest import harvest
from strawberry_dspy.program.build import build_program
from strawberry_dspy.evaluate import run_program
from strawberry_dspy.run import RUN_DIR, summarize, write_run_dir
from strawberry_dspy.stage_output import staged
from strawberry_dspy.testing import scripted_lm
from tests.harvest.scripted import HarvestLM, gold_of, harvest_config, write_problems

SAMPLES = 4


def make_harvest(tmp: Path, problems: int = 4, samples: int = SAMPLES, correct: list[int] | None = None) -> Path:
    """A harvest of `problems` problems x `samples` samples; problem i is answered right correct[i] times of K."""
    problems_file = write_problems(tmp / "problems.jsonl", 40)
    config = harvest_config(problems_file, limit=problems, concurrency=2)
    gold = gold_of(config)
    rights = correct or [min(i, samples) for i in range(problems)]
    lm = HarvestLM(gold, {q: r for q, r in zip(gold, rights)}, spread=samples)
    out = tmp / "harvest"
    harvest(config, out, samples=samples, lm=lm, progress=False)
    return out


def make_run(tmp: Path, name: str, answers: list[str], benchmark_file: Path) -> Path:
    """A run directory of the zero-shot program whose scripted replies are `answers`, one per problem."""
    config = config_from_dict({"program": "zero_shot", "benchmark": f"jsonl:{benchmark_file}", "split": "train",
                               "limit": len(answers), "concurrency": 1})
    benchmark = load_benchmark(config.benchmark)
    problems = benchmark.problems(config.split, config.limit)
    lm = scripted_lm([{"answer": a} for a in answers])
    results = run_program(build_program(config), problems, benchmark, lm, concurrency=1, progress=False)
    out = tmp / name
    with staged(out, RUN_DIR) as folder:
        write_run_dir(folder, config, results, summarize(results, 1.0))
    return out
