"""Scorers grade right, wrong, garbled and missing answers, and record what they extracted and the rule that decided."""

import pytest

from strawberry_dspy.errors import UserError
from strawberry_dspy.scoring import SCORER_NAMES, SCORERS, best_graded, check_scorer, clean_answer


@pytest.mark.parametrize(
    "response, cleaned",
    [
        ("The answer is 42.", "42"),
        ("Final answer: Paris", "Paris"),
        ("<final_answer>\\boxed{\\frac{1}{2}}</final_answer>", "\\frac{1}{2}"),
        ("**yes**", "yes"),
        ('"HELLO WORLD"', "HELLO WORLD"),
        ("Wait...", "Wait..."),
    ],
)
def test_clean_answer_strips_wrapping_words(response, cleaned):
    assert clean_answer(response) == cleaned


@pytest.mark.parametrize(
    "gold, response, correct, extracted",
    [
        ("Paris", "The answer is paris.", True, "paris"),
        ("Paris", "London", False, "London"),
        ("-5", "5", False, "5"),
    ],
)
def test_exact(gold, response, correct, extracted):
    score = SCORERS["exact"](gold, response)
    assert (score.correct, score.value, score.extracted) == (correct, float(correct), extracted)


@pytest.mark.parametrize(
    "gold, response, correct, extracted",
    [
        ("1000", "It costs 1,000 dollars", True, "1,000"),
        ("0.75", "3/4", True, "3/4"),
        ("3/4", "\\frac{3}{4}", True, "3/4"),
        ("42", "41 or maybe 43", False, "41 or maybe 43"),  # several answers: none is credited
        ("1000", "1000.01", False, "1000.01"),
        ("42", "no idea ###", False, None),
    ],
)
def test_numeric(gold, response, correct, extracted):
    score = SCORERS["numeric"](gold, response)
    assert (score.correct, score.extracted) == (correct, extracted)


def test_numeric_with_non_numeric_gold_compares_text():
    assert SCORERS["numeric"]("x+1", "1+x").correct is False
    assert SCORERS["numeric"]("blue", "Blue").correct is True


@pytest.mark.parametrize(
    "gold, response, correct",
    [
        ("\\frac{1}{2}", "0.5", True),
        ("x+1", "1+x", True),
        ("72", "Natalia sold 72 clips.", True),
        ("x+1", "x+2", False),
        ("42", "%%%garbled", False),
        ("Paris", "paris", True),  # not mathematics: compared as text
    ],
)
def test_math_verify(gold, response, correct):
    assert SCORERS["math_verify"](gold, response).correct is correct


def test_math_verify_works_outside_the_main_thread():
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        scores = list(pool.map(lambda r: SCORERS["math_verify"]("\\frac{3}{4}", r), ["0.75", "0.7"]))
    assert [s.correct for s in scores] == [True, False]


@pytest.mark.parametrize("name", sorted(SCORERS))
@pytest.mark.parametrize("response", [None, "", "   "])
def test_missing_response_scores_zero(name, response):
    score = SCORERS[name]("42", response)
    assert (score.correct, score.value, score.extracted) == (False, 0.0, None)


def test_best_graded_counts_only_full_credit_and_keeps_best_extraction():
    def grade(answer):
        return 1.0 if answer == "HELLO" else (0.5 if "HELLO" in answer else 0.0)

    assert best_graded(grade, "HELLO", 'The answer is "HELLO".').extracted == "HELLO"
    partial = best_graded(grade, "HELLO", "HELLO and more")
    assert (partial.correct, partial.value) == (False, 0.5)


def test_best_graded_treats_a_crashing_grader_as_wrong():
    def grade(answer):
        raise KeyError(answer)

    assert best_graded(grade, "1", "1").value == 0.0


def test_unknown_scorer_names_the_value_and_valid_names():
    assert "task" in SCORER_NAMES
    with pytest.raises(UserError, match=r"'fuzzy'.*exact, numeric, math_verify, task"):
        check_scorer("fuzzy")


@pytest.mark.parametrize("name", sorted(SCORERS))
@pytest.mark.parametrize(
    "question, gold, response, rule",
    [
        ("What is 4 + 5?", "9", "4 + 5", "restated-question"),
        ("What is 2 + 6?", "8", "2 + 6 \nThat is true.", "restated-question"),
        ("What is 4 + 5?", "9", "either 8 or 9", "several-answers"),
        ("What is 4 + 5?", "9", "1 or 9", "several-answers"),
        ("What is 4 + 5?", "9", "The answer is not 9.", "negated"),
        ("Calculate 0 - -9.", "9", "0 - -9 - 9", "unevaluated-expression"),
        ("What is 4 + 5?", "9", "The answer is 9. Wait, it is 8.", "several-answers"),
        ("What is 4 + 5?", "9", "probably 9", "hedged"),
        ("What is 4 + 5?", "9", "I like turtles.\nThey are green.", "no-stated-answer"),
    ],
)
def test_no_scorer_credits_a_reply_that_gives_no_single_answer(name, question, gold, response, rule):
    score = SCORERS[name](gold, response, question)
    assert (score.correct, score.rule) == (False, rule)


@pytest.mark.parametrize("name", sorted(SCORERS))
@pytest.mark.parametrize(
    "gold, response, extracted",
    [
        ("0.5", "1/2", "1/2"), ("1/2", "\\frac{1}{2}", "1/2"), ("1000", "1,000", "1,000"), ("42", "42 apples", "42"),
        ("5", "$5", "5"), ("-12", "\u221212", "-12"), ("7", "\\boxed{7}", "7"), ("7", "The answer is 7.", "7"),
        ("7", "**7**", "7"), ("7", "7.", "7"), ("9", "4 + 5 = 9", "9"),
        ("42", "To find 7 * 6 we multiply.\n\nSo, the answer is 42.", "42"),
    ],
)
def test_real_equivalences_stay_correct_and_name_their_rule(name, gold, response, extracted):
    score = SCORERS[name](gold, response, "What is it?")
    assert (score.correct, score.extracted) == (True, extracted)
    assert score.rule in {"equal", "numeric-equal", "math-verify"}


def test_numeric_reads_a_unicode_minus_as_minus():
    assert SCORERS["numeric"]("12", "\u221212").correct is False
    assert SCORERS["numeric"]("-12", "\u221212").rule == "numeric-equal"


def test_math_verify_does_not_credit_a_restated_expression_it_would_evaluate():
    assert SCORERS["math_verify"]("2x", "x + x", "Simplify x + x.").rule == "restated-question"
    assert SCORERS["math_verify"]("2x", "2*x", "Simplify x + x.").correct is True


def test_task_grading_sees_only_the_given_answer():
    def grade(answer):  # reasoning-gym's string grader gives partial credit to any text containing the gold
        return 1.0 if answer == "9" else (0.5 if "9" in answer else 0.0)

    assert best_graded(grade, "9", "0 - -9 - 9", "Calculate 0 - -9.").correct is False
    assert best_graded(grade, "9", "So, 0 - (-9) = 9.", "Calculate 0 - -9.").correct is True


def test_a_gold_of_several_lines_is_compared_with_the_whole_answer():
    grid = "1 2\n3 4"
    assert SCORERS["exact"](grid, "<final_answer>1 2\n3 4</final_answer>").rule == "equal"
    assert best_graded(lambda answer: float(answer == grid), grid, "1 2\n3 4").correct is True
