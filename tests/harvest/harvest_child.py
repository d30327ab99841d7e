"""The real `strawberry` CLI in a child process, with the scripted model in place of the embedded one.

    python -m tests.harvest.harvest_child PROBLEMS_JSONL DELAY_S harvest PROGRAM ...
    python -m tests.harvest.harvest_child PROBLEMS_JSONL pause:CALLS:FILE harvest PROGRAM ...

Each model call sleeps DELAY_S, so a test can kill the harvest part-way. With `pause:CALLS:FILE` the model answers
CALLS calls, then every further call creates FILE (the test's event: "the harvest is part-way") and waits until
the process gets Ctrl-C: the harvest cannot finish before the SIGINT arrives, however loaded the machine is.
"""

import inspect
import json
import signal
import sys
import threading
from pathlib import Path

import strawberry_dspy.models.lm as lm_layer
from strawberry_dspy.cli import main
from tests.harvest.scripted import HarvestLM

INTERRUPTED = threading.Event()  # set by the SIGINT handler, before the KeyboardInterrupt reaches the harvest


class PausingLM(HarvestLM):
    """HarvestLM that, after `after` calls, signals `waiting` and holds every call until Ctrl-C."""

    def __init__(self, gold, correct, after: int, waiting: Path):
        super().__init__(gold, correct)
        self.after, self.waiting = after, waiting

    def reply(self, messages):
        with self.lock:
            held = self.calls >= self.after
        if held:
            self.waiting.touch()
            INTERRUPTED.wait()
        return super().reply(messages)


def _on_sigint(signum, frame):
    INTERRUPTED.set()
    raise KeyboardInterrupt


def _scripted(problems_file: str, delay: str):
    with open(problems_file) as f:
        gold = {row["question"]: row["answer"] for row in map(json.loads, f)}
    correct = {q: 1 for q in gold}
    if delay.startswith("pause:"):
        _, calls, waiting = delay.split(":", 2)
        signal.signal(signal.SIGINT, _on_sigint)
        lm = PausingLM(gold, correct, int(calls), Path(waiting))
        return lambda spec, **kwargs: lm

    def resolve_lm(spec, **kwargs):
        return HarvestLM(gold, correct, delay=float(delay))

    return resolve_lm


if __name__ == "__main__":
    problems, delay, *argv = sys.argv[1:]
    assert inspect.ismodule(lm_layer), "patch lm_for's module, not a function of the same name"
    lm_layer.resolve_lm = _scripted(problems, delay)  # under lm_for, the one place every stage builds its LM
    sys.exit(main(argv))
