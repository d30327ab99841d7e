"""What the model gave as its answer: one sentence it states, never a number fished out of the text around it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from strawberry_dspy.scoring.numbers import NUMBER_PATTERN, normalize_math_text, numbers_in, parse_number

_TAGGED = re.compile(r"<\s*final[_ ]?answer\s*>(.*?)(?:<\s*/\s*final[_ ]?answer\s*>|$)", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<\s*/?\s*final[_ ]?answer\s*>", re.IGNORECASE)
_MARKER = re.compile(  # how a sentence announces the answer; the last announced sentence is the answer
    r"^(?:(?:so|thus|therefore|hence|in conclusion|finally)\b[,:]?\s*)?(?:the\s+)?(?:final\s+|correct\s+)?"
    r"(?:answer|result|solution)\b\s*(?:is\b|:|=)?\s*:?\s*|^(?:so|thus|therefore|hence)\b[,:]?\s*|^#{3,}\s*",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[^\s])|\n+")
# The last side of a statement 'X = Y', 'X equals Y', 'X is Y' is what it says X is.
_EQUALITY = re.compile(r"\s*(?:=|\bequals\b|\bis equal to\b|\bis\b|\bare\b|\bgives(?: us)?\b|\bmakes\b)\s*",
                       re.IGNORECASE)
_NEGATION = re.compile(r"\b(?:not|no|never|cannot|neither|nor|none|wrong|incorrect|false)\b|n't\b", re.IGNORECASE)
_SEVERAL = re.compile(r"\b(?:or|either)\b|\+/-|±", re.IGNORECASE)
_HEDGE = re.compile(r"\b(?:maybe|perhaps|possibly|probably|approximately|roughly|around|about|might|could)\b",
                    re.IGNORECASE)
_ARITHMETIC = re.compile(r"[\d\s().]*\d[\d\s().]*(?:[-+*/×÷^xX][\d\s().-]*\d[\d\s().]*)+")
_BINARY_OPERATION = re.compile(r"[\w)}]\s*[-+*/^×÷]\s*[\w(\\-]")  # 'x + x', '4+5'; not the sign of '-12'
_NUMBER_WITH_UNIT = re.compile(rf"[$€£]?\s*({NUMBER_PATTERN})\s*(?:%|[A-Za-z$€£][A-Za-z .]{{0,30}})?")
MAX_PHRASE_WORDS = 12  # an answer phrase ('Fay has 17 marbles now') is short; a paragraph is not an answer


@dataclass(frozen=True)
class Extraction:
    """The answer as given, or the rule that says none was (restated-question, several-answers, negated, ...)."""

    answer: str | None
    rule: str | None = None  # set when the reply gives no creditable answer
    number: Fraction | None = None  # the answer's value when the gold answer is one number


_WRAPPED = re.compile(r"^([*_`\"']+)(\S(?:.*?\S)?)\1$", re.DOTALL)  # '**7**', '`7`', '"HELLO"': the same marks both sides


def _strip_wrapping(text: str) -> str:
    """Markdown emphasis, quotes, code ticks and a final period around an answer."""
    text = text.strip()
    for _ in range(2):  # 'X'. and "X." alike
        text = text.rstrip(" .,;:!") if not text.endswith("..") else text
        wrapped = _WRAPPED.match(text)
        if wrapped and wrapped.group(2):
            text = wrapped.group(2)
    return text


def _last_boxed(text: str) -> list[str]:
    """Contents of every \\boxed{...}, braces balanced."""
    found, start = [], text.find("\\boxed{")
    while start >= 0:
        depth, begin = 0, start + len("\\boxed{")
        for position in range(begin - 1, len(text)):
            depth += {"{": 1, "}": -1}.get(text[position], 0)
            if depth == 0:
                found.append(text[begin:position].strip())
                break
        start = text.find("\\boxed{", begin)
    return found


def strip_answer_prefix(text: str) -> str:
    """Drop <final_answer> tags and a leading 'The answer is' / 'Final answer:' / 'So,'."""
    return _MARKER.sub("", _TAG.sub("", text).strip(), count=1).strip()


def clean_answer(text: str) -> str:
    """Strip what weak models wrap around an answer: tags, \\boxed{}, 'The answer is', quotes, a final period."""
    boxed = _last_boxed(text)
    return _strip_wrapping(strip_answer_prefix(boxed[-1] if boxed else text))


def _answer_sentence(text: str, numeric_gold: bool) -> str | None:
    """The one sentence that states the answer: the only one, or the last announced one ('So, the answer is 7.')."""
    sentences = [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]
    if numeric_gold:  # 'That is true.' after '2 + 6' states nothing: drop sentences without a number
        sentences = [s for s in sentences if numbers_in(s) or _NEGATION.search(s) or _SEVERAL.search(s)]
    if len(sentences) <= 1:
        return sentences[0] if sentences else None
    announced = [i for i, s in enumerate(sentences) if _MARKER.match(_strip_wrapping(s))]
    if not announced and not numeric_gold:
        return None
    index = announced[-1] if announced else len(sentences) - 1  # unannounced: the concluding sentence
    if numeric_gold:  # a later sentence stating one different number ('Wait, it is 48.') takes the answer back
        stated = _value(_core(sentences[index], "0"))
        for later in sentences[index + 1:]:
            said = _value(_core(later, "0")) if len(numbers_in(later)) == 1 or "=" in later else None
            if said is not None and said != stated:
                return sentences[index] + " or " + later
    return sentences[index]


def _core(sentence: str, gold: str = "") -> str:
    """The sentence without its announcement, its last side when it is a statement 'X = Y' (words of the gold kept)."""
    text = _strip_wrapping(strip_answer_prefix(_strip_wrapping(sentence)))
    numeric = parse_number(clean_answer(gold)) is not None
    for cut in reversed([m for m in _EQUALITY.finditer(text) if not _in_gold(m.group(0).strip(), gold)]):
        rest = text[cut.end():]
        if numbers_in(rest) if numeric else rest.strip():  # '21 - 6 = 13 pencils are left' says 13
            text = rest
            break
    return _strip_wrapping(text)


def _value(core: str) -> Fraction | None:
    found = numbers_in(core)
    return parse_number(found[0]) if len(found) == 1 else None


def _squeeze(text: str) -> str:
    return re.sub(r"[\s()]", "", normalize_math_text(text)).lower()


def _in_gold(token: str, gold: str) -> bool:
    """Whether the gold answer itself holds this word ('or' in 'Oregon' does not count) or symbol ('F=3,I=4')."""
    if token[:1].isalpha():
        return re.search(rf"\b{re.escape(token)}\b", gold, re.IGNORECASE) is not None
    return token in gold


def _words_outside(pattern: re.Pattern, text: str, gold: str) -> bool:
    """Whether the text uses a rule word the gold answer itself does not contain."""
    return any(not _in_gold(m.group(0), gold) for m in pattern.finditer(text))


def extract_answer(response: str | None, gold: str = "", question: str = "") -> Extraction:
    """The answer the reply gives for this gold answer's kind, or the rule under which it gives none."""
    if response is None or not response.strip():
        return Extraction(None, "no-answer")
    text = normalize_math_text(response)
    tagged = [t.strip() for t in _TAGGED.findall(text) if t.strip()]
    text = tagged[-1] if tagged else _TAG.sub("", text)
    boxed = list(dict.fromkeys(_last_boxed(text)))
    if len(boxed) > 1:
        return Extraction(None, "several-answers")
    text = boxed[0] if boxed else text
    gold_value = parse_number(clean_answer(gold)) if gold else None
    numeric_gold = gold_value is not None and re.fullmatch(NUMBER_PATTERN, normalize_math_text(clean_answer(gold)))
    # A gold of several lines or sentences (a grid, a list) is answered by the whole text, not one sentence of it.
    whole = _SENTENCE_END.search(clean_answer(gold).strip()) is not None
    sentence = text.strip() if whole else _answer_sentence(text, bool(numeric_gold))
    if sentence is None:
        return Extraction(None, "no-stated-answer")
    core = _core(sentence, gold)
    if numeric_gold and not numbers_in(sentence):
        return Extraction(None, "no-answer")
    if _words_outside(_NEGATION, sentence, gold):
        return Extraction(core, "negated")
    if _words_outside(_SEVERAL, sentence, gold):
        return Extraction(core, "several-answers")
    if _words_outside(_HEDGE, sentence, gold):
        return Extraction(core, "hedged")
    squeezed = _squeeze(core)
    if _BINARY_OPERATION.search(core) and squeezed != _squeeze(gold) and squeezed in _squeeze(question):
        return Extraction(core, "restated-question")
    if not numeric_gold:
        return Extraction(core or None, None if core else "no-answer")
    return _numeric_answer(core)


def _numeric_answer(core: str) -> Extraction:
    """One number, a unit after it allowed ('42 apples', '$5'); an unevaluated expression or two numbers are not."""
    unit = _NUMBER_WITH_UNIT.fullmatch(core)
    if unit:
        return Extraction(unit.group(1), None, parse_number(unit.group(1)))
    found = numbers_in(core)
    if not found:
        return Extraction(core or None, "no-answer")
    if _ARITHMETIC.fullmatch(core.strip()) or re.search(r"\d\s*[-+*/×÷^]\s*[-+(]*\d", core):
        return Extraction(core, "unevaluated-expression")
    if len(found) > 1:
        return Extraction(core, "several-answers")
    if len(core.split()) > MAX_PHRASE_WORDS:
        return Extraction(core, "no-stated-answer")
    return Extraction(found[0], None, parse_number(found[0]))
