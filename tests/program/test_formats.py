"""The search levers change the prompts as claimed: step formats, re-anchoring, demos, a cool check temperature."""

import pytest

from strawberry_dspy.config import config_from_dict
from strawberry_dspy.errors import UserError
from strawberry_dspy.knobs import StrawberrySettings
from strawberry_dspy.program import StrawberryProgram

QUESTION = "What is 17 + 25?"
DEMO = {"question": "Calculate 6 + -2.", "steps": ["Adding -2 is subtracting 2.", "6 - 2 = 4."], "answer": "4"}


def knobs(**overrides) -> StrawberrySettings:
    base = dict(check_every=2, verifier_every=0, max_turns=3, force_answer=False, nudge_probability=0.0,
                continue_prompt="Go on.")
    return StrawberrySettings(**{**base, **overrides})


def run(use_lm, **overrides):
    lm = use_lm([{"step": "17 + 25 is 42."}, {"step": "Yes, 42."}, {"reply": "<final_answer>42</final_answer>"}])
    out = StrawberryProgram(knobs(**overrides))(question=QUESTION, seed=3)
    return lm, out


def sent(lm, call: int) -> list[dict]:
    return lm.history[call]["messages"]


def test_plain_steps_are_unchanged(use_lm):
    lm, out = run(use_lm)
    assert sent(lm, 1)[-1] == {"role": "user", "content": "Go on."}
    assert "Step 1:" not in str(lm.history) and out.answer == "42"


def test_numbered_steps_are_started_for_the_model(use_lm):
    lm, out = run(use_lm, step_format="numbered")
    assert sent(lm, 0)[-1] == {"role": "assistant", "content": "Step 1:"}
    assert sent(lm, 1)[-1] == {"role": "assistant", "content": "Step 2:"}
    steps = [t.content for t in out.trace.turns if t.kind == "step"]
    assert steps[0].startswith("Step 1:") and steps[1].startswith("Step 2:")
    assert sent(lm, 2)[-1]["role"] == "user"  # checks are not numbered (this recipe's checks have no prefill)


def test_scratchpad_line_carries_the_steps_so_far(use_lm):
    lm, _ = run(use_lm, step_format="scratchpad")
    assert "Scratchpad" not in sent(lm, 0)[-1]["content"]  # nothing to show before the first step
    assert sent(lm, 1)[-1]["content"] == "Go on.\nScratchpad so far: 17 + 25 is 42."


@pytest.mark.parametrize("where, in_nudge, in_check", [
    ("none", False, False), ("nudges", True, False), ("checks", False, True), ("both", True, True)])
def test_reanchoring_restates_the_problem_where_asked(use_lm, where, in_nudge, in_check):
    lm, _ = run(use_lm, reanchor=where)
    nudge, check = sent(lm, 1)[-1]["content"], sent(lm, 2)[-1]["content"]
    assert (f"Recall the problem: {QUESTION}" in nudge) is in_nudge
    assert (f"Recall the problem: {QUESTION}" in check) is in_check
    assert sent(lm, 0)[-1]["content"].count(QUESTION) == 1  # the first prompt states it once


def test_demos_sit_after_the_system_prompt_worded_like_the_loop(use_lm):
    lm, out = run(use_lm, demos=[DEMO], step_format="numbered")
    messages = sent(lm, 0)
    assert messages[0]["role"] == "system"
    assert messages[1:8] == [
        {"role": "user", "content": "Problem: Calculate 6 + -2.\n\nTake the first minuscule step."},
        {"role": "assistant", "content": "Step 1: Adding -2 is subtracting 2."},
        {"role": "user", "content": "Go on."},
        {"role": "assistant", "content": "Step 2: 6 - 2 = 4."},
        {"role": "user", "content": StrawberryProgram(knobs()).check.question},
        {"role": "assistant", "content": "<final_answer>4</final_answer>"},
        {"role": "user", "content": f"Problem: {QUESTION}\n\nTake the first minuscule step."},
    ]
    # every later call shares the demo prefix (cacheable), and the trace records only the real problem's turns
    assert all(sent(lm, i)[:7] == messages[:7] for i in range(len(lm.history)))
    assert out.trace.turns[0].meta == {"demo_turns": 6, "demo_chat": messages[1:7]}  # what an export re-sends
    assert [t.kind for t in out.trace.turns[1:3]] == ["problem", "step"]


def test_checks_sample_at_their_own_temperature(use_lm):
    lm, _ = run(use_lm, temperature=0.9, check_temperature=0.1)
    temps = [h["kwargs"].get("temperature") for h in lm.history]
    assert temps == [0.9, 0.9, 0.1]
    lm, _ = run(use_lm, temperature=0.9)
    assert [h["kwargs"].get("temperature") for h in lm.history] == [0.9, 0.9, 0.9]
    lm, _ = run(use_lm, temperature=0.9, check_temperature=0.0)  # greedy checks carry no rollout id (DSPy warns)
    assert ["rollout_id" in h["kwargs"] for h in lm.history] == [True, True, False]


@pytest.mark.parametrize("knob, value, message", [
    ("step_format", "bullets", "strawberry.step_format must be one of plain, numbered, scratchpad"),
    ("reanchor", "always", "strawberry.reanchor must be one of none, nudges, checks, both"),
    ("demos", [{"question": "q", "answer": "1"}], "strawberry.demos[0] must be {question: TEXT, steps"),
])
def test_a_bad_lever_is_one_clear_line(knob, value, message):
    with pytest.raises(UserError, match=message.replace("[", r"\[").replace("{", r"\{")):
        config_from_dict({"program": "strawberry", "strawberry": {knob: value}})
