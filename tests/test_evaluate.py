"""Evaluation (run_program) with a scripted LM: scoring, stop reasons, and no gold answer in any prompt."""

import json

import pytest

from strawberry_dspy.benchmarks import load_benchmark
from strawberry_dspy.evaluate import problem_seed, run_program
from strawberry_dspy.knobs import StrawberrySettings
from strawberry_dspy.program import ChainOfThought, StrawberryProgram
from strawberry_dspy.run import summarize
from strawberry_dspy.testing import all_prompt_text, scripted_lm

GOLDS = ["731904", "528617", "964250"]


@pytest.fixture
def benchmark(tmp_path):
    path = tmp_path / "problems.jsonl"
    rows = [{"question": f"Riddle number {i}: what is the secret code?", "answer": gold} for i, gold in enumerate(GOLDS * 4)]
    rows = [{**r, "question": r["question"] + f" (variant {i})"} for i, r in enumerate(rows)]
    path.write_text("\n".join(json.dumps(r) for r in rows))
    return load_benchmark(f"jsonl:{path}")


TURN_SCRIPT = {  # first key found in the last message wins
    "Recent steps": {"critique": "Looks fine. VERDICT: correct"},
    "short title": {"title": "Reading the riddle"},
    "final answer now": {"reply": "<final_answer>1</final_answer>"},
    "": {"step": "thinking"},
}


@pytest.mark.parametrize("make_program, script", [
    (lambda: StrawberryProgram(StrawberrySettings(check_every=2, verifier_every=1, verifier_window=2, title_every=1,
                                                  max_turns=5)), TURN_SCRIPT),
    (lambda: ChainOfThought(), {"": {"reasoning": "r", "answer": "1"}}),
])
def test_no_prompt_ever_contains_the_gold_answer(benchmark, make_program, script):
    problems = benchmark.problems("train", None)
    lm = scripted_lm(script)
    results = run_program(make_program(), problems, benchmark, lm, concurrency=2, progress=False)
    assert len(results) == len(problems) and lm.history
    text = all_prompt_text(lm)
    assert not any(p.answer in text for p in problems)
    assert all(r.gold in GOLDS and r.answer == "1" and not r.correct for r in results)
    kinds = {t["kind"] for r in results for t in r.trace["turns"]}
    assert kinds >= ({"step", "verify", "title", "final"} if script is TURN_SCRIPT else {"final"})


def test_scores_and_summary(benchmark):
    problems = benchmark.problems("train", None)
    gold_of = {p.question: p.answer for p in problems}
    answers = {q: {"answer": gold_of[q] if i % 2 == 0 else "nope"} for i, q in enumerate(gold_of)}
    lm = scripted_lm(answers)
    from strawberry_dspy.program import ZeroShot

    results = run_program(ZeroShot(), problems, benchmark, lm, concurrency=2, progress=False)
    expected = {q: i % 2 == 0 for i, q in enumerate(gold_of)}
    assert {r.question: r.correct for r in results} == expected
    assert all(r.rule in ("math-verify", "equal") if r.correct else r.rule for r in results)  # each row names its rule
    summary = summarize(results, wall_s=2.0)
    assert summary["correct"] == sum(expected.values()) and summary["stop_reasons"] == {"final_answer": len(problems)}


def test_problem_seed_is_stable_and_distinct():
    assert problem_seed(0, "a") == problem_seed(0, "a")
    assert len({problem_seed(0, str(i)) for i in range(100)}) == 100
    assert problem_seed(0, "a") != problem_seed(1, "a")


class _SeedCoin(__import__("dspy").Module):
    """A program whose answer depends only on its seed: right when the seed is even (no LM call)."""

    def __init__(self, gold_of):
        super().__init__()
        self.gold_of = gold_of

    def forward(self, question, seed):
        from strawberry_dspy.program.trace import Trace

        trace = Trace(stop_reason="final_answer")
        trace.final_answer = self.gold_of[question] if seed % 2 == 0 else "wrong"
        trace.seed = seed
        return __import__("dspy").Prediction(trace=trace)


def test_samples_run_each_problem_k_times_with_k_seeds(benchmark):
    problems = benchmark.problems("train", None)
    gold_of = {p.question: p.answer for p in problems}
    one = run_program(_SeedCoin(gold_of), problems, benchmark, None, concurrency=2, progress=False)
    four = run_program(_SeedCoin(gold_of), problems, benchmark, None, concurrency=2, progress=False, samples=4)
    assert len(four) == 4 * len(problems)
    assert [r.problem_id for r in four] == [p.id for p in problems for _ in range(4)]  # problem by problem
    assert [r.sample for r in four[:4]] == [0, 1, 2, 3]
    # sample 0 is the one-sample run exactly (same seed), the others draw new seeds
    assert [r.correct for r in four if r.sample == 0] == [r.correct for r in one]
    seeds = {(r.problem_id, r.sample): problem_seed(0, r.problem_id, r.sample) for r in four}
    assert len(set(seeds.values())) == len(four) and seeds[(four[0].problem_id, 0)] == problem_seed(0, four[0].problem_id)
    for r in four:
        assert r.correct == (seeds[(r.problem_id, r.sample)] % 2 == 0)
    summary = summarize(four, wall_s=1.0)
    assert summary["problems"] == len(problems) and summary["traces"] == len(four)
    low, high = summary["accuracy_ci"]
    assert low <= summary["accuracy"] <= high
