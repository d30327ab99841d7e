"""The Playground's engine: one program answering one problem in a worker thread, turn by turn.

No Streamlit here: the page polls `LiveRun.turns`, which the worker appends to as each turn completes, and
`LiveRun.partial`, the turn the model is writing meanwhile (its calls are streamed where the provider can stream).
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from pathlib import Path

import dspy
from loguru import logger

from strawberry_dspy.attempt import Attempt, attempt
from strawberry_dspy.benchmarks import Problem, load_benchmark
from strawberry_dspy.config import ProgramSettings
from strawberry_dspy.errors import UserError
from strawberry_dspy.evaluate import problem_result
from strawberry_dspy.models import lm_for
from strawberry_dspy.program.streaming import Delta
from strawberry_dspy.program.strawberry import StrawberryProgram, TurnLoop
from strawberry_dspy.program.trace import Trace, Turn
from strawberry_dspy.run import RUN_DIR, summarize, write_run_dir
from strawberry_dspy.scoring import PluginScorer, Score, is_plugin, scorer_named
from strawberry_dspy.stage_output import staged

TYPED_ID = "typed"  # the id of a problem typed into the page


def make_lm(config: ProgramSettings) -> dspy.BaseLM:
    """The config's model, built as `strawberry run` builds it (one slot: the Playground runs one trace at a time)."""
    return lm_for(config)


def random_problem(spec: str, split: str, seed: int, pool: int = 200) -> Problem:
    """A problem drawn (seeded) from the first `pool` problems of a benchmark split."""
    problems = load_benchmark(spec).problems(split, pool)
    if not problems:
        raise UserError(f"benchmark {spec!r} has no {split} problems: check the spec and the split")
    return random.Random(seed).choice(problems)


def score_answer(config: ProgramSettings, problem: Problem, answer: str | None, benchmark: str | None = None) -> Score:
    """The answer graded as `strawberry run` grades it: by the scorer of the benchmark the problem came from.

    A typed problem (benchmark None) has none of a benchmark's metadata: the config's plain scorer grades it, and a
    task scorer falls back to `fallback_score`.
    """
    if benchmark:
        return load_benchmark(benchmark, config.scorer).score(problem, answer)
    if is_plugin(config.scorer):  # the user's own scorer grades a typed problem too
        return PluginScorer(config.scorer)(problem.id, problem.question, problem.answer, problem.metadata, answer)
    return scorer_named(config.scorer)(problem.answer, answer, problem.question)


@dataclass(frozen=True)
class Partial:
    """The turn being written: the module asking, its text and thinking so far, each cut at max_reply_chars (the
    bound its finished turn is cut to)."""

    after: int  # the turns recorded before it: it is shown after them, and is over once there are more
    source: str
    text: str = ""
    thinking: str = ""

    def grown(self, delta: Delta, limit: int) -> Partial:
        return Partial(self.after, self.source, (self.text + delta.text)[:limit],
                       (self.thinking + delta.thinking)[:limit])


class LiveRun:
    """A program answering one problem in a worker thread; stop it between turns, continue it for more."""

    def __init__(self, config: ProgramSettings, program: dspy.Module, lm: dspy.BaseLM, problem: Problem,
                 benchmark: str | None = None, seed: int = 0):
        self.config, self.program, self.lm, self.problem = config, program, lm, problem
        self.benchmark, self.seed = benchmark, seed  # benchmark: the spec the problem came from (None: typed)
        self.turns: list[Turn] = []  # appended by the worker, read by the page
        self.trace: Trace | None = None
        self.score: Score | None = None
        self.wall_s = 0.0
        self._partial: Partial | None = None
        self.session: TurnLoop | None = None
        if isinstance(program, StrawberryProgram):
            self.session = program.session(problem.question, seed, on_turn=self.turns.append)
        self._thread: threading.Thread | None = None

    @property
    def partial(self) -> Partial | None:
        """The turn written last (None before the first piece, and when the provider answers whole). Read it before
        `turns` and show it only if its `after` is their number: once its turn is recorded, the turn shows it."""
        return self._partial

    def _grow(self, delta: Delta) -> None:
        """A piece of the call in flight (handed over while the program waits, so every earlier turn is recorded)."""
        partial = self._partial
        if partial is None or partial.after != len(self.turns):  # the first piece of a new call
            partial = Partial(len(self.turns), delta.source)
        self._partial = partial.grown(delta, self.config.max_reply_chars)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def stopping(self) -> bool:
        """Stop was asked and the turn in flight is still being finished."""
        return self.running and self.session is not None and self.session.stopping.is_set()

    @property
    def can_continue(self) -> bool:
        """Only the strawberry loop keeps a chat to go on with."""
        return self.session is not None and not self.running and self.trace is not None

    def start(self, more_turns: int | None = None) -> None:
        """Run (or, with more_turns, continue) in a worker thread."""
        if self.running:
            raise UserError("the program is still running: stop it first")
        if more_turns is not None:
            if not self.can_continue:
                raise UserError("only a finished or stopped strawberry program can be continued")
            self.session.extend(more_turns)
        self.score = None
        self._thread = threading.Thread(target=self._work, name="playground", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """End after the turn in progress (a single-call program cannot be stopped part-way)."""
        if self.session is not None:
            self.session.stop()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the worker is done; True when it is."""
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.running

    def _work(self) -> None:
        call = self.session.run if self.session is not None else None  # the session keeps its chat to continue
        try:
            result = attempt(self.program, self.problem.question, self.seed, self.lm, self.config.max_reply_chars,
                             lambda answer: score_answer(self.config, self.problem, answer, self.benchmark), call,
                             on_delta=self._grow)
        except Exception as exc:  # the scorer failed: shown in the page, never lost in a thread
            result = Attempt(Trace(stop_reason="error", error=f"{type(exc).__name__}: {exc}"[:1000]), None, 0.0)
        self._partial = None  # a single-call program's turns come whole, below; a failed call's pieces go
        if self.session is None:
            self.turns.extend(result.trace.turns)
        elif result.failed and not result.trace.turns:  # it failed: keep the turns it took
            result.trace.turns = list(self.turns)
        if result.failed:
            logger.warning("playground run failed: {}", result.trace.error)
        self.trace, self.score = result.trace, result.score
        self.wall_s += result.wall_s

    def save(self, out: str | Path) -> Path:
        """Write the trace as a one-problem run directory (the layout `strawberry run` writes)."""
        out = Path(out)
        if self.running or self.trace is None:
            raise UserError("nothing to save yet: wait until the program has stopped")
        if out.exists():
            raise UserError(f"{out} already exists: choose a new directory to save the trace into")
        score = self.score or score_answer(self.config, self.problem, self.trace.final_answer, self.benchmark)
        results = [problem_result(self.problem, self.trace, score)]
        with staged(out, RUN_DIR) as folder:
            write_run_dir(folder, self.config, results, summarize(results, self.wall_s),
                          extra={"source": "strawberry ui playground"})
        return out
