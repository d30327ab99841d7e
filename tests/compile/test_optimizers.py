"""DSPy's optimizers by name on the strawberry program, scripted: bootstrap, mipro and gepa (DummyLM prompt model)."""

import json

import dspy
import pytest
from dspy.adapters import JSONAdapter
from dspy.utils.dummies import DummyLM

from strawberry_dspy.compile import CompileSettings, compile_program
from strawberry_dspy.compile.metrics import FeedbackMetric, to_examples
from strawberry_dspy.compile.optimizers import compact_demos
from strawberry_dspy.benchmarks import load_benchmark
from strawberry_dspy.program import StrawberryProgram
from strawberry_dspy.program.adapter import MAX_DEMOS
from strawberry_dspy.program.trace import Trace
from tests.compile.helpers import RECIPE, gold_sum, is_check, right_after_three_steps, rule_lm, write_recipe, write_sums

TINY = "Add the two numbers, one tiny step at a time."


def right_with_tiny_steps(messages) -> str:
    """Right only when the system prompt asks for tiny steps: a better instruction is what wins."""
    if not is_check(messages):
        return "I add the numbers."
    good = "tiny step" in messages[0]["content"]
    return f"<final_answer>{gold_sum(messages) if good else -1}</final_answer>"


def compile_with(tmp_path, optimizer, rule, budget, prompt_lm=None, **knobs):
    spec = write_sums(tmp_path / "sums.jsonl")
    path, config = write_recipe(tmp_path, spec, strawberry={**RECIPE["strawberry"], "check_every": 3, **knobs})
    options = CompileSettings(optimizer=optimizer, budget=budget, dev_limit=4, test_limit=3, train_limit=6,
                              out=tmp_path / optimizer)
    return compile_program(path, config, options, task_lm=rule_lm(rule), prompt_lm=prompt_lm, progress=False)


def test_bootstrap_keeps_few_compact_demos_that_carry_the_problem(tmp_path):
    compiled, meta = compile_with(tmp_path, "bootstrap", right_after_three_steps, budget=5)
    state = json.loads(compiled.read_text())
    for name, output in (("step.predict", "step"), ("check.predict", "reply")):
        demos = state[name]["demos"]
        assert 0 < len(demos) <= MAX_DEMOS
        for demo in demos:
            assert set(demo) == {"prompt", output}  # never the whole chat
            assert demo["prompt"].startswith("Problem: What is")
    assert all(d["reply"].startswith("<final_answer>") for d in state["check.predict"]["demos"])
    assert meta["lm_calls"]["optimize"] > 0 and meta["predictors"]["step.predict"]["demos"] == len(state["step.predict"]["demos"])
    assert compiled.stat().st_size < 20_000


def test_compact_demos_drops_the_chat_and_restores_the_prefill():
    program = StrawberryProgram()
    chat = [{"role": "system", "content": "sys"}, {"role": "user", "content": "Problem: 2 + 2?"},
            {"role": "assistant", "content": "four"}] * 50
    program.check.predict.demos = [dspy.Example(conversation=chat, prompt="Final?", prefill="<final_answer>",
                                                reply="4</final_answer>")] * 5
    program.step.predict.demos = [dspy.Example(conversation=chat, prompt="Next?", step="")]  # no output: dropped
    compact_demos(program)
    assert program.step.predict.demos == []
    assert len(program.check.predict.demos) == MAX_DEMOS
    demo = program.check.predict.demos[0]
    assert dict(demo) == {"prompt": "Problem: 2 + 2?\n\nFinal?", "reply": "<final_answer>4</final_answer>"}


def test_mipro_with_a_scripted_prompt_model_picks_the_better_instruction(tmp_path):
    reply = {"observations": "Sums of small numbers.", "summary": "Sums.", "program_description": "A reasoning loop.",
             "module_description": "Takes one step.", "proposed_instruction": TINY}
    compiled, meta = compile_with(tmp_path, "mipro", right_with_tiny_steps, budget=4, prompt_lm=DummyLM({"": reply}))
    assert meta["predictors"]["step.predict"]["instructions"] == TINY
    assert meta["scores"]["before"]["dev"]["accuracy"] == 0.0 and meta["scores"]["after"]["dev"]["accuracy"] == 1.0
    assert meta["scores"]["after"]["test"]["accuracy"] == 1.0


def test_gepa_rewrites_instructions_from_gold_feedback(tmp_path):
    reflection = DummyLM({"": {"new_instruction": TINY}}, adapter=JSONAdapter())
    compiled, meta = compile_with(tmp_path, "gepa", right_with_tiny_steps, budget=3, prompt_lm=reflection)
    assert meta["predictors"]["step.predict"]["instructions"] == TINY
    assert meta["scores"]["after"]["test"]["accuracy"] == 1.0 > meta["scores"]["before"]["test"]["accuracy"]
    sent = "\n".join(m["content"] for h in reflection.history for m in h["messages"])
    assert "The correct answer is" in sent  # the reflection model saw the gold-answer feedback


def test_feedback_names_the_gold_answer_and_what_the_program_did(tmp_path):
    bench = load_benchmark(write_sums(tmp_path / "sums.jsonl"))
    problem = bench.problems("dev", 1)[0]
    (example,) = to_examples([problem], seed=0)
    trace = Trace(final_answer="99", stop_reason="max_turns")
    out = FeedbackMetric(bench, [problem])(example, dspy.Prediction(answer="99", trace=trace), None, "check.predict", None)
    assert out.score == 0.0
    assert f"The correct answer is {problem.answer}" in out.feedback and "99, which is wrong" in out.feedback
    assert "max_turns" in out.feedback and "<final_answer>" in out.feedback
    right = FeedbackMetric(bench, [problem])(example, dspy.Prediction(answer=problem.answer, trace=trace), None, None, None)
    assert right.score == 1.0 and "correct" in right.feedback


def test_band_needs_search(tmp_path):
    from strawberry_dspy.compile import Objective
    from strawberry_dspy.errors import UserError

    with pytest.raises(UserError, match="band objective needs --optimizer search"):
        CompileSettings(optimizer="gepa", objective=Objective("band", samples=4)).validate()


def test_an_optimized_program_worse_on_dev_is_not_kept(tmp_path):
    def demos_confuse_it(messages):  # counts every earlier assistant message, demos included: demos make it wrong
        if not is_check(messages):
            return "I add the numbers."
        steps = sum(1 for m in messages[:-1] if m["role"] == "assistant")
        return f"<final_answer>{gold_sum(messages) if steps == 3 else -1}</final_answer>"

    compiled, meta = compile_with(tmp_path, "bootstrap", demos_confuse_it, budget=5)
    assert meta["rejected"]["value"] == 0.0 and meta["scores"]["before"]["dev"]["value"] == 1.0
    assert meta["scores"]["after"] == meta["scores"]["before"]
    state = json.loads(compiled.read_text())
    assert state["step.predict"]["demos"] == [] and meta["predictors"]["step.predict"]["demos"] == 0
    assert "kept the recipe" in (compiled.parent / "report.md").read_text()


def test_bootstrap_takes_demos_from_the_teacher_prompt_model(tmp_path):
    teacher = rule_lm(right_after_three_steps)
    compiled, meta = compile_with(tmp_path, "bootstrap", lambda messages: "no idea", budget=3, prompt_lm=teacher)
    assert len(teacher.history) > 0 and meta["predictors"]["check.predict"]["demos"] > 0
    state = json.loads(compiled.read_text())
    assert all(d["reply"].startswith("<final_answer>") for d in state["check.predict"]["demos"])


def test_a_prompt_model_that_cannot_follow_dspys_format_is_one_clear_error(tmp_path):
    from strawberry_dspy.errors import UserError

    rambling = DummyLM({"": {"unrelated": "Your most important role is to help."}})  # no field MIPROv2 asked for
    with pytest.raises(UserError, match=r"--optimizer mipro: the prompt model .* did not answer in DSPy's format "
                                        r"\(expected the field\(s\) proposed_instruction.*stronger --prompt-model"):
        compile_with(tmp_path, "mipro", right_with_tiny_steps, budget=2, prompt_lm=rambling)
