"""Harvest K reasoning traces per problem into a resumable SQLite store (DIR/traces.sqlite)."""

from __future__ import annotations

import argparse

from strawberry_dspy.cli.flags import add_band_flag, band_of
from strawberry_dspy.cli.run import cli_overrides
from strawberry_dspy.harvest import harvest
from strawberry_dspy.harvest.harvester import HarvestSummary
from strawberry_dspy.program_file import load_program_file
from strawberry_dspy.report import format_table

DEFAULT_SAMPLES = 8
# every finished trace is committed; traces still in flight are dropped
INTERRUPTED = "interrupted: rerun the same command to resume"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("program", help="a program YAML recipe (programs/*.yaml) or a compiled program JSON")
    parser.add_argument("--benchmark", help="benchmark spec, e.g. reasoning_gym:basic_arithmetic or jsonl:FILE")
    parser.add_argument("--split", default="train",
                        help="train, dev or test (default train, whatever the recipe says: harvests are training data)")
    parser.add_argument("--limit", type=int, help="number of problems")
    parser.add_argument("--samples", "-k", type=int, default=DEFAULT_SAMPLES, metavar="K",
                        help=f"traces per problem (default {DEFAULT_SAMPLES})")
    parser.add_argument("--temperature", type=float, metavar="T", help="sampling temperature (overrides the recipe's)")
    parser.add_argument("--concurrency", type=int, metavar="C", help="traces in flight at once (the embedded engine gets as many slots)")
    parser.add_argument("--model", help="model spec: local, local:/path.gguf, ollama_chat/NAME, openai/NAME, ...")
    parser.add_argument("--api-base", help="OpenAI-compatible server URL for openai/... models")
    parser.add_argument("--out", help="harvest directory (default: runs/harvest-<program>-<task>-<split>-<hash>); "
                                      "rerunning into it resumes")
    add_band_flag(parser, "pass-rate band of the 'barely solvable' problems")
    parser.add_argument("--early-stop", type=int, default=0, metavar="N",
                        help="stop sampling a problem whose first N samples agree and lie outside the band (0 = off)")
    parser.add_argument("--fresh", action="store_true", help="delete the directory's store and start over")
    parser.add_argument("--retry-failed", action="store_true", help="sample failed traces again")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.epilog = "Any other knob: --key=value, e.g. --strawberry.max_turns=8 --seed=1"


def summary_table(s: HarvestSummary) -> str:
    """The run's outcome as a two-column table."""
    rate = f"{s.pass_rate:.1%}" if s.pass_rate is not None else "-"
    return format_table([
        ("problems x samples", f"{s.problems} x {s.samples}"),
        ("traces stored", f"{s.traces}  ({s.new} new, {s.failed} failed)"),
        ("stopped early", f"{s.skipped} sample(s) not taken"),
        ("pass rate", rate),
        ("in band", f"{s.in_band}/{s.problems} problems with pass rate in {s.band}"),
        ("generated tokens", f"{s.completion_tokens}  ({s.tokens_per_s:.0f} tok/s)"),
        ("time", f"{s.wall_s:.1f} s"),
        *([("left out", ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in s.left_out.items() if n))]
          if any(s.left_out.values()) else []),
    ], "harvest" + (" (interrupted: rerun the same command to resume)" if s.interrupted else ""))


def main(args: argparse.Namespace) -> int:
    config, program = load_program_file(args.program, cli_overrides(args))
    if args.temperature is not None:
        config.set_temperature(args.temperature)  # a compiled program reads the same knobs
    summary = harvest(config, args.out, samples=args.samples, program=program, band=band_of(args),
                      early_stop=args.early_stop, fresh=args.fresh, retry_failed=args.retry_failed,
                      progress=not args.no_progress)
    print(summary_table(summary))
    print(f"\nharvest directory: {summary.out}   (strawberry stats {summary.out})")
    return 130 if summary.interrupted else 0
