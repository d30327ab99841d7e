"""Everything the UI reads from a harvest store, in one place: read-only, and no -wal/-shm left behind.

Only `TraceStore`'s public read methods and the stats / selection / export functions are used, so
this one file is what follows the store module when it changes.
"""

from __future__ import annotations

import os
import threading
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from strawberry_dspy.errors import UserError
from strawberry_dspy.export.band import by_problem, in_band
from strawberry_dspy.export.config import ExportConfig
from strawberry_dspy.export.decontam import decontaminate
from strawberry_dspy.export.formats import dpo_rows, rendered_groups
from strawberry_dspy.export.reader import StoredProblem, StoredTrace, StoredTurn
from strawberry_dspy.harvest.selection import DEFAULT_BAND, tallies
from strawberry_dspy.harvest.stats import HarvestStats, harvest_stats
from strawberry_dspy.harvest.store import STORE_FILE, TraceRow, TraceStore, store_path
from strawberry_dspy.program.trace import Turn

SIDE_FILES = ("-wal", "-shm")
_lock = threading.Lock()
_readers: dict[Path, int] = {}
_ours: set[Path] = set()  # stores whose -wal/-shm this process's reading created


def is_harvest_dir(path: Path) -> bool:
    """Whether a directory holds a harvest store."""
    return (path / STORE_FILE).is_file()


def _side_files(file: Path) -> list[Path]:
    return [file.with_name(file.name + suffix) for suffix in SIDE_FILES if file.with_name(file.name + suffix).exists()]


@contextmanager
def reading(path: str | Path) -> Iterator[TraceStore]:
    """The store opened read-only; when the last reader of a store that had no -wal/-shm closes, they go again.

    SQLite's read-only connection to a WAL store creates -wal and -shm but cannot remove them. When they were
    absent before (a finished store), a read-write connection is opened and closed at the end: as the last
    connection SQLite checkpoints an empty log and deletes both. Were a harvest to start writing meanwhile, that
    connection would not be the last one, and SQLite leaves the files to the writer.
    """
    file = store_path(path)
    with _lock:
        if not _readers.get(file) and not _side_files(file):
            _ours.add(file)
        _readers[file] = _readers.get(file, 0) + 1
    try:
        with TraceStore.open(file, readonly=True) as store:
            yield store
    finally:
        with _lock:
            _readers[file] -= 1
            if not _readers[file] and file in _ours:
                _ours.discard(file)
                if _side_files(file) and os.access(file, os.W_OK) and os.access(file.parent, os.W_OK):
                    try:
                        TraceStore.open(file, readonly=False).close()
                    except UserError:  # not a readable store after all: the reading raised that already
                        pass


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
    band: tuple[float, float]
    problems: list[ProblemSummary] = field(default_factory=list)

    @property
    def traces(self) -> int:
        return sum(p.samples for p in self.problems)


def band_of(meta: dict[str, str]) -> tuple[float, float]:
    """The band the harvest recorded (the default one if it recorded none)."""
    lo, _, hi = (meta.get("band") or "").partition(",")
    return (float(lo), float(hi)) if hi else DEFAULT_BAND


def harvest_view(path: str | Path) -> HarvestView:
    """The harvest's problems with samples, pass rate, band membership and tokens."""
    with reading(path) as store:
        meta = store.meta()
        band = band_of(meta)
        counts = tallies(store)
        sums: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
        for row in store.traces():
            s = sums[row.problem_id]
            s[0], s[1] = s[0] + 1, s[1] + row.failed
            s[2], s[3], s[4] = s[2] + row.completion_tokens, s[3] + row.prompt_tokens, s[4] + row.cached_tokens
        view = HarvestView(store.path.parent, meta, band)
        for p in store.problems():
            correct, valid = counts.get(p.id, (0, 0))
            rate = correct / valid if valid else None
            samples, failed, completion, prompt, cached = sums[p.id]
            view.problems.append(ProblemSummary(
                p.id, p.question, p.answer, p.split, samples, failed, correct, rate,
                rate is not None and band[0] <= rate <= band[1], completion, prompt, cached))
    return view


def problem_traces(path: str | Path, problem_id: str) -> list[tuple[TraceRow, list[Turn]]]:
    """One problem's traces with their turns, in sample order."""
    with reading(path) as store:
        return [(row, store.turns(row.id)) for row in store.traces(problem_id)]


def stats_of(path: str | Path) -> HarvestStats:
    """What `strawberry stats` reports: stop reasons, tokens, the verifier's AUROC, nudge effects."""
    with reading(path) as store:
        return harvest_stats(store)


def _export_store(store: TraceStore) -> tuple[dict[str, StoredProblem], list[StoredTrace]]:
    """The store as the export stage reads it: problems, and finished (non-failed) traces with turns."""
    problems = {p.id: StoredProblem(p.id, p.question, p.answer, p.split, p.qhash) for p in store.problems()}
    traces = [StoredTrace(row.id, row.problem_id, row.sample, row.correct, row.steps, row.completion_tokens,
                          row.stop_reason, row.final_answer,
                          [StoredTurn(t.role, t.kind, t.content, t.meta) for t in store.turns(row.id)])
              for row in store.traces(include_failed=False)]
    return problems, traces


def dpo_pairs(path: str | Path, config: ExportConfig) -> list[dict]:
    """The DPO rows `strawberry export --format dpo` builds with these settings, weights included.

    Problems of an evaluation split are left out as the export does; its hash / n-gram check against the
    benchmark's evaluation questions is not run here (it loads the benchmark), so an export may keep fewer.
    """
    config = ExportConfig(**{**config.__dict__, "format": "dpo", "resample": 0.0}).validate()
    with reading(path) as store:
        problems, traces = _export_store(store)
    kept = decontaminate(problems, config.eval_splits, [], config.ngram, config.ngram_threshold).kept
    selected = in_band(by_problem([t for t in traces if t.problem_id in kept]), config.band)
    try:
        return dpo_rows(rendered_groups(selected, problems, config, {}), config, {})
    except UserError:  # no problem with both a correct and an incorrect trace: no pairs
        return []
