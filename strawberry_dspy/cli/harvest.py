"""Harvest K reasoning traces per problem into a resumable SQLite store (DIR/traces.sqlite)."""

from __future__ import annotations

import argparse

from strawberry_dspy.harvest import HarvestSettings, harvest
from strawberry_dspy.cost import BATCH_PRICE_FACTOR, describe
from strawberry_dspy.executors import use_executor
from strawberry_dspy.executors.base import per_node_line
from strawberry_dspy.harvest.harvester import HarvestSummary
from strawberry_dspy.options import ANY_PROGRAM_HELP, add_program_command, program_command_options
from strawberry_dspy.program_file import load_program_file
from strawberry_dspy.report import format_table

# every finished trace is committed; traces still in flight are dropped
INTERRUPTED = "interrupted: rerun the same command to resume"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_program_command(parser, HarvestSettings, name="harvest", example="--early_stop=4",
                        program_help=ANY_PROGRAM_HELP, knob="--strawberry.max_turns=8 --seed=1",
                        recipe_defaults={"split": "train"},  # harvests are training data
                        out_help="harvest directory (default: runs/harvest-<program>-<task>-<split>-<hash>); "
                                 "rerunning into it resumes")


def summary_table(s: HarvestSummary) -> str:
    """The run's outcome as a two-column table."""
    rate = f"{s.pass_rate:.1%}" if s.pass_rate is not None else "-"
    return format_table([
        ("problems x samples", f"{s.problems} x {s.samples}"),
        ("traces stored", f"{s.traces}  ({s.new} new, {s.failed} failed)"),
        *([("failed", f"{s.failed} trace(s) failed; rerunning the same command samples them again")] if s.failed else []),
        ("stopped early", f"{s.skipped} sample(s) not taken"),
        ("pass rate", rate),
        ("in band", f"{s.in_band}/{s.problems} problems with pass rate in {s.band}"),
        ("generated tokens", f"{s.completion_tokens}  ({s.tokens_per_s:.0f} tok/s)"),
        ("429s and retries", f"{s.rate_limited} call(s) refused for the provider's rate (429), {s.retries} call(s) "
                             "tried again"),
        *_cost_rows(s),
        ("time", f"{s.wall_s:.1f} s  ({s.traces_per_s:.2f} traces/s)"),
        *_node_rows(s),
        *([("left out", ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in s.left_out.items() if n))]
          if any(s.left_out.values()) else []),
    ], "harvest" + (" (interrupted: rerun the same command to resume)" if s.interrupted else ""))


def _cost_rows(s: HarvestSummary) -> list[tuple[str, str]]:
    """The cost (all stored traces, at the live price) and, for a --batch run, its batches and its batch price."""
    if s.batches is None:
        return [("cost", describe(s.cost, s.model))]
    b = s.batches
    rows = [("batches", f"{b.submitted} submitted, {b.attached} re-attached; {b.sent} request(s) sent, "
                        f"{b.replayed} answered by an earlier run's batch")]
    if s.batch_cost is None:
        return rows + [("cost", describe(None, s.model))]
    return rows + [("cost", f"{describe(s.batch_cost)} for the replies of this run's batches at the batch price "
                            f"({BATCH_PRICE_FACTOR:.0%} of the live price list; replies replayed from an earlier "
                            f"run's batch are not counted); all {s.traces} stored, at the live price: "
                            f"{describe(s.cost)}")]


def _node_rows(s: HarvestSummary) -> list[tuple[str, str]]:
    """Throughput of each node that sampled traces, and units run again after a worker died."""
    rows = [("per node", per_node_line(s.per_node))]
    if s.rerun:
        rows.append(("workers lost", f"{s.rerun} unit(s) sampled again, none stored twice"))
    return rows if s.per_node else rows[1:]


def main(args: argparse.Namespace) -> int:
    options, overrides = program_command_options(HarvestSettings, args)
    config, program = load_program_file(args.program, overrides)
    with use_executor(args.executor, args.ray_address):
        summary = harvest(config, args.out, options=options, program=program)
    print(summary_table(summary))
    print(f"\nharvest directory: {summary.out}   (strawberry stats {summary.out})")
    return 130 if summary.interrupted else 0
