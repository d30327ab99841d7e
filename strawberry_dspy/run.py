"""`strawberry run`: a program on a benchmark split, scored against gold, into a run directory."""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

import dspy
from loguru import logger

from strawberry_dspy.admission import admit
from strawberry_dspy.benchmarks import load_benchmark
from strawberry_dspy.config import ProgramSettings
from strawberry_dspy.errors import UserError, check_failures
from strawberry_dspy.evaluate import ProblemResult, run_program
from strawberry_dspy.executors import current_executor
from strawberry_dspy.cost import Cost, Price, config_price, cost_of, describe
from strawberry_dspy.executors.base import per_node_line
from strawberry_dspy.options import option
from strawberry_dspy.program.build import build_program
from strawberry_dspy.report import format_table
from strawberry_dspy.stats import accuracy_of_rows
from strawberry_dspy.trivial import trivial_baselines
from strawberry_dspy.stage_output import (OutputKind, check_replace, default_dir, log_to, staged, task_slug,
                                         write_provenance)

RUN_DIR = OutputKind("run", "run directory", ("summary.json",),
                     frozenset({"config.yaml", "results.jsonl", "summary.json", "run.log", "versions.json"}))



@dataclass
class RunSettings:
    """What `strawberry run` does besides the program's own config; each field is a flag (strawberry_dspy/options.py)."""

    samples: int = option(1, "seeded samples per problem: accuracy becomes the mean per-problem pass rate with a 95% "
                          "interval", metavar="K")
    temperature: float | None = option(None, "sampling temperature", metavar="T", shown="the recipe's")
    progress: bool = option(True, "no progress bar")

    def validate(self) -> None:
        """Raise a UserError naming the first broken rule."""
        if not isinstance(self.samples, int) or self.samples < 1:
            raise UserError(f"--samples must be a whole number >= 1, got {self.samples!r}; e.g. --samples 4")
        if self.temperature is not None and self.temperature < 0:
            raise UserError(f"--temperature must be >= 0, got {self.temperature}; e.g. --temperature 1.0")


def summarize(results: list[ProblemResult], wall_s: float, price: Price | None = None) -> dict:
    """Accuracy, mean steps, stop reasons, tokens, cost (with `price`) and time of a run."""
    n = len(results) or 1
    score = accuracy_of_rows([{"problem_id": r.problem_id, "correct": r.correct} for r in results])
    prompt = sum(r.prompt_tokens for r in results)
    cached = sum(r.cached_tokens for r in results)
    completion = sum(r.completion_tokens for r in results)
    written = sum(t.get("cache_write_tokens", 0) for r in results for t in r.trace.get("turns", []))
    cost = cost_of(price, prompt, completion, cached, written)
    return {
        "problems": score.problems,
        "traces": len(results),
        "correct": sum(r.correct for r in results),
        "accuracy": sum(r.correct for r in results) / n,
        "accuracy_ci": [round(score.low, 4), round(score.high, 4)],
        "mean_steps": sum(r.steps for r in results) / n,
        "stop_reasons": dict(Counter(r.stop_reason for r in results).most_common()),
        "answered": sum(r.answer is not None for r in results),
        "prompt_tokens": prompt,
        "cached_tokens": cached,
        "completion_tokens": completion,
        "cache_write_tokens": written,
        "cost_usd": cost and round(cost.usd, 6),
        "uncached_cost_usd": cost and round(cost.uncached_usd, 6),
        "wall_s": round(wall_s, 2),
        "completion_tokens_per_s": round(completion / wall_s, 1) if wall_s else 0.0,
    }


def summary_table(summary: dict, title: str) -> str:
    s = summary
    reasons = ", ".join(f"{k} {v}" for k, v in s["stop_reasons"].items())
    written = s.get("cache_write_tokens", 0)
    cached_share = (f" ({s['cached_tokens'] / s['prompt_tokens']:.0%} cache reads: {s['cached_tokens']} read, "
                    f"{written} written to the cache)" if s["prompt_tokens"] else "")
    traces = s.get("traces", s["problems"])
    low, high = s.get("accuracy_ci", (None, None))
    interval = f" [{low:.1%}, {high:.1%}]" if low is not None else ""
    shape = f"{s['correct']}/{traces}" + (f" traces, {s['problems']} problems x {traces // s['problems']}"
                                          if traces != s["problems"] and s["problems"] else "")
    trivial = [(f"  {name}", f"{value:.1%}") for name, value in s.get("trivial", {}).items()]
    return format_table([
        ("accuracy", f"{s['accuracy']:.1%}{interval}  ({shape})"),
        *([("trivial baselines", "")] + trivial if trivial else []),
        ("answered", f"{s['answered']}/{traces}"),
        ("mean steps", f"{s['mean_steps']:.1f}"),
        ("stop reasons", reasons),
        ("prompt tokens", f"{s['prompt_tokens']}{cached_share}"),
        ("completion tokens", f"{s['completion_tokens']}  ({s['completion_tokens_per_s']} tok/s)"),
        ("cost", describe(None if s.get("cost_usd") is None else Cost(s["cost_usd"], s["uncached_cost_usd"]),
                          s.get("model", ""))),
        ("time", f"{s['wall_s']:.1f} s"),
        *([("per node", per_node_line(s["per_node"]))] if s.get("per_node") else []),
        *([("left out", _left_out(s["left_out"]))] if any(s.get("left_out", {}).values()) else []),
    ], title)


def _left_out(counts: dict[str, int]) -> str:
    """'2 in the demos (answer leaks), 1 too long' from Admission.counts()."""
    names = {"demo_leaks": "in the demos (answer leaks)", "too_long": "longer than max_question_chars"}
    return ", ".join(f"{n} {names.get(k, k)}" for k, n in counts.items() if n) or "none left out"


def default_out_dir(config: ProgramSettings, samples: int = 1) -> Path:
    """runs/<program>-<task>-<hash of the whole config>: the same config lands in the same place."""
    # retry settings change how long a run waits on a provider, not what it computes
    identity = {k: v for k, v in config.to_dict().items() if k != "retry"}
    if samples != 1:
        identity["samples"] = samples
    return default_dir(f"{config.program}-{task_slug(config.benchmark)}-{config.split}", identity)


def write_run_dir(folder: Path, config: ProgramSettings, results: list[ProblemResult], summary: dict,
                  extra: dict | None = None) -> None:
    """The run's files into `folder` (a staged directory that stage_output then moves into place)."""
    write_provenance(folder, config.to_dict())
    with open(folder / "results.jsonl", "w") as f:
        for r in results:
            f.write(json.dumps(asdict(r), ensure_ascii=False) + "\n")
    (folder / "summary.json").write_text(json.dumps({**summary, **(extra or {})}, indent=2))


def run(config: ProgramSettings, out: Path | None = None, program: dspy.Module | None = None,
        progress: bool = True, samples: int = 1) -> tuple[Path, dict, list[ProblemResult]]:
    """Run a config end to end and write its run directory; returns (dir, summary, results).

    `samples` K runs every problem K times with K seeds: accuracy is the mean per-problem pass rate, with a
    95% interval over problems.

    Raises ProviderFailure (exit 1) after writing the directory when most problems failed for infrastructure reasons.
    """
    if not isinstance(samples, int) or samples < 1:
        raise UserError(f"--samples must be a whole number >= 1, got {samples!r}; e.g. --samples 4")
    out = Path(out) if out else default_out_dir(config, samples)
    check_replace(out, RUN_DIR)  # refused before the model starts
    benchmark = load_benchmark(config.benchmark, config.scorer)
    admission = admit(benchmark.problems(config.split, config.limit), config.max_question_chars, program,
                      config.strawberry.demos)
    problems = admission.problems
    if not problems:
        raise UserError(f"no problem of {config.benchmark!r} ({config.split} split) is left to run: "
                        f"{_left_out(admission.counts())}; see the warning above")
    lm = current_executor().driver_lm(config)  # threads: built here, so a bad model fails before any output
    program = program or build_program(config)
    # written beside and renamed into place: an interrupted run leaves nothing behind, an old run stays until then
    with staged(out, RUN_DIR) as folder:
        with log_to(folder / "run.log", mode="w"):
            logger.info("run {} on {} ({} split, {} problems) with {}", config.program, config.benchmark, config.split,
                        len(problems), config.model)
            start = time.perf_counter()
            per_node: dict[str, float] = {}
            results = run_program(program, problems, benchmark, lm, config.concurrency, config.seed, progress,
                                  config=config, samples=samples, per_node=per_node)
            summary = {**summarize(results, time.perf_counter() - start, config_price(config.to_dict())),
                       "per_node": {node: round(rate, 3) for node, rate in sorted(per_node.items())},
                       "model": config.model, "split": config.split, "samples": samples,
                       "test_reads": int(config.split == "test"),
                       "trivial": trivial_baselines(problems, benchmark), "left_out": admission.counts()}
            logger.info("accuracy {:.3f} on {} traces in {:.1f} s", summary["accuracy"], len(results), summary["wall_s"])
        write_run_dir(folder, config, results, summary)
    failed = [r for r in results if r.stop_reason == "error"]
    check_failures("run", len(failed), len(results), failed[0].error if failed else None,
                   f"rerun (the errors are in {out / 'results.jsonl'})")
    return out, summary, results
