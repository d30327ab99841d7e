"""The real `strawberry` CLI in a child process, with the scripted model in place of the embedded one.

    python -m tests.harvest.harvest_child PROBLEMS_JSONL DELAY_S harvest PROGRAM ...

Each model call sleeps DELAY_S, so a test can kill or interrupt the harvest part-way.
"""

import inspect
import json
import sys

import strawberry_dspy.models.lm as lm_layer
from strawberry_dspy.cli import main
from tests.harvest.scripted import HarvestLM


def _scripted(problems_file: str, delay: float):
    with open(problems_file) as f:
        gold = {row["question"]: row["answer"] for row in map(json.loads, f)}

    def resolve_lm(spec, **kwargs):
        return HarvestLM(gold, {q: 1 for q in gold}, delay=delay)

    return resolve_lm


if __name__ == "__main__":
    problems, delay, *argv = sys.argv[1:]
    assert inspect.ismodule(lm_layer), "patch lm_for's module, not a function of the same name"
    lm_layer.resolve_lm = _scripted(problems, float(delay))  # under lm_for, the one place every stage builds its LM
    sys.exit(main(argv))
