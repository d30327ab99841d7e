"""`strawberry run`: a program on a benchmark split, scored against gold, into a run directory."""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections import Counter
from dataclasses import asdict
from pathlib import Path

import dspy
import yaml
from loguru import logger

from strawberry_dspy.benchmarks import load_benchmark
from strawberry_dspy.config import RunConfig
from strawberry_dspy.evaluate import ProblemResult, run_program
from strawberry_dspy.executors import current_executor
from strawberry_dspy.program.build import build_program
from strawberry_dspy.provenance import package_versions
from strawberry_dspy.report import format_table


def summarize(results: list[ProblemResult], wall_s: float) -> dict:
    """Accuracy, mean steps, stop reasons, tokens and time of a run."""
    n = len(results) or 1
    prompt = sum(r.prompt_tokens for r in results)
    cached = sum(r.cached_tokens for r in results)
    completion = sum(r.completion_tokens for r in results)
    return {
        "problems": len(results),
        "correct": sum(r.correct for r in results),
        "accuracy": sum(r.correct for r in results) / n,
        "mean_steps": sum(r.steps for r in results) / n,
        "stop_reasons": dict(Counter(r.stop_reason for r in results).most_common()),
        "answered": sum(r.answer is not None for r in results),
        "prompt_tokens": prompt,
        "cached_tokens": cached,
        "completion_tokens": completion,
        "wall_s": round(wall_s, 2),
        "completion_tokens_per_s": round(completion / wall_s, 1) if wall_s else 0.0,
    }


def summary_table(summary: dict, title: str) -> str:
    s = summary
    reasons = ", ".join(f"{k} {v}" for k, v in s["stop_reasons"].items())
    cached_share = f" ({s['cached_tokens'] / s['prompt_tokens']:.0%} cached)" if s["prompt_tokens"] else ""
    return format_table([
        ("accuracy", f"{s['accuracy']:.1%}  ({s['correct']}/{s['problems']})"),
        ("answered", f"{s['answered']}/{s['problems']}"),
        ("mean steps", f"{s['mean_steps']:.1f}"),
        ("stop reasons", reasons),
        ("prompt tokens", f"{s['prompt_tokens']}{cached_share}"),
        ("completion tokens", f"{s['completion_tokens']}  ({s['completion_tokens_per_s']} tok/s)"),
        ("time", f"{s['wall_s']:.1f} s"),
    ], title)


def default_out_dir(config: RunConfig) -> Path:
    """runs/<program>-<task>-<hash of the whole config>: the same config lands in the same place."""
    task = config.benchmark.split("?")[0].replace(":", "-").replace("/", "-")
    digest = hashlib.sha1(json.dumps(config.to_dict(), sort_keys=True).encode()).hexdigest()[:8]
    return Path("runs") / f"{config.program}-{task}-{config.split}-{digest}"


def write_run_dir(out: Path, config: RunConfig, results: list[ProblemResult], summary: dict, log_file: Path,
                  extra: dict | None = None) -> None:
    """Write the run directory atomically: everything goes to a sibling temp dir that is then renamed."""
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    (tmp / "config.yaml").write_text(yaml.safe_dump(config.to_dict(), sort_keys=False, allow_unicode=True))
    with open(tmp / "results.jsonl", "w") as f:
        for r in results:
            f.write(json.dumps(asdict(r), ensure_ascii=False) + "\n")
    (tmp / "summary.json").write_text(json.dumps({**summary, **(extra or {})}, indent=2))
    (tmp / "versions.json").write_text(json.dumps(package_versions(), indent=2))
    if log_file.exists():
        shutil.copy(log_file, tmp / "run.log")
    if out.exists():
        shutil.rmtree(out)
    tmp.rename(out)


def run(config: RunConfig, out: Path | None = None, program: dspy.Module | None = None,
        progress: bool = True) -> tuple[Path, dict, list[ProblemResult]]:
    """Run a config end to end and write its run directory; returns (dir, summary, results)."""
    benchmark = load_benchmark(config.benchmark, config.scorer)
    problems = benchmark.problems(config.split, config.limit)
    lm = current_executor().driver_lm(config)  # threads: built here, so a bad model fails before any output
    program = program or build_program(config)
    out = Path(out) if out else default_out_dir(config)
    out.parent.mkdir(parents=True, exist_ok=True)
    log_file = out.with_name(out.name + ".log.tmp")
    sink = logger.add(log_file, level="DEBUG", mode="w")
    try:
        try:
            logger.info("run {} on {} ({} split, {} problems) with {}", config.program, config.benchmark, config.split,
                        len(problems), config.model)
            start = time.perf_counter()
            results = run_program(program, problems, benchmark, lm, config.concurrency, config.seed, progress,
                                  config=config)
            summary = summarize(results, time.perf_counter() - start)
            logger.info("accuracy {:.3f} on {} problems in {:.1f} s", summary["accuracy"], len(results), summary["wall_s"])
        finally:
            logger.remove(sink)
        write_run_dir(out, config, results, summary, log_file)
    finally:  # done or interrupted, no half-written file stays behind
        log_file.unlink(missing_ok=True)
    return out, summary, results
