"""Read a verifier's critique as correct / incorrect / unclear, minding negation ('No errors' says correct)."""

from __future__ import annotations

import re

_LABEL = {"correct": "correct", "right": "correct", "valid": "correct", "yes": "correct",
          "incorrect": "incorrect", "wrong": "incorrect", "invalid": "incorrect"}
_VERDICT = re.compile(r"verdict\s*[:=\-]?\s*[*_`\"']*\s*(not\s+|n't\s+)?(incorrect|correct|wrong|right|invalid|valid|yes)\b",
                      re.IGNORECASE)
_NOT = r"(?:\bnot|n't|\bnever|\bhardly)"  # no \b before n't: "isn't" has none
_FAULT = r"(?:errors?|mistakes?|issues?|flaws?|faults?)"  # not "problem": that is the math problem
# Praise written as a negated fault: 'No errors', 'nothing wrong', 'isn't incorrect', 'without mistakes'.
_NEGATED_FAULT = re.compile(
    rf"\b(?:no|without|zero|free of|avoid\w*|not any|n't (?:any|contain any|have any|find any|see any))\s+(?:\w+\s+){{0,2}}?{_FAULT}\b"
    rf"|\bnothing\s+(?:is\s+|seems\s+|looks\s+)?(?:wrong|incorrect)\b|{_NOT}\s+(?:\w+\s+)?(?:wrong|incorrect|invalid)\b",
    re.IGNORECASE)
# Neither: a hypothetical fault ('sorry for any mistakes', 'help with any errors'), or a statement of what the
# correct answer is ('The correct answer is 3') rather than a judgement of the steps.
_NEUTRAL = re.compile(rf"\bany\s+(?:\w+\s+)?{_FAULT}\b"
                      r"|\bcorrect\s+(?:answer|step|approach|way|result|value|method)\s*(?:is\b|:|=)", re.IGNORECASE)
# Blame written as negated praise: 'not correct', 'isn't right'.
_NEGATED_PRAISE = re.compile(rf"{_NOT}\s+(?:\w+\s+)?(?:correct|right|valid|accurate)\b",
                             re.IGNORECASE)
_BLAME = re.compile(rf"\b(?:incorrect|wrong|invalid|inaccurate|miscalculat\w*|{_FAULT})\b", re.IGNORECASE)
_PRAISE = re.compile(r"\b(?:correct|right|valid|accurate)\b", re.IGNORECASE)


def _explicit(critique: str) -> str | None:
    """The VERDICT line's label; 'unclear' when several disagree, None when there is none."""
    labels = set()
    for match in _VERDICT.finditer(critique):
        label = _LABEL[match.group(2).lower()]
        if match.group(1):  # 'VERDICT: not correct'
            label = "incorrect" if label == "correct" else "correct"
        if re.match(r"\W*or\b", critique[match.end():], re.IGNORECASE):  # 'Verdict: correct or ...' chooses nothing
            label = "unclear"
        labels.add(label)
    if not labels:
        return None
    return labels.pop() if len(labels) == 1 else "unclear"


def parse_verdict(critique: str | None) -> str:
    """correct | incorrect | unclear: the VERDICT line when there is one, else the critique's wording."""
    text = critique or ""
    explicit = _explicit(text)
    if explicit:
        return explicit
    praise = bool(_NEGATED_FAULT.search(text))
    text = _NEUTRAL.sub(" ", _NEGATED_FAULT.sub(" ", text))
    blame = bool(_NEGATED_PRAISE.search(text))
    text = _NEGATED_PRAISE.sub(" ", text)
    blame = blame or bool(_BLAME.search(text))
    praise = praise or bool(_PRAISE.search(text))
    if praise == blame:  # neither, or both: the critique does not say
        return "unclear"
    return "correct" if praise else "incorrect"
