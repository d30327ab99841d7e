"""Decontamination: evaluation problems never reach a training export; removals are counted by reason."""

import json

import pytest

from strawberry_dspy.benchmarks import question_hash, split_of
from strawberry_dspy.export import ExportSettings, export
from strawberry_dspy.export.decontam import NgramIndex, decontaminate, eval_questions, tokens
from strawberry_dspy.export.expression import expression_key
from strawberry_dspy.store import ProblemRow
from tests.export.store_fixture import BENCHMARK, benchmark_problems, build_mixed_store


def problem(pid, question, split="train"):
    return ProblemRow(pid, question, "1", split, question_hash(question))


def train_question(text):
    """A variant of text whose own hash split is train (so only the check under test can catch it)."""
    for suffix in ("", " ", "  Please.", " Now.", " Quickly!", " Again?", " Exactly.", " Hmm."):
        if split_of(text + suffix) == "train":
            return text + suffix
    raise AssertionError(text)


def test_each_reason_is_checked_and_counted():
    reference = ["If Ann has 12 apples and gives 5 of them to Bob, how many apples does Ann have left over now?",
                 train_question("What is the capital city of France"), "Calculate ( 3 + -3 )."]
    problems = {
        "stored_test": problem("stored_test", train_question("Some question"), split="test"),
        "stored_dev": problem("stored_dev", train_question("Another question"), split="dev"),
        "hash": problem("hash", "  WHAT is the capital city of   France" + reference[1][len("What is the capital city of France"):]),
        "ngram": problem("ngram", train_question("Story time: if Ann has 12 apples and gives 5 of them to Bob, "
                                                 "how many apples does Ann have left over now? Think.")),
        "clean": problem("clean", train_question("If Carl has 3 pears, how many pears does Carl have")),
        "expression": problem("expression", train_question("Work out 3 - 3")),
    }
    result = decontaminate(problems, ["test"], reference, n=8, threshold=0.5)
    assert result.kept == {"stored_dev", "clean"}
    assert result.removed == {"demo": [], "split": ["stored_test"], "hash": ["hash"], "expression": ["expression"],
                              "ngram": ["ngram"]}
    assert result.counts() == {"demo": 0, "split": 1, "hash": 1, "expression": 1, "ngram": 1} and result.reference == 3
    with_dev = decontaminate(problems, ["test", "dev"], reference)
    assert "stored_dev" in with_dev.removed["split"]
    leaked = decontaminate(problems, ["test"], reference, demo_qhashes={problems["clean"].qhash})
    assert leaked.removed["demo"] == ["clean"] and leaked.kept == {"stored_dev"}


@pytest.mark.parametrize("a, b", [
    ("Calculate ( 3 + -3 ).", "Calculate 3 - 3."),
    ("Calculate 9 - -3.", "What is 9 + 3?"),
    ("Calculate -( 6 + -7 ).", "Calculate -(6-7)"),
    ("Calculate +4 * ((2)).", "Calculate 4*2."),
    ("Solve 2*x + 3 = 7 for x.", "Solve: 2 * x+3=7"),
    ("Calculate 12 − 5.", "Calculate 12 - 5."),
    ("Calculate 1,000 + 2.", "Calculate 1000 + 2."),
])
def test_the_same_expression_written_differently_has_one_key(a, b):
    assert expression_key(a) is not None and expression_key(a) == expression_key(b)


@pytest.mark.parametrize("a, b", [
    ("Calculate 3 + -4.", "Calculate 3 - 3."),
    ("Calculate -(6 - 7).", "Calculate 7 - 6."),  # equal in value, but another expression: not the same problem
    ("Calculate 1,000 + 2.", "Calculate 0 + 2."),
])
def test_different_expressions_have_different_keys(a, b):
    assert expression_key(a) != expression_key(b)


@pytest.mark.parametrize("question", ["How many apples does Ann have if she has 3?", "What is the capital of France?",
                                      "Calculate 7.", "import os; os.system('x') + 1"])
def test_questions_without_an_arithmetic_expression_have_no_key(question):
    assert expression_key(question) is None


def test_split_is_also_recomputed_from_the_question():
    question = benchmark_problems("test", 1)[0].question
    result = decontaminate({"x": problem("x", question, split="train")}, ["test"], [])
    assert result.removed["split"] == ["x"]


def test_ngram_overlap_counts_the_shorter_side_and_shrinks_n_for_short_questions():
    index = NgramIndex(["Calculate ( 3 + -3 ).", "a b c d e f g h i j k l"], n=8)
    assert index.overlap("Please, calculate ( 3 + -3 ). Show your work.") == 1.0  # short eval question inside
    assert index.overlap("Calculate ( 3 + -4 ).") == 0.0
    assert index.overlap("a b c d e f g h x y z") == pytest.approx(1 / 4)  # 1 of the 4 8-grams of the shorter
    assert tokens("Calculate 5 * -4.") == ["calculate", "5", "*", "-", "4"]


def test_eval_questions_take_what_a_small_split_has():
    questions = eval_questions(BENCHMARK, ["test"], 100000)
    assert 100 < len(questions) < 100000  # the 1-digit task has a few hundred distinct test problems
    assert {split_of(q) for q in questions} == {"test"}


def test_eval_questions_unloadable_benchmark_is_a_user_error():
    from strawberry_dspy.errors import UserError

    with pytest.raises(UserError, match="--decontam-benchmark"):
        eval_questions("jsonl:/nonexistent/file.jsonl", ["test"], 10)


@pytest.mark.parametrize("fmt", ["sft", "dpo", "kto", "stepwise"])
def test_planted_test_problems_never_reach_an_export(tmp_path, fmt):
    ids = build_mixed_store(tmp_path / "run")
    report = export(tmp_path / "run", ExportSettings(format=fmt, decontam_limit=50), tmp_path / "out")
    # the near copy rewrites the test expression's spacing: the expression check catches it before the n-grams do
    assert report.counts["decontaminated"] == {"demo": 0, "split": 2, "hash": 0, "expression": 1, "ngram": 0}
    text = (tmp_path / "out" / "train.jsonl").read_text()
    rows = [json.loads(line) for line in text.splitlines()]
    exported = {r["problem_id"] for r in rows}
    assert not exported & {ids["planted"], ids["relabelled"], ids["near"]}
    assert "leak" not in text and all(ids["questions"][ids[p]] not in text for p in ("planted", "relabelled", "near"))
    card = (tmp_path / "out" / "README.md").read_text()
    assert '"split": 2' in card and '"expression": 1' in card
