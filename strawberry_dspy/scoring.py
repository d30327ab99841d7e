"""Scorers: extract the answer from a model's final-answer text and compare it with the gold answer."""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable

from strawberry_dspy.errors import UserError


@dataclass(frozen=True)
class Score:
    correct: bool  # True only for full credit
    value: float  # the raw score in [0, 1]
    extracted: str | None  # the answer as extracted from the response


NO_ANSWER = Score(correct=False, value=0.0, extracted=None)
NUMERIC_TOLERANCE = 1e-6

_FINAL_ANSWER_TAG = re.compile(r"</?final_answer>", re.IGNORECASE)
_ANSWER_PREFIX = re.compile(
    r"^(?:(?:so|thus|therefore|hence)[,:]?\s+)?(?:the\s+)?(?:final\s+)?answer\s*(?:is\s*:?|:|=)\s*",
    re.IGNORECASE,
)
_LATEX_FRACTION = re.compile(r"\\[dt]?frac\{(-?[\d.,]+)\}\{(-?[\d.,]+)\}")
_NUMBER = re.compile(r"-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:\s*/\s*-?\d+(?:\.\d+)?)?|-?\.\d+")


def _last_boxed(text: str) -> str | None:
    """Content of the last \\boxed{...}, braces balanced, or None."""
    start = text.rfind("\\boxed{")
    if start < 0:
        return None
    depth, begin = 0, start + len("\\boxed{")
    for position in range(begin - 1, len(text)):
        depth += {"{": 1, "}": -1}.get(text[position], 0)
        if depth == 0:
            return text[begin:position]
    return None


def strip_answer_prefix(text: str) -> str:
    """Drop <final_answer> tags and a leading 'The answer is' / 'Final answer:'."""
    return _ANSWER_PREFIX.sub("", _FINAL_ANSWER_TAG.sub("", text).strip(), count=1).strip()


def clean_answer(text: str) -> str:
    """Strip what weak models wrap around an answer: tags, \\boxed{}, 'The answer is', quotes, a final period."""
    text = _last_boxed(text) or text
    text = strip_answer_prefix(text).strip("*`").strip()
    for _ in range(2):  # 'X'. and "X." alike
        if text.endswith(".") and not text.endswith(".."):
            text = text[:-1].rstrip()
        if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'$":
            text = text[1:-1].strip()
    return text


def parse_number(text: str) -> Fraction | None:
    """A number written as '1,000', '-2.5', '.5' or '3/4', exactly; None if it is not one."""
    compact = text.replace(",", "").replace(" ", "")
    numerator, _, denominator = compact.partition("/")
    try:
        value = Fraction(numerator)
        return value / Fraction(denominator) if denominator else value
    except (ValueError, ZeroDivisionError):
        return None


def last_number(text: str) -> str | None:
    """The last number written in the text, as written (a LaTeX \\frac of two numbers reads as a/b)."""
    matches = _NUMBER.findall(_LATEX_FRACTION.sub(r"\1/\2", text))
    return matches[-1] if matches else None


def is_number(text: str) -> bool:
    """Whether the whole (cleaned) text is one number."""
    return _NUMBER.fullmatch(clean_answer(text)) is not None


def _blank(response: str | None) -> bool:
    return response is None or not response.strip()


def _canonical(text: str) -> str:
    return " ".join(clean_answer(text).lower().split())


def exact(gold: str, response: str | None) -> Score:
    """Correct when the cleaned answer equals the gold answer, ignoring case and spacing."""
    if _blank(response):
        return NO_ANSWER
    extracted = clean_answer(response)
    correct = _canonical(extracted) == _canonical(gold)
    return Score(correct=correct, value=float(correct), extracted=extracted)


def numeric(gold: str, response: str | None) -> Score:
    """Correct when the last number in the answer equals the gold number within 1e-6."""
    if not is_number(gold):  # a gold answer that is not one number cannot be compared as a number
        return exact(gold, response)
    if _blank(response):
        return NO_ANSWER
    extracted = last_number(clean_answer(response))
    predicted = parse_number(extracted) if extracted is not None else None
    gold_value = parse_number(clean_answer(gold))
    correct = predicted is not None and gold_value is not None and abs(predicted - gold_value) <= NUMERIC_TOLERANCE
    return Score(correct=correct, value=float(correct), extracted=extracted)


def _looks_like_formula(text: str) -> bool:
    """No math delimiters and no words: math_verify only reads such text as LaTeX inside $...$."""
    return "$" not in text and "\\(" not in text and not re.search(r"(?<!\\)\b[A-Za-z]{3,}", text)


def _parse_math(text: str) -> list:
    import math_verify
    from math_verify import grader, parser

    # We disable math_verify's signal-based timeout on purpose (it fails outside the main thread);
    # its warning about that would otherwise print once per process.
    parser.TIMEOUT_WARNING_SHOWN = grader.TIMEOUT_WARNING_SHOWN = True
    wrapped = f"${text}$"
    for candidate in (wrapped, text) if _looks_like_formula(text) else (text, wrapped):
        parsed = math_verify.parse(candidate, parsing_timeout=None)
        if parsed:
            return parsed
    return []


def math_verify_score(gold: str, response: str | None) -> Score:
    """Correct when math_verify finds the answer mathematically equal to the gold answer."""
    import math_verify

    gold_parsed = _parse_math(gold)
    if not gold_parsed:  # gold is not mathematics (a word, a name): compare as text
        return exact(gold, response)
    if _blank(response):
        return NO_ANSWER
    predicted = _parse_math(clean_answer(response))
    if not predicted:
        return NO_ANSWER
    correct = bool(math_verify.verify(gold_parsed, predicted, timeout_seconds=None))
    extracted = predicted[-1] if isinstance(predicted[-1], str) else str(predicted[0])
    return Score(correct=correct, value=float(correct), extracted=extracted)


def best_graded(grade: Callable[[str], float], gold: str, response: str | None) -> Score:
    """Grade each plausible extraction of the answer with a graded scorer; keep the best. Only 1.0 is correct."""
    if _blank(response):
        return NO_ANSWER
    unprefixed = strip_answer_prefix(response)
    # an answer may itself end with '.', so try it with and without the final period
    candidates = [response.strip(), unprefixed, unprefixed.removesuffix("."), clean_answer(response)]
    if is_number(gold):
        candidates.append(last_number(clean_answer(response)))
    best = Score(correct=False, value=0.0, extracted=clean_answer(response))
    for candidate in dict.fromkeys(c for c in candidates if c):
        try:
            value = min(max(float(grade(candidate)), 0.0), 1.0)
        except Exception:  # a task's scorer choking on odd text is a wrong answer, not a crash
            value = 0.0
        if value > best.value:
            best = Score(correct=value >= 1.0, value=value, extracted=candidate)
    return best


SCORERS: dict[str, Callable[[str, str | None], Score]] = {
    "exact": exact,
    "numeric": numeric,
    "math_verify": math_verify_score,
}
TASK_SCORER = "task"  # the benchmark's own grading: Benchmark.score_task
SCORER_NAMES = (*SCORERS, TASK_SCORER)


def check_scorer(name: str) -> str:
    """The scorer name itself, or a UserError naming the valid ones."""
    if name not in SCORER_NAMES:
        raise UserError(f"unknown scorer {name!r}: expected one of {', '.join(SCORER_NAMES)}")
    return name
