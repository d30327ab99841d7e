"""`strawberry stats`: AUROC of the verifier's verdicts, nudges that changed answers, cost, the plot and the report."""

import json

import pytest

from strawberry_dspy.benchmarks import Problem
from strawberry_dspy.cli import main
from strawberry_dspy.harvest import harvest
from strawberry_dspy.cost import cost_usd
from strawberry_dspy.harvest.signals import NO_NUDGE_EFFECTS, auroc, nudge_effects, stated_answer, verifier_agreement
from strawberry_dspy.harvest.stats import format_stats, harvest_stats
from strawberry_dspy.program.formats import step_prompt
from strawberry_dspy.knobs import StrawberrySettings
from strawberry_dspy.program.trace import Turn
from strawberry_dspy.store import TraceStore
from tests.harvest.scripted import HarvestLM, gold_of, harvest_config, write_problems


def test_auroc_known_values_and_undefined():
    assert auroc([0.9, 0.8, 0.1, 0.2], [True, True, False, False]) == 1.0
    assert auroc([0.1, 0.2, 0.9, 0.8], [True, True, False, False]) == 0.0
    assert auroc([0.5, 0.5, 0.5, 0.5], [True, False, True, False]) == 0.5
    assert auroc([1.0, 0.5, 0.5, 0.0], [True, True, False, False]) == pytest.approx(0.875)
    assert auroc([0.3, 0.7], [True, True]) is None and auroc([], []) is None


def _row(pid, sample, correct, **extra):
    return {"problem_id": pid, "sample": sample, "seed": sample, "correct": int(correct), "score": float(correct),
            "stop_reason": "final_answer", "steps": 2, "prompt_tokens": 100, "completion_tokens": 10, "cached_tokens": 80,
            "latency_s": 1.0, "model": "local", "program_hash": "x", **extra}


def verify(verdict):
    return Turn("verifier", "verify", f"VERDICT: {verdict}", meta={"verdict": verdict, "step": 2, "window": 2})


@pytest.fixture
def store(tmp_path):
    store = TraceStore.create(tmp_path, {"program": "strawberry", "benchmark": "jsonl:/nonexistent.jsonl",
                                         "model": "local", "split": "train"})
    store.add_problems([Problem("p1", "What is 6 + 6?", "12"), Problem("p2", "What is 3 + 4?", "7")], "train")
    opening = [Turn("system", "system", "Be brief."), Turn("user", "problem", "Problem: ...")]
    # sample 0: says 10, "Any mistakes so far?" -> 12 (a correction); the verifier doubted it anyway
    store.write_trace(_row("p1", 0, True), opening + [
        Turn("assistant", "step", "5 and 5 make 10", 50, 5), verify("incorrect"),
        Turn("user", "nudge", "A verifier reviewed your last 2 steps: wrong.\n\nAny mistakes so far?", meta={"nudge": 2}),
        Turn("assistant", "step", "No wait, 6 and 6 make 12", 50, 5),
        Turn("user", "check", "Final answer?"), Turn("assistant", "final", "<final_answer>12</final_answer>")])
    # sample 1: says 12, "Are you sure?" -> 13 (a regression); the verifier said correct
    store.write_trace(_row("p1", 1, False), opening + [
        Turn("assistant", "step", "6 and 6 make 12", 50, 5), verify("correct"),
        Turn("user", "nudge", "Are you sure?", meta={"nudge": 1}),
        Turn("assistant", "step", "Hmm, 13 then", 50, 5),
        Turn("user", "check", "Final answer?"), Turn("assistant", "final", "<final_answer>13</final_answer>")])
    # p2: no stated answer before the nudge; the final answer is wrong and the verifier said so
    store.write_trace(_row("p2", 0, False), opening + [
        Turn("assistant", "step", "Let me think", 50, 5), verify("incorrect"),
        Turn("user", "nudge", "Are you sure?", meta={"nudge": 1}),
        Turn("assistant", "final", "<final_answer>8</final_answer>")])
    store.write_trace(_row("p2", 1, False, stop_reason="error", error="boom"), opening)
    return store


def test_verifier_agreement_counts_verdicts_by_outcome(store):
    agreement = verifier_agreement(store)
    assert agreement.traces == 3
    assert agreement.verdicts == {"incorrect": [1, 1], "correct": [0, 1]}
    # incorrect traces scored 0.0 and 1.0, the correct one 1.0: positives beat it in 0 + 0.5 of 2 pairs
    assert agreement.auroc == pytest.approx(0.25)


def test_nudges_that_changed_the_stated_answer(store):
    gold = {"p1": "12", "p2": "7"}
    effects = nudge_effects(store, lambda pid, answer: answer == gold[pid])
    assert effects["#2 Any mistakes so far? [after a critique]"].__dict__ == {"sent": 1, "changed": 1, "corrections": 1,
                                                                          "regressions": 0}
    assert effects["#1 Are you sure? [after a critique]"].__dict__ == {"sent": 1, "changed": 1, "corrections": 0,
                                                                   "regressions": 1}
    assert effects["(confidence check)"].__dict__ == {"sent": 2, "changed": 0, "corrections": 0, "regressions": 0}
    assert stated_answer("so it is 4, then 5", "9") == "5" and stated_answer("blue, I think", "red") is None
    assert stated_answer("<final_answer>blue</final_answer>", "red") == "blue"


def test_nudge_effects_are_per_recipe_nudge_without_the_reanchored_problem(tmp_path):
    """With `reanchor: nudges` every nudge restates its problem: the table still has one row per nudge of the recipe
    (its index and its text as the recipe words it), and none of the problems' text."""
    nudges = ["What's your next step?", "Are you sure?\nLook again."]
    knobs = StrawberrySettings(nudges=nudges, reanchor="nudges", step_format="scratchpad")
    store = TraceStore.create(tmp_path, {"program": "strawberry", "benchmark": "jsonl:/nonexistent.jsonl",
                                         "model": "local", "split": "train", "config_json": json.dumps(
                                             {"strawberry": {"nudges": nudges, "continue_prompt": "Go on."}})})
    questions = {f"p{i}": f"What is\n{i} + 2?" for i in range(4)}  # a question over two lines
    store.add_problems([Problem(pid, q, str(int(pid[1]) + 2)) for pid, q in questions.items()], "train")
    for pid, question in questions.items():
        gold = int(pid[1]) + 2
        turns = [Turn("system", "system", "Be brief."), Turn("user", "problem", f"Problem: {question}"),
                 Turn("assistant", "step", f"It is {gold + 1}.", 50, 5)]
        for index, reply in ((1, f"No: {gold}."), (None, f"So {gold}."), (0, f"Still {gold}.")):
            prompt = step_prompt(knobs, nudges[index] if index is not None else "Go on.", question, ["a step"], False)
            assert question in prompt  # re-anchored
            turns += [Turn("user", "nudge", prompt, meta={"nudge": index}), Turn("assistant", "step", reply, 50, 5)]
        turns += [Turn("user", "check", "Final answer?"), Turn("assistant", "final", f"<final_answer>{gold}</final_answer>")]
        store.write_trace(_row(pid, 0, True), turns)
    effects = nudge_effects(store, lambda pid, answer: answer == str(int(pid[1]) + 2))
    assert {label: (e.sent, e.changed, e.corrections) for label, e in effects.items()} == {
        "#1 Are you sure? Look again.": (4, 4, 4), "(continue prompt) Go on.": (4, 0, 0),
        "#0 What's your next step?": (4, 0, 0), "(confidence check)": (4, 0, 0)}
    text = format_stats(harvest_stats(store))
    assert "#1 Are you sure? Look again." in text and "Recall the problem" not in text and "What is" not in text


def test_stats_report_explains_an_empty_nudge_table(tmp_path):
    store = TraceStore.create(tmp_path, {"program": "cot", "benchmark": "jsonl:/nonexistent.jsonl", "model": "local",
                                         "split": "train"})
    store.add_problems([Problem("p1", "What is 6 + 6?", "12")], "train")
    store.write_trace(_row("p1", 0, True), [Turn("user", "problem", "What is 6 + 6?"),
                                            Turn("assistant", "final", "<final_answer>12</final_answer>")])
    assert harvest_stats(store).nudges == {}
    assert NO_NUDGE_EFFECTS in format_stats(harvest_stats(store))


def test_stats_report_sections(store):
    stats = harvest_stats(store)
    text = format_stats(stats)
    assert stats.rates == {"p1": 0.5, "p2": 0.0}
    assert stats.in_band == ["p1"] and (stats.traces, stats.failed, stats.correct) == (4, 1, 1)
    for expected in ("pass rate       33.3% of non-failed traces", "in band         1 problems", "final_answer  3",
                     "error         1", "80.0% served from cache", "cost               none (served on this machine",
                     "AUROC of 'incorrect' verdicts for an incorrect trace: 0.250", "Any mistakes so far?"):
        assert expected in text


def test_cost_from_litellms_map_and_unknown_for_local():
    assert cost_usd("local", 1000, 100) is None and cost_usd("local:/m.gguf", 1, 1) is None
    assert cost_usd("ollama_chat/llama3", 1000, 100) is None
    assert cost_usd("openai/my-model", 1000, 100, api_base="http://localhost:8000/v1") is None
    assert cost_usd("openai/no-such-model-xyz", 1000, 100) is None
    price = cost_usd("openai/gpt-4o-mini", 1_000_000, 1_000_000)
    assert price is not None and price > 0
    assert cost_usd("openai/gpt-4o-mini", 1_000_000, 0, cached_tokens=1_000_000) < cost_usd("openai/gpt-4o-mini", 1_000_000, 0)


def test_stats_command_prints_tables_and_writes_the_plot(tmp_path, capsys):
    config = harvest_config(write_problems(tmp_path / "problems.jsonl", 60), limit=6)
    gold = gold_of(config)
    harvest(config, tmp_path / "h", samples=4, lm=HarvestLM(gold, dict(zip(gold, [0, 1, 2, 3, 4, 2])), spread=4),
            progress=False)
    assert main(["stats", str(tmp_path / "h")]) == 0
    out = capsys.readouterr().out
    assert "4 problems with pass rate in [0.1, 0.9]" in out and "traces by stop reason" in out
    assert "AUROC n/a" in out  # the verifier was off
    png = tmp_path / "h" / "pass_rates.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    assert main(["stats", str(tmp_path / "h"), "--band", "0.5", "1", "--plot", str(tmp_path / "p.png")]) == 0
    assert "4 problems with pass rate in [0.5, 1]" in capsys.readouterr().out and (tmp_path / "p.png").exists()


def test_stats_of_a_missing_store_is_one_line_exit_2(tmp_path, capsys):
    assert main(["stats", str(tmp_path / "nothing")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no trace store") and len(err.strip().splitlines()) == 1
