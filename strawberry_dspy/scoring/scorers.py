"""Scorers: the answer the reply gives (extract.py) compared with the gold answer; each Score names its deciding rule."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from strawberry_dspy.errors import UserError
from strawberry_dspy.scoring.extract import Extraction, clean_answer, extract_answer
from strawberry_dspy.scoring.numbers import is_number, normalize_math_text, parse_number

NUMERIC_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Score:
    correct: bool  # True only for full credit
    value: float  # the raw score in [0, 1]
    extracted: str | None  # the answer as extracted from the response
    rule: str = "no-answer"  # what decided: equal, numeric-equal, math-verify, restated-question, several-answers, ...


NO_ANSWER = Score(correct=False, value=0.0, extracted=None, rule="no-answer")


def _verdict(correct: bool, extracted: str | None, rule: str) -> Score:
    return Score(correct=correct, value=float(correct), extracted=extracted, rule=rule)


def _rejected(extraction: Extraction) -> Score | None:
    """The Score of a reply that gives no creditable answer, or None when it gives one."""
    if extraction.rule is None:
        return None
    return NO_ANSWER if extraction.answer is None and extraction.rule == "no-answer" else \
        Score(False, 0.0, extraction.answer, extraction.rule)


def _canonical(text: str) -> str:
    value = parse_number(text)
    return str(value) if value is not None else " ".join(clean_answer(normalize_math_text(text)).lower().split())


def exact(gold: str, response: str | None, question: str = "") -> Score:
    """Correct when the given answer equals the gold answer, ignoring case, spacing and number formatting."""
    extraction = extract_answer(response, gold, question)
    rejected = _rejected(extraction)
    if rejected:
        return rejected
    correct = _canonical(extraction.answer) == _canonical(gold)
    return _verdict(correct, extraction.answer, "equal" if correct else "not-equal")


def numeric(gold: str, response: str | None, question: str = "") -> Score:
    """Correct when the given answer is one number equal to the gold number within 1e-6."""
    gold_value = parse_number(clean_answer(gold))
    extraction = extract_answer(response, gold, question)
    if gold_value is None or extraction.rule is None and extraction.number is None:
        return exact(gold, response, question)  # a gold answer that is not one number cannot be compared as one
    rejected = _rejected(extraction)
    if rejected:
        return rejected
    correct = abs(extraction.number - gold_value) <= NUMERIC_TOLERANCE
    return _verdict(correct, extraction.answer, "numeric-equal" if correct else "numeric-differ")


def _parse_math(text: str) -> list:
    import math_verify
    from math_verify import grader, parser

    # We disable math_verify's signal-based timeout on purpose (it fails outside the main thread);
    # its warning about that would otherwise print once per process.
    parser.TIMEOUT_WARNING_SHOWN = grader.TIMEOUT_WARNING_SHOWN = True
    formula = "$" not in text and "\\(" not in text and not re.search(r"(?<!\\)\b[A-Za-z]{3,}", text)
    wrapped = f"${text}$"  # math_verify reads bare text as LaTeX only inside $...$
    for candidate in (wrapped, text) if formula else (text, wrapped):
        parsed = math_verify.parse(candidate, parsing_timeout=None)
        if parsed:
            return parsed
    return []


def math_verify_score(gold: str, response: str | None, question: str = "") -> Score:
    """Correct when math-verify finds the given answer (never a restated or hedged one) equal to the gold."""
    import math_verify

    gold_parsed = _parse_math(gold)
    if not gold_parsed:  # gold is not mathematics (a word, a name): compare as text
        return exact(gold, response, question)
    extraction = extract_answer(response, gold, question)
    rejected = _rejected(extraction)
    if rejected:
        return rejected
    answer = str(extraction.number) if extraction.number is not None else extraction.answer
    predicted = _parse_math(answer)
    if not predicted:
        return Score(False, 0.0, extraction.answer, "no-answer")
    correct = bool(math_verify.verify(gold_parsed, predicted, timeout_seconds=None))
    return _verdict(correct, extraction.answer, "math-verify" if correct else "math-verify-differ")


def best_graded(grade: Callable[[str], float], gold: str, response: str | None, question: str = "") -> Score:
    """Grade the given answer with a graded scorer (as written, then as its number); only 1.0 is correct."""
    extraction = extract_answer(response, gold, question)
    rejected = _rejected(extraction)
    if rejected:
        return rejected
    candidates = [extraction.answer]
    if f"{extraction.answer}." in (response or ""):  # the answer may itself end with a period (a sentence)
        candidates.append(f"{extraction.answer}.")
    if extraction.number is not None:
        candidates.append(str(extraction.number))
    best = Score(False, 0.0, extraction.answer, "task-score")
    for candidate in dict.fromkeys(candidates):
        try:
            value = min(max(float(grade(candidate)), 0.0), 1.0)
        except Exception:  # a task's scorer choking on odd text is a wrong answer, not a crash
            value = 0.0
        if value > best.value:
            best = Score(correct=value >= 1.0, value=value, extracted=candidate, rule="task-score")
    return best


SCORERS: dict[str, Callable[..., Score]] = {
    "exact": exact,
    "numeric": numeric,
    "math_verify": math_verify_score,
}
TASK_SCORER = "task"  # the benchmark's own grading: Benchmark.score_task
SCORER_NAMES = (*SCORERS, TASK_SCORER)


def fallback_score(gold: str, response: str | None, question: str = "") -> Score:
    """The one rule for grading without a task's own scorer (plain question/answer data, a typed problem, a store
    whose benchmark does not load): numeric for a numeric gold answer, math_verify otherwise."""
    return (numeric if is_number(gold) else math_verify_score)(gold, response, question)


def scorer_named(name: str | None) -> Callable[..., Score]:
    """The plain scorer a name gives; `task` (or none) gives `fallback_score`, for grading with no benchmark at hand."""
    return SCORERS.get(name or "", fallback_score)


def check_scorer(name: str) -> str:
    """The scorer name itself (a built-in one, or `module:function`: scoring/plugin.py), or a UserError."""
    if name not in SCORER_NAMES and ":" not in name:
        raise UserError(f"unknown scorer {name!r}: expected one of {', '.join(SCORER_NAMES)}, or your own "
                        "function as module:function (e.g. mypackage.checks:score)")
    return name
