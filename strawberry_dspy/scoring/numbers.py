"""Numbers as models write them: '1,000', '-2.5', '.5', '3/4', '\\frac{3}{4}', a Unicode minus."""

from __future__ import annotations

import re
from fractions import Fraction
from functools import lru_cache

# Unicode minus, small and full-width hyphen-minus: '−12' is minus twelve, not twelve.
_MINUS_SIGNS = str.maketrans({"\u2212": "-", "\ufe63": "-", "\uff0d": "-"})
_LATEX_FRACTION = re.compile(r"\\[dt]?frac\{\s*(-?[\d.,]+)\s*\}\{\s*(-?[\d.,]+)\s*\}")
NUMBER_PATTERN = r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:\s*/\s*-?\d+(?:\.\d+)?)?|[-+]?\.\d+"
NUMBER = re.compile(rf"(?<![\w.])(?:{NUMBER_PATTERN})(?![\d])")


def normalize_math_text(text: str) -> str:
    """Unicode minus signs as '-', a LaTeX fraction of two numbers as 'a/b'."""
    return _LATEX_FRACTION.sub(r"\1/\2", text.translate(_MINUS_SIGNS))


def parse_number(text: str) -> Fraction | None:
    """A number written as '1,000', '-2.5', '.5' or '3/4', exactly; None if it is not one."""
    compact = normalize_math_text(text).replace(",", "").replace(" ", "")
    numerator, _, denominator = compact.partition("/")
    try:
        value = Fraction(numerator)
        return value / Fraction(denominator) if denominator else value
    except (ValueError, ZeroDivisionError):
        return None


# parse_number, memoized: a store's turns state the same few answers millions of times (Fractions are immutable)
cached_number = lru_cache(maxsize=1 << 16)(parse_number)


def numbers_in(text: str) -> list[str]:
    """Every number written in the text, as written, in order."""
    return NUMBER.findall(normalize_math_text(text))


def last_number(text: str) -> str | None:
    """The last number written in the text (for reading steps, never for scoring a final answer)."""
    found = numbers_in(text)
    return found[-1] if found else None


def is_number(text: str) -> bool:
    """Whether the text, once stripped of answer wrapping, is one number."""
    from strawberry_dspy.scoring.extract import clean_answer

    return re.fullmatch(NUMBER_PATTERN, normalize_math_text(clean_answer(text)).strip()) is not None
