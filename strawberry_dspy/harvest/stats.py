"""`strawberry stats DIR`: pass rates and band, stop reasons, tokens and cost, verifier AUROC, nudge effects."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

from loguru import logger

from strawberry_dspy.band import Band
from strawberry_dspy.benchmarks import Problem, load_benchmark
from strawberry_dspy.cost import Cost, describe, store_cost
from strawberry_dspy.harvest.signals import NO_NUDGE_EFFECTS, NudgeEffect, VerifierAgreement, trace_signals, verdict_names
from strawberry_dspy.options import option
from strawberry_dspy.report import format_grid, format_table
from strawberry_dspy.scoring import NUMERIC_TOLERANCE, cached_number, is_plugin, scorer_named
from strawberry_dspy.store import TraceStore

MAX_NUDGE_ROWS = 15
PLOT_FILE = "pass_rates.png"


@dataclass
class StatsSettings:
    """What `strawberry stats` reports on; each field is a flag (strawberry_dspy/options.py)."""

    band: Band | None = option(None, "pass-rate band", shown="the one the harvest used")
    plot: str | None = option(None, "where to write the histogram", shown=f"DIR/{PLOT_FILE}")

    def validate(self) -> None:
        """Raise a UserError naming the first broken rule."""
        self.band = None if self.band is None else Band.of(self.band)


@dataclass
class HarvestStats:
    """Everything `strawberry stats` reports about one store."""

    meta: dict
    band: Band
    samples: int  # the most samples any problem has
    traces: int
    failed: int
    correct: int
    rates: dict[str, float | None]  # problem id -> pass rate
    in_band: list[str]  # ids of the problems whose pass rate lies in the band (TraceStore.in_band)
    stop_reasons: list[tuple[str, int, int]]
    prompt_tokens: int
    cached_tokens: int
    completion_tokens: int
    cost: Cost | None  # with the prompt cache as used, and without it
    verifier: VerifierAgreement
    nudges: dict[str, NudgeEffect]
    cache_write_tokens: int = 0  # prompt tokens written to the provider's prompt cache
    flagged: tuple[int, int] = (0, 0)  # (problems, traces) a reviewer flagged: left out of exports
    thinking: tuple[int, int] = (0, 0)  # (turns whose thinking was kept, completion tokens reported as reasoning)

    def count_rate(self, value: float) -> int:
        """How many problems have exactly this pass rate."""
        return sum(1 for r in self.rates.values() if r == value)


def answer_checker(store: TraceStore) -> Callable[[str, str], bool]:
    """is_correct(problem_id, answer) by the harvest's own scorer (`scorer_named` when its benchmark cannot load).

    Two plain numbers are compared as numbers without the scorer: every scorer agrees on them, and math_verify
    would parse each of the many distinct answers a large store holds as LaTeX.
    """
    meta = store.meta()
    problems = {p.id: Problem(p.id, p.question, p.answer, p.metadata) for p in store.problems()}
    try:
        scorer = meta.get("scorer")
        benchmark = load_benchmark(meta["benchmark"], None if scorer in (None, "default") else scorer)
        score = benchmark.score
    except Exception as exc:  # a file moved, a dataset offline: the fallback scorer is good enough for this table
        logger.info("scoring stated answers with the recipe's plain scorer or the fallback rule: the benchmark does "
                    "not load here ({})", exc)

        def score(problem, answer):
            return scorer_named(scorer)(problem.answer, answer, problem.question)

    own = is_plugin(meta.get("scorer"))  # the user's scorer: it alone says what is right, even for two numbers

    @lru_cache(maxsize=100_000)
    def is_correct(problem_id: str, answer: str) -> bool:
        problem = problems[problem_id]
        gold, stated = cached_number(problem.answer), cached_number(answer)
        if gold is not None and stated is not None and not own:
            return abs(gold - stated) <= NUMERIC_TOLERANCE
        return bool(score(problem, answer).correct)

    return is_correct


def harvest_stats(store: TraceStore, band: Band | None = None) -> HarvestStats:
    """Gather the statistics of a store (band: the store's own unless given)."""
    meta = store.meta()
    band = store.selection_band(band)
    traces, failed, correct = store.outcomes()
    prompt, cached, completion = store.token_totals()
    cache_write = store.cache_write_total()
    verifier, nudges = trace_signals(store, answer_checker(store))
    flagged_problems, flagged_traces = store.flagged()
    return HarvestStats(
        meta=meta, band=band, samples=store.max_samples(), traces=traces, failed=failed, correct=correct,
        rates=store.pass_rates(), in_band=list(store.in_band(band)), stop_reasons=store.stop_reasons(),
        prompt_tokens=prompt, cached_tokens=cached, completion_tokens=completion,
        cost=store_cost(store, cache_write), cache_write_tokens=cache_write,
        verifier=verifier, nudges=nudges, flagged=(len(flagged_problems), len(flagged_traces)),
        thinking=store.thinking_totals())


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "-"


def format_stats(s: HarvestStats) -> str:
    """The report: overview, stop reasons, tokens and cost, verifier, nudges."""
    meta, valid = s.meta, s.traces - s.failed
    lo, hi = s.band
    sampled = [r for r in s.rates.values() if r is not None]
    sections = [format_table([
        ("program", f"{meta.get('program')} ({meta.get('program_hash')})"),
        ("benchmark", f"{meta.get('benchmark')} ({meta.get('split')} split)"),
        ("model", f"{meta.get('model')}, temperature {meta.get('temperature')}"),
        ("problems", f"{len(s.rates)} ({len(sampled)} with a non-failed sample), up to {s.samples} samples each"),
        ("traces", f"{s.traces} ({s.failed} failed)"),
        ("pass rate", f"{_share(s.correct, valid)} of non-failed traces"),
        ("in band", f"{len(s.in_band)} problems with pass rate in [{lo:g}, {hi:g}]"),
        ("always / never", f"{s.count_rate(1.0)} always solved, {s.count_rate(0.0)} never solved"),
        ("flagged", f"{s.flagged[0]} problems, {s.flagged[1]} traces (left out of exports; `strawberry review "
                    "DIR --list`)"),
    ], "harvest")]
    sections.append("traces by stop reason\n" + format_grid(
        ["stop reason", "traces", "share", "correct"],
        [[r, str(n), _share(n, s.traces), _share(c, n)] for r, n, c in s.stop_reasons]))
    per_trace = f"  ({s.completion_tokens / s.traces:.0f} per trace)" if s.traces else ""
    rows = [("prompt tokens", f"{s.prompt_tokens}  ({_share(s.cached_tokens, s.prompt_tokens)} served from cache)")]
    if s.cache_write_tokens:
        rows.append(("cache writes", f"{s.cache_write_tokens}  ({_share(s.cache_write_tokens, s.prompt_tokens)} "
                                     "of prompt tokens written to the prompt cache)"))
    rows.append(("completion tokens", f"{s.completion_tokens}{per_trace}"))
    if any(s.thinking):
        reported = f", {s.thinking[1]} of the completion tokens reported as reasoning" if s.thinking[1] else ""
        rows.append(("thinking", f"kept for {s.thinking[0]} turns{reported} (export --thinking KEY includes it)"))
    rows.append(("cost", describe(s.cost, s.meta.get("model", ""))))
    if s.cost and s.traces:
        rows.append(("cost per trace", f"${s.cost.usd / s.traces:.5f}"))
        rows.append(("saved by cache", f"${s.cost.saved_usd:.4f}"))
    sections.append(format_table(rows, "tokens and cost"))
    sections.append(_verifier_section(s.verifier))
    sections.append(_nudge_section(s.nudges))
    return "\n\n".join(sections)


def _verifier_section(v: VerifierAgreement) -> str:
    if not v.traces:
        return "verifier\n--------\nno verdicts (the verifier was off: strawberry.verifier_every=0); AUROC n/a"
    rows = [[name, str(v.verdicts[name][0]), str(v.verdicts[name][1])] for name in verdict_names(v)]
    auc = "n/a (needs both correct and incorrect traces)" if v.auroc is None else f"{v.auroc:.3f}"
    return (f"verifier: verdicts vs gold outcome ({v.traces} traces with verdicts)\n"
            + format_grid(["verdict", "on correct traces", "on incorrect traces"], rows)
            + f"\nAUROC of 'incorrect' verdicts for an incorrect trace: {auc}  (0.5 = chance)")


def _nudge_section(nudges: dict[str, NudgeEffect]) -> str:
    title = "user prompts that preceded a change of the stated answer"
    if not nudges:
        return f"{title}\n{NO_NUDGE_EFFECTS}"
    rows = [[label if len(label) <= 60 else label[:57] + "...", str(e.sent), str(e.changed), str(e.corrections),
             str(e.regressions)] for label, e in list(nudges.items())[:MAX_NUDGE_ROWS]]
    return (f"{title}\n" + format_grid(["prompt", "sent after an answer", "answer changed", "wrong->right",
                                        "right->wrong"], rows)
            + "\n(#i: the recipe's nudge i, as the recipe words it; a stated answer: a <final_answer>, or for numeric "
              "problems the last number of a turn)")
