"""Problems with gold answers, deterministic train/dev/test splits, and the Benchmark base class."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Iterable
from urllib.parse import unquote

from strawberry_dspy.errors import UserError
from strawberry_dspy.scoring import (SCORERS, TASK_SCORER, PluginScorer, Score, check_scorer, fallback_score,
                                     is_plugin)

SPLIT_FRACTIONS = {"train": 0.6, "dev": 0.2, "test": 0.2}
_END_PUNCTUATION = ".,;:!?'\"` \t\r\n"


@dataclass(frozen=True)
class Problem:
    id: str  # stable across runs
    question: str
    answer: str  # gold answer as text
    metadata: dict = field(default_factory=dict, hash=False)  # what the scorer needs; JSON-serialisable


def normalize_question(text: str) -> str:
    """Lowercase, whitespace collapsed, sentence punctuation stripped at both ends."""
    return " ".join(text.lower().split()).strip(_END_PUNCTUATION)


def question_hash(text: str) -> str:
    """sha1 hex digest of the normalized question, for splits, ids and decontamination."""
    return hashlib.sha1(normalize_question(text).encode("utf-8")).hexdigest()


def split_of(question: str) -> str:
    """The split a question belongs to: fixed by its hash, so it never moves or lands in two splits."""
    position = int(question_hash(question)[:8], 16) / 16**8
    cumulative = 0.0
    for split, fraction in SPLIT_FRACTIONS.items():
        cumulative += fraction
        if position < cumulative:
            return split
    return split


def take_split(candidates: Iterable[Problem], split: str, limit: int | None) -> list[Problem]:
    """The first `limit` problems of `split` in candidate order, each question once."""
    seen: set[str] = set()
    chosen: list[Problem] = []
    if limit == 0:
        return chosen
    for problem in candidates:
        key = question_hash(problem.question)
        if key in seen or split_of(problem.question) != split:
            continue
        seen.add(key)
        chosen.append(problem)
        if limit is not None and len(chosen) >= limit:
            break
    return chosen


def parse_spec(spec: str) -> tuple[str, str, dict[str, str]]:
    """'source:target?key=value&...' -> (source, target, options); values are not type-converted."""
    source, _, rest = spec.partition(":")
    target, _, query = rest.partition("?")
    options: dict[str, str] = {}
    for pair in filter(None, query.split("&")):
        key, equals, value = pair.partition("=")
        if not equals or not key:
            raise UserError(f"malformed option {pair!r} in benchmark {spec!r}: write options as ?key=value&key=value")
        options[unquote(key)] = unquote(value)  # unquote, not unquote_plus: '+' is an operator, not a space
    return source, target, options


def check_options(spec: str, options: dict[str, str], valid: Iterable[str]) -> dict[str, str]:
    """The options themselves, or a UserError naming the first unknown one and the valid ones."""
    valid = sorted(valid)
    for key in options:
        if key not in valid:
            allowed = ", ".join(valid) or "none"
            raise UserError(f"unknown option {key!r} in benchmark {spec!r}: valid options are {allowed}")
    return options


class Benchmark:
    """A source of problems with gold answers, and the scorer that grades responses to them."""

    default_scorer = "math_verify"

    def __init__(self, spec: str, scorer: str | None = None):
        self.spec = spec
        self.scorer = check_scorer(scorer or self.default_scorer)
        self.plugin = PluginScorer(self.scorer) if is_plugin(self.scorer) else None  # imported now: errors at load

    def problems(self, split: str = "test", limit: int | None = None) -> list[Problem]:
        """The first `limit` problems of a split; the same ones on every run."""
        if split not in SPLIT_FRACTIONS:
            raise UserError(f"unknown split {split!r}: expected one of {', '.join(SPLIT_FRACTIONS)}")
        if limit is not None and (not isinstance(limit, int) or limit < 0):
            raise UserError(f"limit must be a whole number >= 0, got {limit!r}")
        return self._problems(split, limit)

    def _problems(self, split: str, limit: int | None) -> list[Problem]:
        raise NotImplementedError

    def score(self, problem: Problem, response: str | None) -> Score:
        """Grade a response (the model's final-answer text) with this benchmark's scorer."""
        if self.plugin is not None:
            return self.plugin(problem.id, problem.question, problem.answer, problem.metadata, response)
        if self.scorer == TASK_SCORER:
            return self.score_task(problem, response)
        return SCORERS[self.scorer](problem.answer, response, problem.question)

    def score_task(self, problem: Problem, response: str | None) -> Score:
        """The source's own grading; plain question/answer data has none: `fallback_score`."""
        return fallback_score(problem.answer, response, problem.question)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.spec!r}, scorer={self.scorer!r})"
