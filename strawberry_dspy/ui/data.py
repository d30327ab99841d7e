"""Everything the UI reads from a harvest store, in one place: read-only, and no -wal/-shm left behind; its one write
is a reviewer's flag (`flag` / `unflag`, through the store).

Only `TraceStore`'s public read methods and the stats / selection / export functions are used, so
this one file is what follows the store module when it changes.
"""

from __future__ import annotations

import json
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from strawberry_dspy.band import Band, pass_rate
from strawberry_dspy.errors import UserError
from strawberry_dspy.export.config import ExportSettings
from strawberry_dspy.export.decontam import decontaminate
from strawberry_dspy.export.formats import dpo_rows, rendered_groups
from strawberry_dspy.export.pipeline import meta_kinds, select, unflagged
from strawberry_dspy.harvest.stats import HarvestStats, harvest_stats
from strawberry_dspy.program.trace import Turn
from strawberry_dspy.store import STORE_FILE, Flag, TraceRow, TraceStore, store_path


def is_harvest_dir(path: Path) -> bool:
    """Whether a directory holds a harvest store."""
    return (path / STORE_FILE).is_file()


@contextmanager
def reading(path: str | Path) -> Iterator[TraceStore]:
    """The store opened read-only (the store module guarantees a finished store gets no -wal/-shm from it)."""
    with TraceStore.open(store_path(path), readonly=True) as store:
        yield store


def store_version(path: str | Path) -> tuple:
    """Changes whenever the store is written (sizes and times of the file and its log): a cache key."""
    file = store_path(path)
    stats = [f.stat() for f in (file, file.with_name(file.name + "-wal")) if f.exists()]
    return tuple((s.st_size, s.st_mtime_ns) for s in stats)


@dataclass
class ProblemSummary:
    """One problem of a harvest with its samples and outcome."""

    id: str
    question: str
    answer: str
    split: str
    samples: int  # traces stored, failed ones included
    failed: int
    correct: int
    pass_rate: float | None  # correct / non-failed samples
    in_band: bool
    completion_tokens: int
    prompt_tokens: int
    cached_tokens: int


@dataclass
class HarvestView:
    """A harvest at one moment: its meta, band and problems."""

    path: Path
    meta: dict[str, str]
    band: Band
    problems: list[ProblemSummary] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)  # a reviewer's flags: problems and traces kept out of exports

    def problem_flag(self, problem_id: str) -> Flag | None:
        """The flag on a whole problem, or None."""
        return next((f for f in self.flags if f.problem_id == problem_id and f.trace_id is None), None)

    def trace_flags(self) -> dict[int, Flag]:
        """trace id -> its flag."""
        return {f.trace_id: f for f in self.flags if f.trace_id is not None}

    @property
    def traces(self) -> int:
        return sum(p.samples for p in self.problems)


def harvest_view(path: str | Path) -> HarvestView:
    """The harvest's problems with samples, pass rate, band membership and tokens."""
    with reading(path) as store:
        meta = store.meta()
        band, members = store.selection_band(), store.in_band()
        counts = store.tallies()
        sums: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
        for row in store.traces():
            s = sums[row.problem_id]
            s[0], s[1] = s[0] + 1, s[1] + row.failed
            s[2], s[3], s[4] = s[2] + row.completion_tokens, s[3] + row.prompt_tokens, s[4] + row.cached_tokens
        view = HarvestView(store.path.parent, meta, band, flags=store.flags())
        for p in store.problems():
            correct, valid = counts.get(p.id, (0, 0))
            rate = pass_rate(correct, valid)
            samples, failed, completion, prompt, cached = sums[p.id]
            view.problems.append(ProblemSummary(
                p.id, p.question, p.answer, p.split, samples, failed, correct, rate,
                p.id in members, completion, prompt, cached))
    return view


def problem_traces(path: str | Path, problem_id: str) -> list[tuple[TraceRow, list[Turn]]]:
    """One problem's traces with their turns, in sample order."""
    with reading(path) as store:
        return [(row, store.turns(row.id)) for row in store.traces(problem_id)]


def flag(path: str | Path, note: str = "", *, trace_id: int | None = None, problem_id: str | None = None) -> Flag:
    """Flag a trace or a whole problem (the one write the UI makes, through the store)."""
    with TraceStore.open(store_path(path), readonly=False) as store:
        return store.flag_trace(trace_id, note) if trace_id is not None else store.flag_problem(problem_id, note)


def unflag(path: str | Path, *, trace_id: int | None = None, problem_id: str | None = None) -> bool:
    """Remove a trace's or a problem's flag."""
    with TraceStore.open(store_path(path), readonly=False) as store:
        return store.unflag_trace(trace_id) if trace_id is not None else store.unflag_problem(problem_id)


def stats_of(path: str | Path) -> HarvestStats:
    """What `strawberry stats` reports: stop reasons, tokens, the verifier's AUROC, nudge effects."""
    with reading(path) as store:
        return harvest_stats(store)


def dpo_pairs(path: str | Path, config: ExportSettings) -> list[dict]:
    """The DPO rows `strawberry export --format dpo` builds with these settings, weights included.

    Problems of an evaluation split are left out as the export does; its hash / n-gram check against the
    benchmark's evaluation questions is not run here (it loads the benchmark), so an export may keep fewer.
    """
    config = ExportSettings(**{**config.__dict__, "format": "dpo", "resample": 0.0})
    config.validate()
    with reading(path) as store:
        problems = {p.id: p for p in store.problems()}
        kept = decontaminate(problems, config.eval_splits, [], config.ngram, config.ngram_threshold).kept
        config = ExportSettings(**{**config.__dict__, "band": store.selection_band(config.band)})  # as export does
        flagged_problems, flagged_traces = store.flagged()
        kept -= flagged_problems
        chosen = select(store, kept, config.band)
        selected = unflagged(store.by_problem(meta_kinds(config), chosen), flagged_traces)  # read as rows are made
        try:
            return [json.loads(row) for row in dpo_rows(rendered_groups(selected, config, {}), config, {})]
        except UserError:  # no problem with both a correct and an incorrect trace: no pairs
            return []
