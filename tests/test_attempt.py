"""The one execution seam: run, harvest, the Playground and compile's optimizers all honour the recipe's max_reply_chars."""

import pytest

from strawberry_dspy.benchmarks import load_benchmark
from strawberry_dspy.compile.metrics import FeedbackMetric, GoldMetric, to_examples
from strawberry_dspy.compile.optimizers import optimize
from strawberry_dspy.config import config_from_dict
from strawberry_dspy.evaluate import run_program
from strawberry_dspy.harvest import harvest
from strawberry_dspy.program.build import build_program
from strawberry_dspy.store import TraceStore
from tests.compile.helpers import gold_sum, is_check, rule_lm, write_sums

BOUND = 1000
HUGE = "I add the numbers. " * 5_000  # 95,000 chars: past the bound and past the default (20,000)


def long_steps(messages) -> str:
    """Every step a huge reply; a check answers right (so an optimizer keeps the traces as demos)."""
    return f"<final_answer>{gold_sum(messages)}</final_answer>" if is_check(messages) else HUGE


@pytest.fixture
def config(tmp_path):
    spec = write_sums(tmp_path / "sums.jsonl", n=30)
    return config_from_dict({"program": "strawberry", "benchmark": spec, "split": "train", "limit": 3,
                             "concurrency": 2, "max_reply_chars": BOUND,
                             "strawberry": {"check_every": 2, "verifier_every": 0, "max_turns": 4,
                                            "force_answer": False, "check_prefill": "<final_answer>"}})


def longest_sent_back(lm) -> int:
    """The longest model reply that went back to the model inside a later prompt."""
    return max(len(m["content"]) for call in lm.history for m in call["messages"] if m["role"] == "assistant")


def longest_turn(turns) -> int:
    return max(len(t.content if hasattr(t, "content") else t["content"]) for t in turns)


def test_run_and_compile_evaluations_cut_replies_at_the_bound(config):
    benchmark = load_benchmark(config.benchmark)
    lm = rule_lm(long_steps)
    results = run_program(build_program(config), benchmark.problems("train", 3), benchmark, lm, 2, progress=False,
                          config=config)
    assert all(r.correct for r in results)
    assert max(longest_turn(r.trace["turns"]) for r in results) == BOUND
    assert longest_sent_back(lm) <= BOUND


def test_harvest_cuts_replies_at_the_bound(config, tmp_path):
    lm = rule_lm(long_steps)
    summary = harvest(config, tmp_path / "h", samples=1, lm=lm, progress=False)
    assert summary.traces == 3 and summary.failed == 0
    with TraceStore.open(tmp_path / "h") as store:
        assert max(longest_turn(store.turns(t.id)) for t in store.traces()) == BOUND
    assert longest_sent_back(lm) <= BOUND


def test_the_playground_cuts_replies_at_the_bound(config):
    pytest.importorskip("streamlit", reason="the UI needs the [ui] extra")
    from strawberry_dspy.ui.live import LiveRun

    problem = load_benchmark(config.benchmark).problems("train", 1)[0]
    lm = rule_lm(long_steps)
    run = LiveRun(config, build_program(config), lm, problem)
    run.start()
    assert run.wait(30)
    assert run.score.correct and longest_turn(run.turns) == BOUND
    assert longest_sent_back(lm) <= BOUND


def test_the_optimizers_inside_compile_cut_replies_at_the_bound(config):
    benchmark = load_benchmark(config.benchmark)
    train, dev = benchmark.problems("train", 3), benchmark.problems("dev", 2)
    lm = rule_lm(long_steps)
    compiled = optimize("bootstrap", build_program(config), to_examples(train, 0), to_examples(dev, 0),
                        GoldMetric(benchmark, train + dev), FeedbackMetric(benchmark, train + dev), 3, lm, None, 1, 0,
                        config.max_reply_chars)
    demos = compiled.step.predict.demos
    assert demos and max(len(d["step"]) for d in demos) == BOUND
    assert longest_sent_back(lm) <= BOUND
