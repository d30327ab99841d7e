"""Decontamination: no problem of an evaluation split, nor one a compiled program's demos gave away, reaches an export.

Five checks, each problem counted under the first that removes it:
  demo  - its question hash is among those the harvest recorded as in the compiled program's demos (see leaks.py);
  split - its stored split, or the split its question hashes to, is an evaluation split;
  hash  - its normalized question hash equals that of an evaluation problem of the benchmark;
  expression - it asks for an evaluation question's expression written differently (spacing, brackets, unary
          signs: export/expression.py);
  ngram - it shares n-grams with an evaluation question: shared / (the shorter question's n-gram
          count) >= threshold, where n shrinks to the evaluation question's length when it is short.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from loguru import logger

from strawberry_dspy.benchmarks import load_benchmark, question_hash, split_of
from strawberry_dspy.errors import UserError
from strawberry_dspy.export.expression import expression_key
from strawberry_dspy.store import ProblemRow

REASONS = ("demo", "split", "hash", "expression", "ngram")
_TOKEN = re.compile(r"\w+|[^\w\s]")
_SENTENCE_PUNCTUATION = set(".,;:!?'\"`")
_ONLY_FOUND = re.compile(r"only (\d+) distinct")


@dataclass
class Decontamination:
    """Which problems survive, and which were removed for what reason."""

    kept: set[str]
    removed: dict[str, list[str]] = field(default_factory=lambda: {reason: [] for reason in REASONS})
    reference: int = 0  # evaluation questions checked against

    def counts(self) -> dict[str, int]:
        return {reason: len(ids) for reason, ids in self.removed.items()}


def eval_questions(spec: str, splits: list[str], limit: int) -> list[str]:
    """The first `limit` questions of each evaluation split of a benchmark (fewer when it has fewer)."""
    try:
        benchmark = load_benchmark(spec)
    except UserError as error:
        raise UserError(f"cannot load benchmark {spec!r} to decontaminate against ({error}): "
                        "pass --decontam-benchmark SPEC naming where its test split lives") from None
    questions: list[str] = []
    for split in splits:
        want = limit
        while want > 0:
            try:
                questions += [p.question for p in benchmark.problems(split, want)]
                break
            except UserError as error:  # fewer problems in this split than asked: take what there is
                found = _ONLY_FOUND.search(str(error))
                want = int(found.group(1)) if found and int(found.group(1)) < want else want // 2
    logger.debug("decontaminating against {} {} questions of {}", len(questions), "/".join(splits), spec)
    return questions


def tokens(text: str) -> list[str]:
    """Lowercased words and symbols; sentence punctuation dropped, operators kept."""
    return [t for t in _TOKEN.findall(text.lower()) if t not in _SENTENCE_PUNCTUATION]


def ngrams(words: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


class NgramIndex:
    """Evaluation questions' n-grams, for overlap look-ups."""

    def __init__(self, questions: list[str], n: int):
        self.n = n
        self.sizes: dict[int, dict[tuple[str, ...], set[int]]] = defaultdict(lambda: defaultdict(set))
        self.counts: dict[int, int] = {}
        for index, question in enumerate(questions):
            words = tokens(question)
            if not words:
                continue
            size = min(n, len(words))
            grams = ngrams(words, size)
            self.counts[index] = len(grams)
            for gram in grams:
                self.sizes[size][gram].add(index)

    def overlap(self, question: str) -> float:
        """The largest shared-n-gram fraction (of the shorter side) with any evaluation question."""
        words, best = tokens(question), 0.0
        for size, index in self.sizes.items():
            grams = ngrams(words, size)
            if not grams:
                continue
            shared: dict[int, int] = defaultdict(int)
            for gram in grams:
                for other in index.get(gram, ()):
                    shared[other] += 1
            for other, count in shared.items():
                best = max(best, count / min(len(grams), self.counts[other]))
        return best


def decontaminate(problems: dict[str, ProblemRow], eval_splits: list[str], reference: list[str],
                  n: int = 8, threshold: float = 0.5, demo_qhashes: set[str] = frozenset()) -> Decontamination:
    """Split the problems into kept and removed-by-reason, checking each against the demos and evaluation questions."""
    hashes = {question_hash(q) for q in reference}
    expressions = {key for key in map(expression_key, reference) if key}
    index = NgramIndex(reference, n)
    result = Decontamination(kept=set(), reference=len(reference))
    for pid, problem in problems.items():
        if problem.qhash in demo_qhashes or question_hash(problem.question) in demo_qhashes:
            result.removed["demo"].append(pid)
        elif problem.split in eval_splits or split_of(problem.question) in eval_splits:
            result.removed["split"].append(pid)
        elif question_hash(problem.question) in hashes or problem.qhash in hashes:
            result.removed["hash"].append(pid)
        elif expression_key(problem.question) in expressions:
            result.removed["expression"].append(pid)
        elif index.overlap(problem.question) >= threshold:
            result.removed["ngram"].append(pid)
        else:
            result.kept.add(pid)
    return result
