"""Build harvest stores (traces.sqlite, the store's schema written with plain SQL) from real StrawberryProgram traces under a DummyLM."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import dspy

from strawberry_dspy.benchmarks import load_benchmark, question_hash
from strawberry_dspy.knobs import StrawberrySettings
from strawberry_dspy.program import StrawberryProgram
from strawberry_dspy.program.adapter import TextAdapter
from strawberry_dspy.program.trace import Trace
from strawberry_dspy.store import SCHEMA, SCHEMA_VERSION
from strawberry_dspy.testing import scripted_lm

BENCHMARK = "reasoning_gym:basic_arithmetic?min_terms=2&max_terms=2&max_digits=1&seed=42"


def strawberry_trace(steps: list[str], answer: str | None, verdicts: list[str] | None = None, seed: int = 0,
                     question: str = "What is 2 + 3?", demos: list[dict] | None = None) -> Trace:
    """A real trace of the strawberry loop: the given steps, then a step holding the answer (None: budget runs out).

    With verdicts, the verifier runs after every 2 steps on a window of 2 and answers them in order.
    """
    script: list[dict] = []
    for number, text in enumerate(steps, start=1):
        script.append({"step": text})
        if verdicts and number % 2 == 0 and number // 2 <= len(verdicts):
            script.append({"critique": f"Looks checked. VERDICT: {verdicts[number // 2 - 1]}"})
    script.append({"step": f"So <final_answer>{answer}</final_answer>" if answer is not None else "hmm"})
    knobs = StrawberrySettings(check_every=100, verifier_every=2 if verdicts else 0, verifier_window=2,
                               max_turns=len(steps) + (1 if answer is not None else 0), force_answer=False,
                               demos=demos or [])
    with dspy.context(lm=scripted_lm(script, count_tokens=True), adapter=TextAdapter()):
        return StrawberryProgram(knobs)(question=question, seed=seed).trace


@dataclass
class StoreBuilder:
    """Problems and traces to write; traces are scored against the problem's gold answer."""

    problems: dict[str, dict] = field(default_factory=dict)
    traces: list[tuple[str, Trace]] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def problem(self, pid: str, question: str, answer: str, split: str = "train") -> str:
        self.problems[pid] = {"question": question, "answer": answer, "split": split}
        return pid

    def add(self, pid: str, steps: list[str], answer: str | None, **kwargs) -> Trace:
        trace = strawberry_trace(steps, answer, question=self.problems[pid]["question"],
                                 seed=len(self.traces), **kwargs)
        self.traces.append((pid, trace))
        return trace

    def add_failed(self, pid: str) -> None:
        self.failed.append(pid)

    def write(self, directory: Path, benchmark: str = BENCHMARK) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(directory / "traces.sqlite")
        db.executescript(SCHEMA)
        meta = {"schema_version": SCHEMA_VERSION, "program_hash": "abc123", "program": "strawberry", "benchmark": benchmark,
                "model": "dummy", "config_json": json.dumps({"program": "strawberry"}),
                "versions_json": json.dumps({"dspy": dspy.__version__}), "created_at": "2025-01-01T00:00:00"}
        db.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
        for pid, p in self.problems.items():
            db.execute("INSERT INTO problems (id, question, answer, split, qhash, metadata_json) VALUES (?, ?, ?, ?, ?, ?)",
                       (pid, p["question"], p["answer"], p["split"], question_hash(p["question"]), "{}"))
        samples: dict[str, int] = {}
        for pid, trace in self.traces + [(pid, None) for pid in self.failed]:
            sample = samples[pid] = samples.get(pid, -1) + 1
            if trace is None:
                trace = Trace(stop_reason="error", error="ConnectionError: gone")
            correct = trace.final_answer is not None and trace.final_answer == self.problems[pid]["answer"]
            cur = db.execute(
                "INSERT INTO traces (problem_id, sample, seed, final_answer, extracted, correct, score, stop_reason, "
                "answer_status, steps, prompt_tokens, completion_tokens, cached_tokens, latency_s, model, program_hash, "
                "error, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (pid, sample, sample, trace.final_answer, trace.final_answer, int(correct), float(correct),
                 trace.stop_reason, trace.answer_status, trace.steps, trace.total("prompt_tokens"),
                 trace.total("completion_tokens"), 0, 0.0, "dummy", "abc123", trace.error, "2025-01-01T00:00:00"))
            for idx, turn in enumerate(trace.turns):
                db.execute("INSERT INTO turns VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           (cur.lastrowid, idx, turn.role, turn.kind, turn.content, turn.prompt_tokens,
                            turn.completion_tokens, turn.cached_tokens, turn.latency_s, json.dumps(turn.meta)))
        db.commit()
        db.close()
        return directory


def benchmark_problems(split: str, n: int, benchmark: str = BENCHMARK):
    """The first n problems of a split of the fixture's benchmark."""
    return load_benchmark(benchmark).problems(split, n)


def near_duplicate(question: str) -> str:
    """The question with a few words around it, chosen so that its own hash split is train."""
    from strawberry_dspy.benchmarks import split_of

    for prefix in ("Please", "Now", "Quickly", "Kindly", "Carefully", "Exactly", "Mentally", "Precisely"):
        variant = f"{prefix}, {question[0].lower()}{question[1:]} Show your work."
        if split_of(variant) == "train":
            return variant
    raise AssertionError("no train-split variant found")


def build_mixed_store(directory: Path) -> dict:
    """A store with every case an export meets; returns the ids of the interesting problems.

    mixed   2 correct (2 steps, one an exact duplicate) + 1 incorrect (5 steps): pass rate 2/3
    hard    1 correct (3 steps) + 2 incorrect (2 and 6 steps): pass rate 1/3
    easy    2 correct: pass rate 1        never   2 incorrect: pass rate 0
    planted a test-split problem (correct and incorrect traces)
    relabelled  a test question stored as split "train"
    near    a test question with words added (its own hash split is train)
    plus one failed trace on `mixed`. Every trace has verifier verdicts (stepwise).
    """
    train, test = benchmark_problems("train", 4), benchmark_problems("test", 3)
    b = StoreBuilder()
    mixed, hard, easy, never = (b.problem(p.id, p.question, p.answer) for p in train)
    planted = b.problem(test[0].id, test[0].question, test[0].answer, split="test")
    relabelled = b.problem("relabelled", test[1].question, test[1].answer, split="train")
    near = b.problem("near", near_duplicate(test[2].question), test[2].answer, split="train")
    gold = {pid: p["answer"] for pid, p in b.problems.items()}
    ok, bad = ["correct", "correct", "correct"], ["correct", "incorrect", "incorrect"]
    b.add(mixed, ["first", "second"], gold[mixed], verdicts=ok)
    b.add(mixed, ["first", "second"], gold[mixed], verdicts=ok)
    b.traces[-1] = (mixed, b.traces[-2][1])  # an exact duplicate of the trace before
    b.add(mixed, ["a", "b", "c", "d", "e"], "999", verdicts=bad)
    b.add_failed(mixed)
    b.add(hard, ["x", "y", "z"], gold[hard], verdicts=ok)
    b.add(hard, ["p", "q"], "998", verdicts=bad)
    b.add(hard, ["p", "q", "r", "s", "t", "u"], "997", verdicts=bad)
    b.add(easy, ["e1", "e2"], gold[easy], verdicts=ok)
    b.add(easy, ["e1", "e3", "e4"], gold[easy], verdicts=ok)
    b.add(never, ["n1", "n2"], "996", verdicts=bad)
    b.add(never, ["n1", "n3"], "995", verdicts=bad)
    for pid in (planted, relabelled, near):
        b.add(pid, ["leak one", "leak two"], gold[pid], verdicts=ok)
        b.add(pid, ["leak three", "leak four", "leak five"], "994", verdicts=bad)
    b.write(directory)
    return {"mixed": mixed, "hard": hard, "easy": easy, "never": never, "planted": planted,
            "relabelled": relabelled, "near": near, "questions": {pid: p["question"] for pid, p in b.problems.items()}}


CHATML = ("{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' }}"
          "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")


def chatml_tokenizer():
    """A tiny offline tokenizer with a ChatML chat template (SmolLM2's format), for TRL's template checks."""
    import pytest

    transformers = pytest.importorskip("transformers")
    from tokenizers import Tokenizer, models, pre_tokenizers

    backend = Tokenizer(models.WordLevel({"[UNK]": 0}, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = transformers.PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="[UNK]")
    tokenizer.chat_template = CHATML
    return tokenizer
