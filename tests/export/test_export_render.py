"""Rendering real strawberry traces: flat (one assistant message) and turns (the chat as the model saw it)."""

import json

from strawberry_dspy.export import ExportSettings, export
from strawberry_dspy.export.render import flat_text, render, step_texts
from strawberry_dspy.store import StoredTrace, StoredTurn
from tests.export.store_fixture import StoreBuilder, benchmark_problems, strawberry_trace

DEMO = {"question": "Calculate 6 + -2.", "steps": ["Adding -2 is subtracting 2.", "6 - 2 = 4."], "answer": "4"}


def stored(trace, correct=True) -> StoredTrace:
    turns = [StoredTurn(t.role, t.kind, t.content, t.meta) for t in trace.turns]
    return StoredTrace(1, "p", 0, correct, trace.steps, trace.total("completion_tokens"), trace.stop_reason,
                       trace.final_answer, turns)


def test_flat_is_one_assistant_message_with_inline_nudges_and_the_final_answer():
    trace = stored(strawberry_trace(["Add the ones.", "2 + 3 = 5."], "5", verdicts=["correct"]))
    prompt, completion = render(trace, "What is 2 + 3?", "flat")
    assert prompt == [{"role": "user", "content": "What is 2 + 3?"}]
    assert len(completion) == 1 and completion[0]["role"] == "assistant"
    text = completion[0]["content"]
    nudges = [t.content for t in trace.turns if t.kind == "nudge"]
    first_nudge = nudges[0]
    assert text.startswith(f"Add the ones.\n\n{first_nudge}\n\n2 + 3 = 5.")
    assert text.endswith("So <final_answer>5</final_answer>")
    assert "verifier" not in text.lower() and "VERDICT" not in text  # feedback stripped from the later nudge
    assert "minuscule" not in text  # neither the system prompt nor the first user turn


def test_flat_options_drop_nudges_and_add_a_system_message():
    trace = stored(strawberry_trace(["one", "two", "three"], "5"))
    prompt, completion = render(trace, "Q?", "flat", nudges="drop", system="Think step by step.")
    assert prompt[0] == {"role": "system", "content": "Think step by step."}
    assert completion[0]["content"] == "one\n\ntwo\n\nthree\n\nSo <final_answer>5</final_answer>"


def test_flat_keeps_check_replies_that_were_steps_and_drops_empty_answers():
    turns = [StoredTurn("system", "system", "sys"), StoredTurn("user", "problem", "Problem: Q"),
             StoredTurn("assistant", "step", "s1", {"step": 1}),
             StoredTurn("user", "check", "Do you have the final answer?"),
             StoredTurn("assistant", "check", "Not yet, next I add.", {"answer_status": "missing"}),
             StoredTurn("user", "check", "Do you have the final answer?"),
             StoredTurn("assistant", "check", "<final_answer></final_answer>", {"answer_status": "empty"}),
             StoredTurn("user", "check", "Time is up.", {"forced": True}),
             StoredTurn("assistant", "final", "<final_answer>7</final_answer>", {"answer_status": "ok"}),
             StoredTurn("assistant", "title", "Adding", {"step": 1})]
    assert flat_text(turns) == "s1\n\nNot yet, next I add.\n\n<final_answer>7</final_answer>"


def test_turns_keep_the_chat_the_model_saw_without_verifier_or_titles():
    raw = strawberry_trace(["a", "b", "c", "d"], "5", verdicts=["incorrect", "correct"])
    trace = stored(raw)
    prompt, completion = render(trace, "ignored", "turns")
    assert [m["role"] for m in prompt] == ["system", "user"]
    assert prompt[1]["content"].startswith("Problem: What is 2 + 3?")
    main_chat = [t for t in raw.turns if t.role in ("user", "assistant")][1:]
    assert completion == [{"role": t.role, "content": t.content} for t in main_chat]
    assert completion[-1] == {"role": "assistant", "content": "So <final_answer>5</final_answer>"}
    assert any("VERDICT: incorrect" in m["content"] for m in completion if m["role"] == "user")
    assert all(m["role"] in ("user", "assistant") for m in completion)


def test_step_texts_are_numbered_steps_only():
    trace = stored(strawberry_trace(["a", "b", "c"], "5"))
    assert step_texts(trace.turns) == [(1, "a"), (2, "b"), (3, "c")]


def test_a_trace_without_any_reasoning_text_renders_no_completion():
    turns = [StoredTurn("system", "system", "sys"), StoredTurn("user", "problem", "Problem: Q"),
             StoredTurn("assistant", "step", "", {"step": 1})]
    trace = StoredTrace(1, "p", 0, False, 1, 0, "max_turns", None, turns)
    assert render(trace, "Q", "flat")[1] == []
    assert render(trace, "Q", "turns")[1] == [{"role": "assistant", "content": ""}]


def test_turns_prompt_carries_the_worked_demos_the_program_sent():
    """A program with worked demos sent them after its system prompt on every call: the training prompt has them
    too (else DPO would train on a context the model never sampled in); flat style stays the bare question."""
    raw = strawberry_trace(["a", "b"], "5", demos=[DEMO])
    prompt, completion = render(stored(raw), "ignored", "turns")
    demo_chat = raw.turns[0].meta["demo_chat"]
    assert [m["role"] for m in prompt] == ["system", *[m["role"] for m in demo_chat], "user"]
    assert prompt[1:-1] == demo_chat and prompt[1]["content"].startswith("Problem: Calculate 6 + -2.")
    assert prompt[-1]["content"].startswith("Problem: What is 2 + 3?")
    assert completion[0] == {"role": "assistant", "content": "a"}
    assert render(stored(raw), "What is 2 + 3?", "flat")[0] == [{"role": "user", "content": "What is 2 + 3?"}]


def test_the_demos_survive_the_store_into_a_dpo_export(tmp_path):
    problem = benchmark_problems("train", 1)[0]  # a question the decontamination keeps
    builder = StoreBuilder()
    pid = builder.problem("p1", problem.question, problem.answer)
    builder.add(pid, ["a"], problem.answer, demos=[DEMO])
    builder.add(pid, ["a", "b", "c"], "wrong", demos=[DEMO])
    builder.write(tmp_path / "h")
    export(tmp_path / "h", ExportSettings(format="dpo", style="turns", band=(0.0, 1.0)), tmp_path / "dpo")
    row = json.loads((tmp_path / "dpo" / "train.jsonl").read_text().splitlines()[0])
    assert [m["content"] for m in row["prompt"][1:3]] == ["Problem: Calculate 6 + -2.\n\nTake the first minuscule "
                                                          "step.", "Adding -2 is subtracting 2."]
    assert row["prompt"][-1]["content"].startswith(f"Problem: {problem.question}")


def test_an_older_store_without_the_demo_chat_exports_with_a_warning(tmp_path, capsys):
    import sqlite3

    from strawberry_dspy.cli import main

    problem = benchmark_problems("train", 1)[0]
    builder = StoreBuilder()
    pid = builder.problem("p1", problem.question, problem.answer)
    builder.add(pid, ["a"], problem.answer, demos=[DEMO])
    builder.add(pid, ["a", "b", "c"], "wrong", demos=[DEMO])
    builder.write(tmp_path / "h")
    with sqlite3.connect(tmp_path / "h" / "traces.sqlite") as db:  # as a harvest before demo_chat was recorded
        db.execute("""UPDATE turns SET meta_json = '{"demo_turns": 6}' WHERE kind = 'system'""")
    assert main(["export", str(tmp_path / "h"), "--format", "dpo", "--style", "turns", "--band", "0", "1",
                 "--out", str(tmp_path / "dpo")]) == 0
    assert "2 trace(s) were harvested before worked demos were recorded" in capsys.readouterr().err
    row = json.loads((tmp_path / "dpo" / "train.jsonl").read_text().splitlines()[0])
    assert [m["role"] for m in row["prompt"]] == ["system", "user"]  # exported as stored, nothing invented
    assert main(["export", str(tmp_path / "h"), "--format", "dpo", "--style", "flat", "--band", "0", "1",
                 "--out", str(tmp_path / "flat")]) == 0
    assert "worked demos" not in capsys.readouterr().err  # flat prompts never carry them


def _request(lm) -> list[dict]:
    """The messages of the first LM request a scripted LM received (what the program really sent)."""
    return [{"role": m["role"], "content": m["content"]} for m in lm.history[0]["messages"]]


def test_training_prompts_are_exactly_what_each_program_sent(use_lm):
    """The turns-style training prompt of a trace equals the prompt of the request the program made: system prompt,
    worked demos and problem for the strawberry loop; DSPy's system prompt and the question for chain-of-thought."""
    from strawberry_dspy.program import ChainOfThought, StrawberrySettings, StrawberryProgram

    lm = use_lm([{"reasoning": "3 and 4 make 7", "answer": "7"}])
    trace = ChainOfThought()(question="Calculate 3 + 4.").trace
    prompt, completion = render(stored(trace), "Calculate 3 + 4.", "turns")
    assert prompt == _request(lm) and prompt[0]["role"] == "system" and "<final_answer>" in prompt[0]["content"]
    assert completion and completion[-1]["role"] == "assistant"

    lm = use_lm({"": {"step": "3 + 4 = 7."}, "final_answer": {"reply": "<final_answer>7</final_answer>"}})
    knobs = StrawberrySettings(demos=[DEMO], step_format="numbered", check_every=1, max_turns=2)
    trace = StrawberryProgram(knobs)(question="Calculate 3 + 4.", seed=1).trace
    prompt, _ = render(stored(trace), "Calculate 3 + 4.", "turns")
    request = _request(lm)
    assert prompt[0]["role"] == "system" and any(DEMO["question"] in m["content"] for m in prompt[1:-1])  # the demo
    assert prompt[-1]["role"] == "user" and "Calculate 3 + 4." in prompt[-1]["content"]
    assert prompt == request[:len(prompt)]  # a step prefill, if any, follows the prompt in the request
    assert all(m["role"] == "assistant" for m in request[len(prompt):])
