"""Rows in TRL's dataset types, conversational where TRL has a conversational form.

sft      prompt/completion (or messages)             correct traces only
dpo      prompt/chosen/rejected + weight             correct vs incorrect traces of the same problem
kto      prompt/completion/label                     correct = desirable (True), incorrect = undesirable
stepwise prompt/completions/labels (standard form)   per-step labels from the verifier's verdicts
Every row also names where it came from (problem_id, trace ids); trainers drop unused columns.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from tqdm import tqdm

from strawberry_dspy.errors import UserError
from strawberry_dspy.export.config import ExportConfig
from strawberry_dspy.export.pairs import make_pairs
from strawberry_dspy.export.render import Message, render, step_texts
from strawberry_dspy.export.weighting import pair_weights, resample, resample_counts
from strawberry_dspy.store import ProblemRow, StoredTrace


@dataclass
class Rendered:
    trace: StoredTrace
    prompt: list[Message]
    completion: list[Message]

    def key(self) -> str:
        return json.dumps([self.prompt, self.completion])


def rendered_groups(groups: dict[str, list[StoredTrace]], problems: dict[str, ProblemRow],
                    config: ExportConfig, stats: dict) -> dict[str, list[Rendered]]:
    """Each problem's traces rendered in the configured style, identical renderings dropped."""
    out: dict[str, list[Rendered]] = {}
    stats["duplicates"] = stats["empty"] = 0
    for pid, traces in tqdm(groups.items(), desc="render", unit="problem", disable=None, leave=False):
        seen: set[str] = set()
        kept = out[pid] = []
        for trace in traces:
            prompt, completion = render(trace, problems[pid].question, config.style, nudges=config.nudges,
                                        system=config.system)
            item = Rendered(trace, prompt, completion)
            if not completion or item.key() in seen:
                stats["duplicates" if completion else "empty"] += 1
                continue
            seen.add(item.key())
            kept.append(item)
    return out


def sft_rows(rendered: dict[str, list[Rendered]], config: ExportConfig, stats: dict) -> list[dict]:
    """SFT rows: every correct trace, as prompt/completion or as one messages list."""
    rows = []
    for pid, items in rendered.items():
        for item in items:
            if not item.trace.correct:
                continue
            columns = ({"messages": item.prompt + item.completion} if config.sft_form == "messages"
                       else {"prompt": item.prompt, "completion": item.completion})
            rows.append({**columns, "problem_id": pid, "trace_id": item.trace.id})
    _require(rows, "SFT needs correct traces and none are left", "widen --band or harvest more samples")
    return rows


def kto_rows(rendered: dict[str, list[Rendered]], config: ExportConfig, stats: dict) -> list[dict]:
    """KTO rows: every trace, labelled desirable when correct; the class balance goes into stats."""
    rows = [{"prompt": item.prompt, "completion": item.completion, "label": item.trace.correct,
             "problem_id": pid, "trace_id": item.trace.id, "steps": item.trace.steps}
            for pid, items in rendered.items() for item in items]
    desirable = sum(row["label"] for row in rows)
    stats["desirable"], stats["undesirable"] = desirable, len(rows) - desirable
    _require(desirable and len(rows) - desirable,
             f"KTO needs both correct and incorrect traces, got {desirable} correct and {len(rows) - desirable} incorrect",
             "widen --band so problems the model sometimes fails (or solves) are included")
    return rows


def dpo_rows(rendered: dict[str, list[Rendered]], config: ExportConfig, stats: dict) -> list[dict]:
    """DPO rows: capped (correct, incorrect) pairs per problem, weighted by length, optionally resampled."""
    rows, lengths = [], []
    for pid, items in rendered.items():
        by_prompt: dict[str, list[Rendered]] = {}
        for item in items:  # pairs only share a prompt (a store never mixes programs, but be sure)
            by_prompt.setdefault(json.dumps(item.prompt), []).append(item)
        for prompt_key, same in by_prompt.items():
            correct = [i for i in same if i.trace.correct]
            incorrect = [i for i in same if not i.trace.correct]
            for good, bad in make_pairs(correct, incorrect, config.max_pairs, config.seed, f"{pid}:{prompt_key}"):
                rows.append({"prompt": good.prompt, "chosen": good.completion, "rejected": bad.completion,
                             "problem_id": pid, "chosen_trace_id": good.trace.id, "rejected_trace_id": bad.trace.id,
                             "chosen_steps": good.trace.steps, "rejected_steps": bad.trace.steps})
                lengths.append(_lengths(good.trace, bad.trace, config.weighting))
    _require(rows, "DPO needs problems with both a correct and an incorrect trace and none are left",
             "widen --band (pairs come from problems with a pass rate strictly between 0 and 1)")
    weights = pair_weights(lengths, config.alpha if config.weighting != "none" else 0.0)
    for row, weight in zip(rows, weights):
        row["weight"] = round(weight, 6)
    stats["pairs"] = len(rows)
    if config.resample:
        rows = resample(rows, resample_counts(weights, config.resample, config.seed))
        stats["resampled_rows"] = len(rows)
        _require(rows, f"--resample {config.resample} repeats no row", "use a factor of 1 or more")
    return rows


def stepwise_rows(rendered: dict[str, list[Rendered]], problems: dict[str, ProblemRow], config: ExportConfig,
                  stats: dict) -> list[dict]:
    """Stepwise rows: the question, the verdict-covered prefix of steps, and their verifier labels."""
    rows, unlabeled, seen = [], 0, set()
    for pid, items in rendered.items():
        for item in items:
            completions, labels = labelled_steps(item.trace)
            key = json.dumps([pid, completions])
            if not completions or key in seen:
                unlabeled += not completions
                continue
            seen.add(key)
            rows.append({"prompt": problems[pid].question, "completions": completions, "labels": labels,
                         "problem_id": pid, "trace_id": item.trace.id})
    stats["unlabeled_traces"] = unlabeled
    stats["step_labels"] = {"true": sum(sum(r["labels"]) for r in rows),
                            "false": sum(len(r["labels"]) - sum(r["labels"]) for r in rows)}
    _require(rows, "stepwise needs verifier verdicts on steps and no trace has any",
             "harvest with the verifier on (--strawberry.verifier_every=N, N > 0)")
    return rows


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
