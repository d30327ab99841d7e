"""What the traces say about the program's parts: the verifier's agreement with gold, and nudges that changed answers."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable

from strawberry_dspy.program.final_answer import stated_answer
from strawberry_dspy.scoring import cached_number
from strawberry_dspy.store import TraceStore
from strawberry_dspy.store.views import ANSWER, NUDGE, VERDICT

VERDICT_SCORE = {"incorrect": 1.0, "unclear": 0.5, "correct": 0.0}  # how strongly a verdict says "this trace is wrong"


def auroc(scores: list[float], positives: list[bool]) -> float | None:
    """Area under the ROC curve of `scores` for the positive labels (ties count half); None when undefined."""
    n_pos = sum(positives)
    n_neg = len(positives) - n_pos
    if not n_pos or not n_neg:
        return None
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    ranks = [0.0] * len(scores)
    i = 0
    while i < len(order):  # average ranks over runs of tied scores
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    rank_sum = sum(r for r, p in zip(ranks, positives) if p)
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


@dataclass
class VerifierAgreement:
    """Verdicts against the gold outcome of their trace, and the AUROC of 'incorrect' for an incorrect trace."""

    traces: int = 0  # non-failed traces with at least one verdict
    verdicts: dict[str, list[int]] = field(default_factory=dict)  # verdict -> [on correct traces, on incorrect traces]
    auroc: float | None = None


def verifier_agreement(store: TraceStore) -> VerifierAgreement:
    """Score each trace by its verdicts (incorrect 1, unclear 0.5, correct 0, averaged) and compare with gold."""
    return trace_signals(store)[0]


__all__ = ["NO_NUDGE_EFFECTS", "NudgeEffect", "VerifierAgreement", "auroc", "nudge_effects", "stated_answer", "trace_signals",
           "verifier_agreement"]


def _same(a: str, b: str) -> bool:
    return a == b or _same_written_apart(a, b)  # most turns restate the standing answer as written


@lru_cache(maxsize=1 << 18)  # a problem's traces state a few answers: few pairs, compared millions of times
def _same_written_apart(a: str, b: str) -> bool:
    x, y = cached_number(a), cached_number(b)
    return x == y if x is not None and y is not None else " ".join(a.lower().split()) == " ".join(b.lower().split())


@dataclass
class NudgeEffect:
    """How often a user prompt, sent after the model had stated an answer, was followed by a different one.

    Keyed by the prompt's label: `#i text` for the recipe's nudge i, `(continue prompt) text`, or a check."""

    sent: int = 0  # times sent while an answer stood
    changed: int = 0  # the next stated answer differed
    corrections: int = 0  # ... from wrong to right
    regressions: int = 0  # ... from right to wrong


NO_NUDGE_EFFECTS = ("nothing to show: no trace stated an answer and was then prompted again (a prompt counts only "
                    "after the model has stated an answer; a trace that ends at its first <final_answer> has none)")
NUDGE_SEP = "\x1f"  # between a nudge's index ("c": the continue prompt, "": not recorded) and its text


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _nudge_text(content: str) -> str:
    """A nudge turn's own prompt: without a prepended critique, the re-anchored problem or the scratchpad line."""
    lines = [line for line in content.rsplit("\n\n", 1)[-1].strip().splitlines()
             if line.strip() and not line.startswith("Scratchpad so far:")]
    return lines[-1].strip() if lines else ""


def _prompt_label(turn_kind: str, content: str, forced: bool, after_critique: bool,
                  recipe: tuple[tuple[str, ...], str | None] = ((), None)) -> str:
    """A user prompt's row in the nudge table: `#i text` for the recipe's nudge i (its text as the recipe words it,
    without the re-anchored problem), `(continue prompt) text`, or the kind of check."""
    if turn_kind == "check":
        label = "(time is up: answer now)" if forced else "(confidence check)"
    else:
        index, _, text = content.partition(NUDGE_SEP) if NUDGE_SEP in content else ("", "", content)
        nudges, continue_prompt = recipe
        if index == "c":
            label = f"(continue prompt) {_one_line(continue_prompt or _nudge_text(text))}"
        elif index.isdigit():
            i = int(index)
            label = f"#{i} {_one_line(nudges[i] if i < len(nudges) else _nudge_text(text))}"
        else:  # a store from before nudges recorded their index
            label = _one_line(_nudge_text(text))
    return f"{label} [after a critique]" if after_critique else label


@lru_cache(maxsize=1 << 16)  # a harvest sends the same few prompts millions of times
def _event_label(event: int, value: str | int | None, after_critique: bool,
                 recipe: tuple[tuple[str, ...], str | None]) -> str:
    if event == NUDGE:
        return _prompt_label("nudge", value, False, after_critique, recipe)
    return _prompt_label("check", "", bool(value), after_critique)


def recipe_prompts(meta: dict[str, str]) -> tuple[tuple[str, ...], str | None]:
    """(the recipe's nudges, its continue prompt) from a store's recorded config; empty where it has none."""
    try:
        knobs = (json.loads(meta.get("config_json") or "{}") or {}).get("strawberry") or {}
    except ValueError:
        return (), None
    nudges = knobs.get("nudges") if isinstance(knobs, dict) else None
    continue_prompt = knobs.get("continue_prompt") if isinstance(knobs, dict) else None
    return (tuple(n for n in nudges if isinstance(n, str)) if isinstance(nudges, list) else (),
            continue_prompt if isinstance(continue_prompt, str) else None)


def nudge_effects(store: TraceStore, is_correct: Callable[[str, str], bool]) -> dict[str, NudgeEffect]:
    """Per user prompt: answer changes, corrections and regressions that followed it (is_correct(problem_id, answer)).

    The answer each turn states was found when the harvest stored it (`TraceStore.signal_events`): no regex per turn.
    """
    return trace_signals(store, is_correct)[1]


def trace_signals(store: TraceStore, is_correct: Callable[[str, str], bool] | None = None
                  ) -> tuple[VerifierAgreement, dict[str, NudgeEffect]]:
    """The verifier's agreement and (with is_correct) the nudge effects, in one pass over the store's turns."""
    scores: list[float] = []  # per trace with verdicts: the mean verdict score, and whether it is incorrect
    positives: list[bool] = []
    verdicts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    effects: dict[str, NudgeEffect] = defaultdict(NudgeEffect)
    nudges = is_correct is not None
    recipe = recipe_prompts(store.meta()) if nudges else ((), None)
    for problem_id, correct, events in store.signal_events():
        trace_scores: list[float] = []
        current = label = None
        critique = False
        for _, event, value in events:
            if event == ANSWER:
                if not value or not nudges:  # an answering turn that states no answer changes nothing
                    continue
                if current is not None and label and not _same(value, current[0]):
                    was_right, now_right = current[1], is_correct(problem_id, value)
                    effect = effects[label]
                    effect.changed += 1
                    effect.corrections += (not was_right) and now_right
                    effect.regressions += was_right and not now_right
                    current = (value, now_right)
                elif current is None or not _same(value, current[0]):
                    current = (value, is_correct(problem_id, value))
                label = None
            elif event == VERDICT:
                critique = True
                verdict = value or "unclear"
                verdicts[verdict][0 if correct else 1] += 1
                trace_scores.append(VERDICT_SCORE.get(verdict, 0.5))
            elif event is not None:  # a nudge or a check
                label = _event_label(event, value, critique, recipe) if current else None
                critique = False
                if label:
                    effects[label].sent += 1
        if trace_scores:
            scores.append(sum(trace_scores) / len(trace_scores))
            positives.append(not correct)
    agreement = VerifierAgreement(len(scores), dict(verdicts), auroc(scores, positives))
    return agreement, dict(sorted(effects.items(), key=lambda kv: (-kv[1].changed, -kv[1].sent, kv[0])))


def verdict_names(agreement: VerifierAgreement) -> list[str]:
    """Verdicts in a stable order: the known ones first."""
    known = [v for v in VERDICT_SCORE if v in agreement.verdicts]
    return known + sorted(Counter(agreement.verdicts).keys() - set(known))
