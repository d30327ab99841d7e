"""Bounded input: a huge question never reaches the model, a huge reply is cut before it is parsed or stored."""

import json
import time

import dspy
from loguru import logger

from strawberry_dspy.benchmarks import split_of
from strawberry_dspy.harvest import harvest
from strawberry_dspy.knobs import StrawberrySettings
from strawberry_dspy.program import StrawberryProgram
from strawberry_dspy.program.adapter import TextAdapter
from strawberry_dspy.store import TraceStore
from tests.compile.helpers import right_after_three_steps, rule_lm
from tests.harvest.scripted import harvest_config

BIG = 5_000_000  # chars: the size that once took minutes and gigabytes is 10x this; the bound makes it cheap


def big_question() -> str:
    """A 5 MB question of the train split (the harvest default)."""
    for n in range(100):
        question = f"What is 1 + {n}? " + "Consider every digit of this number: " + "7" * BIG
        if split_of(question) == "train":
            return question
    raise AssertionError("no train-split question")


def test_a_huge_question_is_left_out_with_a_warning_before_any_model_call(tmp_path):
    problems = tmp_path / "problems.jsonl"
    with problems.open("w") as f:
        for i in range(30):
            f.write(json.dumps({"question": f"What is {i} + 1?", "answer": str(i + 1)}) + "\n")
        f.write(json.dumps({"question": big_question(), "answer": "1"}) + "\n")
    warnings = []
    logger.enable("strawberry_dspy")  # the library is quiet until the CLI turns it on (conftest turns it off again)
    sink = logger.add(lambda message: warnings.append(str(message)), level="WARNING")
    lm = rule_lm(right_after_three_steps)
    start = time.perf_counter()
    try:
        summary = harvest(harvest_config(problems, limit=100), tmp_path / "h", samples=1, lm=lm, progress=False)
    finally:
        logger.remove(sink)
    assert time.perf_counter() - start < 60
    assert summary.left_out["too_long"] == 1 and summary.problems >= 1
    assert any("longer than max_question_chars=20000" in w for w in warnings)
    assert all(len(json.dumps(call["messages"])) < 100_000 for call in lm.history)  # it never reached the model
    with TraceStore.open(tmp_path / "h") as store:
        assert max(len(p.question) for p in store.problems()) < 100
    assert (tmp_path / "h" / "traces.sqlite").stat().st_size < 1_000_000


def test_the_question_bound_is_a_recipe_setting(tmp_path):
    problems = tmp_path / "problems.jsonl"
    problems.write_text("".join(json.dumps({"question": f"What is {i} + 1?" + " really" * i, "answer": str(i + 1)})
                                + "\n" for i in range(30)))
    config = harvest_config(problems, limit=100, max_question_chars=60)
    summary = harvest(config, tmp_path / "h", samples=1, lm=rule_lm(right_after_three_steps), progress=False)
    with TraceStore.open(tmp_path / "h") as store:
        assert all(len(p.question) <= 60 for p in store.problems())
    assert summary.left_out["too_long"] > 0 and summary.problems > 0


def test_a_huge_reply_is_cut_before_it_is_stored_or_sent_back():
    huge = "I add. " * 1_000_000
    lm = rule_lm(lambda messages: huge if messages[-1]["role"] == "user" and len(messages) < 4 else "<final_answer>2")
    knobs = StrawberrySettings(check_every=1, verifier_every=0, max_turns=3, force_answer=False,
                               check_prefill="<final_answer>")
    with dspy.context(lm=lm, adapter=TextAdapter(max_reply_chars=1000)):
        trace = StrawberryProgram(knobs)(question="What is 1 + 1?").trace
    assert max(len(t.content) for t in trace.turns) <= 1000
    assert all(len(json.dumps(call["messages"])) < 10_000 for call in lm.history)  # the chat never grew by it
