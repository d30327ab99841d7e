"""Rows in TRL's dataset types, conversational where TRL has a conversational form.

sft      prompt/completion (or messages)             correct traces only
dpo      prompt/chosen/rejected + weight             correct vs incorrect traces of the same problem
kto      prompt/completion/label                     correct = desirable (True), incorrect = undesirable
stepwise prompt/completions/labels (standard form)   per-step labels from the verifier's verdicts
Every row also names where it came from (problem_id, trace ids); trainers drop unused columns.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from typing import Iterable, Iterator

from strawberry_dspy.errors import UserError
from strawberry_dspy.export.config import ExportSettings
from strawberry_dspy.export.pairs import make_pairs
from strawberry_dspy.export.render import Message, demos_not_recorded, render, step_texts
from strawberry_dspy.export.weighting import pair_weights, resample_counts
from strawberry_dspy.store import ProblemRow, StoredTrace

Group = tuple[ProblemRow, list["Rendered"]]


class JsonRow(str):
    """A row already serialized as one line of JSON (`json.dumps(row, ensure_ascii=False)`): written as it is."""


@dataclass
class Rendered:
    trace: StoredTrace
    prompt: list[Message]
    completion: list[Message]

    def key(self) -> str:
        return json.dumps([self.prompt, self.completion])


def rendered_groups(groups: Iterable[tuple[ProblemRow, list[StoredTrace]]], config: ExportSettings,
                    stats: dict) -> Iterator[Group]:
    """Each problem's traces rendered in the configured style, identical renderings dropped, one problem at a time."""
    stats["duplicates"] = stats["empty"] = stats["demos_missing"] = 0
    for problem, traces in groups:
        seen: set[str] = set()
        kept = []
        for trace in traces:
            if config.style == "turns" and demos_not_recorded(trace.turns):
                stats["demos_missing"] += 1
            prompt, completion = render(trace, problem.question, config.style, nudges=config.nudges,
                                        system=config.system, thinking=config.thinking)
            item = Rendered(trace, prompt, completion)
            key = item.key() if completion else ""
            if not completion or key in seen:
                stats["duplicates" if completion else "empty"] += 1
                continue
            seen.add(key)
            kept.append(item)
        yield problem, kept


def _more(config: ExportSettings, why: str) -> str:
    """The fix for an export left with too few traces: widen --band while it can be widened, else harvest more."""
    if config.band.lo <= 0.0 and config.band.hi >= 1.0:
        return (f"--band {config.band.lo:g} {config.band.hi:g} already keeps every problem: harvest more samples "
                "per problem (--samples) or more problems")
    return f"widen --band {why}"


def sft_rows(rendered: Iterable[Group], config: ExportSettings, stats: dict) -> Iterator[dict]:
    """SFT rows: every correct trace, as prompt/completion or as one messages list."""
    count = 0
    for problem, items in rendered:
        for item in items:
            if not item.trace.correct:
                continue
            columns = ({"messages": item.prompt + item.completion} if config.sft_form == "messages"
                       else {"prompt": item.prompt, "completion": item.completion})
            count += 1
            yield {**columns, "problem_id": problem.id, "trace_id": item.trace.id}
    _require(count, "SFT needs correct traces and none are left", _more(config, "or harvest more samples"))


def kto_rows(rendered: Iterable[Group], config: ExportSettings, stats: dict) -> Iterator[dict]:
    """KTO rows: every trace, labelled desirable when correct; the class balance goes into stats."""
    desirable = undesirable = 0
    for problem, items in rendered:
        for item in items:
            desirable += item.trace.correct
            undesirable += not item.trace.correct
            yield {"prompt": item.prompt, "completion": item.completion, "label": item.trace.correct,
                   "problem_id": problem.id, "trace_id": item.trace.id, "steps": item.trace.steps}
    stats["desirable"], stats["undesirable"] = desirable, undesirable
    _require(desirable and undesirable,
             f"KTO needs both correct and incorrect traces, got {desirable} correct and {undesirable} incorrect",
             _more(config, "so problems the model sometimes fails (or solves) are included"))


def dpo_rows(rendered: Iterable[Group], config: ExportSettings, stats: dict) -> Iterator[JsonRow]:
    """DPO rows: capped (correct, incorrect) pairs per problem, weighted by length, optionally resampled.

    Two passes, so memory stays flat: the first spills each row (without its weight) to a temporary file and keeps
    only the small per-pair length table; the weights, normalized over every pair, are appended in the second.
    """
    lengths: list[tuple[int, int]] = []
    with tempfile.TemporaryFile("w+", encoding="utf-8", newline="\n") as spill:
        for problem, items in rendered:
            pid = problem.id
            by_prompt: dict[str, list[Rendered]] = {}
            for item in items:  # pairs only share a prompt (a store never mixes programs, but be sure)
                by_prompt.setdefault(json.dumps(item.prompt), []).append(item)
            for prompt_key, same in by_prompt.items():
                correct = [i for i in same if i.trace.correct]
                incorrect = [i for i in same if not i.trace.correct]
                for good, bad in make_pairs(correct, incorrect, config.max_pairs, config.seed, f"{pid}:{prompt_key}"):
                    row = {"prompt": good.prompt, "chosen": good.completion, "rejected": bad.completion,
                           "problem_id": pid, "chosen_trace_id": good.trace.id, "rejected_trace_id": bad.trace.id,
                           "chosen_steps": good.trace.steps, "rejected_steps": bad.trace.steps}
                    spill.write(json.dumps(row, ensure_ascii=False) + "\n")
                    lengths.append(_lengths(good.trace, bad.trace, config.weighting))
        _require(lengths, "DPO needs problems with both a correct and an incorrect trace and none are left",
                 _more(config, "(pairs come from problems with a pass rate strictly between 0 and 1)"))
        weights = pair_weights(lengths, config.alpha if config.weighting != "none" else 0.0)
        stats["pairs"] = len(lengths)
        counts = resample_counts(weights, config.resample, config.seed) if config.resample else [1] * len(weights)
        if config.resample:
            stats["resampled_rows"] = sum(counts)
            _require(sum(counts), f"--resample {config.resample} repeats no row", "use a factor of 1 or more")
        spill.seek(0)
        for line, weight, count in zip(spill, weights, counts):
            # the weight is the row's last key, as if it had been set on the dict before json.dumps
            row = JsonRow(f"{line[:-2]}, \"weight\": {json.dumps(round(weight, 6))}}}")
            for _ in range(count):
                yield row


def stepwise_rows(rendered: Iterable[Group], config: ExportSettings, stats: dict) -> Iterator[dict]:
    """Stepwise rows: the question, the verdict-covered prefix of steps, and their verifier labels."""
    unlabeled, labels_true, labels_false, count = 0, 0, 0, 0
    for problem, items in rendered:
        seen = set()  # identical step sequences of one problem are kept once
        for item in items:
            completions, labels = labelled_steps(item.trace)
            key = json.dumps(completions)
            if not completions or key in seen:
                unlabeled += not completions
                continue
            seen.add(key)
            labels_true += sum(labels)
            labels_false += len(labels) - sum(labels)
            count += 1
            yield {"prompt": problem.question, "completions": completions, "labels": labels,
                   "problem_id": problem.id, "trace_id": item.trace.id}
    stats["unlabeled_traces"] = unlabeled
    stats["step_labels"] = {"true": labels_true, "false": labels_false}
    _require(count, "stepwise needs verifier verdicts on steps and no trace has any",
             "harvest with the verifier on (--strawberry.verifier_every=N, N > 0)")


ROWS = {"sft": sft_rows, "dpo": dpo_rows, "kto": kto_rows, "stepwise": stepwise_rows}


def labelled_steps(trace: StoredTrace) -> tuple[list[str], list[bool]]:
    """The longest prefix of steps that a verifier verdict covers: an 'incorrect' verdict on a window
    marks each of its steps False; otherwise a 'correct' one marks them True; 'unclear' labels nothing."""
    verdicts: dict[int, bool] = {}
    for turn in trace.turns:
        verdict, last, window = turn.meta.get("verdict"), turn.meta.get("step"), turn.meta.get("window")
        if turn.kind != "verify" or verdict not in ("correct", "incorrect") or not last or not window:
            continue
        for step in range(last - window + 1, last + 1):
            verdicts[step] = verdicts.get(step, True) and verdict == "correct"
    completions, labels = [], []
    for step, text in step_texts(trace.turns):
        if step not in verdicts:
            break
        completions.append(text)
        labels.append(verdicts[step])
    return completions, labels


def _lengths(chosen: StoredTrace, rejected: StoredTrace, weighting: str) -> tuple[int, int]:
    if weighting == "tokens":
        return chosen.completion_tokens, rejected.completion_tokens
    return chosen.steps, rejected.steps


def _require(condition, what: str, fix: str) -> None:
    if not condition:
        raise UserError(f"{what}: {fix}")
