"""Answer leaks: a problem whose question or gold answer sits in a compiled program's demos is not unseen.

A bootstrapped demo is a train problem with its solved answer. Asking that problem again with the demo in
the prompt scores the copy, not the model. `compile` records the problems its demos came from (ids and
question hashes, `demo_problems` in compiled.json); a loaded program's demos are also scanned for question
text, so programs compiled before that record existed are covered too. `run` and `harvest` leave such
problems out and `export` removes them (reason `demo`), each saying how many.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import dspy

from strawberry_dspy.benchmarks.base import Problem, normalize_question, question_hash

RECORD_ATTR = "strawberry_demo_problems"  # set on a loaded compiled program: compiled.json's record
MIN_ANSWER_CHARS = 20  # a shorter gold answer (a number, a word) appears in unrelated demo text by chance


def _text(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def demo_texts(program: dspy.Module) -> list[str]:
    """Every field of every demo of every predictor, normalized like questions are."""
    texts = []
    for _, predictor in program.named_predictors():
        for demo in predictor.demos:
            items = demo.items() if hasattr(demo, "items") else dict(demo).items()
            texts += [normalize_question(_text(value)) for _, value in items if value]
    return [t for t in texts if t]


def worked_texts(demos: list[dict]) -> list[str]:
    """The question, steps and answer of worked demos ({question, steps, answer}), normalized like questions."""
    texts = []
    for demo in demos:
        texts += [normalize_question(_text(demo.get("question", "")))]
        texts += [normalize_question(_text(step)) for step in demo.get("steps", [])]
        texts += [normalize_question(_text(demo.get("answer", "")))]
    return [t for t in texts if t]


@dataclass
class DemoLeaks:
    """What a program's demos give away: their text, and the problems compile recorded them from."""

    texts: list[str]
    qhashes: set[str]
    ids: set[str]

    @classmethod
    def of(cls, program: dspy.Module | None, worked: list[dict] | None = None) -> DemoLeaks:
        """The leaks of a program's predictor demos and of worked demos (a recipe's `strawberry.demos`; a
        strawberry program's own are read from its knobs). None: a program not built yet, only `worked`."""
        worked = list(worked or []) + list(getattr(getattr(program, "knobs", None), "demos", None) or [])
        texts = worked_texts(worked)
        if program is None:
            return cls(texts, set(), set())
        record = getattr(program, RECORD_ATTR, None) or []
        return cls(demo_texts(program) + texts, {r["qhash"] for r in record if r.get("qhash")},
                   {r["id"] for r in record if r.get("id")})

    def leaked(self, problem: Problem) -> bool:
        """Whether the problem's question (or a distinctive gold answer) is in a demo, or compile recorded it."""
        if problem.id in self.ids or question_hash(problem.question) in self.qhashes:
            return True
        if not self.texts:
            return False
        question, answer = normalize_question(problem.question), normalize_question(problem.answer)
        if question and _found(question, self.texts):
            return True
        return len(answer) >= MIN_ANSWER_CHARS and _found(answer, self.texts)


def _found(needle: str, texts: list[str]) -> bool:
    """Whether `needle` is in a text as whole words ('what is 3 + 4' is not in 'what is 3 + 45')."""
    pattern = re.compile(rf"(?<!\w){re.escape(needle)}(?!\w)")
    return any(needle in text and pattern.search(text) for text in texts)


def demo_record(program: dspy.Module, problems: list[Problem]) -> list[dict]:
    """compile's record of the problems a compiled program's demos came from: id and question hash each."""
    leaks = DemoLeaks.of(program)
    return [{"id": p.id, "qhash": question_hash(p.question)} for p in problems if leaks.leaked(p)]
