"""`strawberry harvest --batch`: every trace of the run started at once, advanced one turn per provider batch.

The traces run on threads as in a live harvest, with the LM of `models/batch_lm.py`: each LM call waits in
`models/waves.py` until every trace still running waits, and then the calls go to the provider as one batch. The store
is the waves' ledger (`store/batch_calls.py`), so a killed or interrupted run, rerun, re-attaches to the batch in
flight and replays what earlier batches answered; each trace is still stored once, when it has finished.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Callable, Iterable

import dspy
from loguru import logger

from strawberry_dspy.benchmarks import Problem
from strawberry_dspy.config import ProgramSettings
from strawberry_dspy.errors import PROVIDER_FIX, ProviderFailure, UserError
from strawberry_dspy.executors import Executor, RunStats, Worker, Workload
from strawberry_dspy.harvest.progress import HarvestProgress
from strawberry_dspy.models.batch_api import BatchAPI, BatchAPIError
from strawberry_dspy.models.batch_lm import batch_lm_for
from strawberry_dspy.models.waves import Waves, trace_prefix
from strawberry_dspy.store import TraceStore


def open_waves(config: ProgramSettings, poll_s: float, executor: Executor,
               lm: dspy.BaseLM | None) -> tuple[Waves, dspy.BaseLM]:
    """The waves and the batch LM of a --batch harvest, its key and batch API checked (`check_batch_access`); a
    UserError for a harvest that cannot be batched. Call it before the harvest writes anything."""
    if executor.kind != "thread":
        raise UserError(f"--batch runs every trace on threads of this process (the provider's batch API does the "
                        f"work), not --executor {executor.kind}; drop one of the two")
    if lm is not None:
        raise UserError("a --batch harvest builds its own LM from the recipe's model (the provider's batch API); "
                        "pass no lm")
    waves = Waves(poll_s)
    lm = batch_lm_for(config, waves)
    check_batch_access(lm.engine.batch_api())
    return waves, lm


def check_batch_access(api: BatchAPI) -> None:
    """A new live harvest samples its first trace before it writes anything; a batch harvest, whose first answer
    may take hours, asks the batch API for its newest batch instead (one GET, no batch created): a key the provider
    refuses or a server without the batch API is one line (ProviderFailure, exit 1, as for a live harvest)."""
    try:
        api.check()
    except BatchAPIError as error:
        cause = str(error).splitlines()[0][:300]
        fix = {401: "the provider refused the key: check the variable the recipe's api_key_env names (without one: "
                    "OPENAI_API_KEY or ANTHROPIC_API_KEY)",
               403: "the key may not use the batch API: check its project's permissions",
               404: "this server has no batch API at this base URL (--api-base): drop --batch to harvest live"
               }.get(error.status, PROVIDER_FIX)
        raise ProviderFailure(f"the batch API did not answer the harvest's first call ({cause}); nothing was "
                              f"written: {fix}") from None


def run_in_waves(waves: Waves, store: TraceStore, executor: Executor, workload: Workload,
                 fn: Callable[[Worker, Any], Any], units: Iterable[tuple[Problem, int]],
                 on_result: Callable[[Any, Any, str], None], progress: HarvestProgress) -> RunStats:
    """Run fn on every unit at once, its LM calls answered wave by wave; Ctrl-C stops once the batch API call under way
    has returned, a submission recorded (a rerun re-attaches)."""
    units = list(units)  # every trace starts now: a wave waits for all of them
    waves.on_state = progress.batch_note
    waves.start(store, [(problem.id, sample) for problem, sample in units])

    def store_and_forget(unit: tuple[Problem, int], result: Any, node: str) -> None:
        on_result(unit, result, node)
        if result[0]["stop_reason"] != "error":  # a failed trace's answers stay: its rerun replays them
            store.forget_batch_calls(trace_prefix((unit[0].id, unit[1])))

    try:
        return executor.run(workload, partial(_in_wave, waves, fn), units, store_and_forget, max(1, len(units)),
                            drain=False)
    except KeyboardInterrupt:
        logger.warning("stopped: the batch in flight stays with the provider; rerun the same command to re-attach "
                       "to it")
        return RunStats(interrupted=True)
    finally:
        waves.close()


def _in_wave(waves: Waves, fn: Callable[[Worker, Any], Any], worker: Worker, unit: tuple[Problem, int]) -> Any:
    problem, sample = unit
    with waves.trace((problem.id, sample)):
        return fn(worker, unit)
