"""The turn loop's logic, scripted with DummyLM: nudges, checks, verifier, budgets, stop reasons."""

import pytest
from dspy.clients.engines.dummy_engine import DummyEngine

from strawberry_dspy.errors import UserError
from strawberry_dspy.knobs import StrawberrySettings
from strawberry_dspy.program import StrawberryProgram
from strawberry_dspy.testing import all_prompt_text

QUESTION = "What is 17 + 25?"
NEVER = {"no answer": {"reply": "still thinking"}}


def knobs(**overrides) -> StrawberrySettings:
    base = dict(check_every=100, verifier_every=0, max_turns=6, force_answer=False)
    return StrawberrySettings(**{**base, **overrides})


def steps_lm(use_lm, n=50, **extra):
    return use_lm([{"step": f"step {i}"} for i in range(n)], **extra)


def nudges_of(trace):
    return [t.content for t in trace.turns if t.kind == "nudge"]


def test_nudges_are_seeded_and_recorded(use_lm):
    runs = {}
    for seed in (1, 1, 2):
        steps_lm(use_lm)
        trace = StrawberryProgram(knobs())(question=QUESTION, seed=seed).trace
        runs.setdefault(seed, []).append(trace)
    first, again = runs[1]
    assert nudges_of(first) == nudges_of(again)
    assert nudges_of(first) != nudges_of(runs[2][0])
    nudge_turns = [t for t in first.turns if t.kind == "nudge"]
    assert len(nudge_turns) == 5  # 6 steps, a nudge before each but the first
    defaults = StrawberrySettings().nudges
    assert all(defaults[t.meta["nudge"]] == t.content for t in nudge_turns)


def test_nudge_probability_zero_always_continues(use_lm):
    steps_lm(use_lm)
    trace = StrawberryProgram(knobs(nudge_probability=0.0, continue_prompt="Go on."))(question=QUESTION).trace
    assert set(nudges_of(trace)) == {"Go on."}
    assert all(t.meta["nudge"] is None for t in trace.turns if t.kind == "nudge")


def test_confidence_check_cadence_and_final_answer_ends_trace(use_lm):
    script = [{"step": "a"}, {"step": "b"}, {"reply": "not yet"}, {"step": "c"}, {"step": "d"},
              {"reply": "<final_answer>42</final_answer>"}, {"step": "never reached"}]
    lm = use_lm(script)
    out = StrawberryProgram(knobs(check_every=2, max_turns=20))(question=QUESTION)
    kinds = [t.kind for t in out.trace.turns if t.role != "system"]
    assert kinds == ["problem", "step", "nudge", "step", "check", "check", "nudge", "step", "nudge", "step",
                     "check", "final"]
    assert out.answer == "42" and out.trace.stop_reason == "final_answer" and out.trace.answer_status == "ok"
    assert len(lm.history) == 6
    check_prompts = [h["messages"][-1]["content"] for h in lm.history if "final_answer" in h["messages"][-1]["content"]]
    assert len(check_prompts) == 2


def test_early_answer_in_a_step_ends_trace_only_when_accepted(use_lm):
    use_lm([{"step": "easy: <final_answer>42</final_answer>"}] + [{"step": "x"}] * 10)
    out = StrawberryProgram(knobs())(question=QUESTION)
    assert (out.answer, out.trace.stop_reason, out.trace.steps) == ("42", "final_answer", 0)
    use_lm([{"step": "easy: <final_answer>42</final_answer>"}] + [{"step": "x"}] * 10)
    out = StrawberryProgram(knobs(accept_early_answer=False))(question=QUESTION)
    assert out.answer is None and out.trace.stop_reason == "max_turns"


def test_malformed_and_multiple_answers_are_data(use_lm):
    use_lm([{"step": "a"}, {"reply": "<final_answer>   </final_answer>"}, {"step": "b"},
            {"reply": "<final_answer>1</final_answer> or <final_answer>2</final_answer>"}])
    out = StrawberryProgram(knobs(check_every=1, max_turns=10))(question=QUESTION)
    checks = [t for t in out.trace.turns if t.role == "assistant" and t.kind in ("check", "final")]
    assert [t.meta["answer_status"] for t in checks] == ["empty", "multiple"]
    assert out.answer == "2" and out.trace.answer_status == "multiple"


def test_empty_reply_is_recorded_not_raised(use_lm):
    use_lm([{"step": ""}, {"step": "b"}] + [{"step": "c"}] * 10)
    out = StrawberryProgram(knobs(max_turns=3))(question=QUESTION)
    first_step = next(t for t in out.trace.turns if t.kind == "step")
    assert first_step.content == "" and first_step.meta["parse_error"]
    assert out.trace.stop_reason == "max_turns" and out.trace.error is None


def test_max_turns_budget_and_forced_answer(use_lm):
    lm = use_lm([{"step": f"s{i}"} for i in range(4)] + [{"reply": "<final_answer>41</final_answer>"}])
    out = StrawberryProgram(knobs(max_turns=4, force_answer=True))(question=QUESTION)
    assert out.trace.stop_reason == "max_turns" and out.trace.steps == 4
    assert out.answer == "41" and out.trace.turns[-1].meta["forced"] is True
    assert len(lm.history) == 5


def test_max_tokens_budget(use_lm):
    use_lm([{"step": "one two three four five"}] * 20, count_tokens=True)
    out = StrawberryProgram(knobs(max_turns=50, max_tokens=12))(question=QUESTION)
    assert out.trace.stop_reason == "max_tokens"
    assert out.trace.steps == 3 and out.trace.total("completion_tokens") == 15


def test_verifier_sees_window_and_feedback_is_fed_back(use_lm):
    script = [{"step": f"step {i}"} for i in range(1, 4)] + [{"critique": "Step 3 is wrong. VERDICT: incorrect"}] + \
             [{"step": "step 4"}] * 3
    lm = use_lm(script)
    out = StrawberryProgram(knobs(verifier_every=3, verifier_window=2, max_turns=4))(question=QUESTION)
    verify = next(t for t in out.trace.turns if t.kind == "verify")
    assert verify.meta == {"verdict": "incorrect", "step": 3, "window": 2}
    verifier_call = lm.history[3]["messages"]
    assert "step 2" in verifier_call[-1]["content"] and "step 3" in verifier_call[-1]["content"]
    assert "step 1" not in verifier_call[-1]["content"]
    assert "Step 3 is wrong" in lm.history[4]["messages"][-1]["content"]


def test_chat_keeps_a_stable_prefix(use_lm):
    lm = steps_lm(use_lm)
    StrawberryProgram(knobs(max_turns=5, title_every=2))(question=QUESTION)
    main_calls = [h["messages"] for h in lm.history]
    for earlier, later in zip(main_calls, main_calls[1:]):
        assert later[: len(earlier) - 1] == earlier[:-1]  # everything but the last user turn is kept verbatim
    assert all(m[0] == main_calls[0][0] for m in main_calls)


def test_titles_recorded_but_not_added_to_chat(use_lm):
    lm = use_lm([{"step": "a"}, {"step": "b"}, {"title": "Adding the tens"}, {"step": "c"}, {"step": "d"}])
    out = StrawberryProgram(knobs(max_turns=3, title_every=2))(question=QUESTION)
    titles = [t for t in out.trace.turns if t.kind == "title"]
    assert [t.content for t in titles] == ["Adding the tens"]
    assert "Adding the tens" not in str(lm.history[-1]["messages"])


def test_provider_failure_ends_trace_with_error(use_lm):
    lm = steps_lm(use_lm)

    class Unreachable(DummyEngine):
        def _complete_messages(self, messages):
            raise ConnectionError("server went away")

    lm._engine_spec = Unreachable(lm)
    out = StrawberryProgram(knobs())(question=QUESTION)
    assert out.trace.stop_reason == "error" and "server went away" in out.trace.error and out.answer is None


@pytest.mark.parametrize("field, value", [("check_every", 0), ("nudge_probability", 1.5), ("max_turns", 0)])
def test_knob_validation(field, value):
    with pytest.raises(UserError, match=field):
        StrawberrySettings(**{field: value}).validate()


def test_forced_answer_is_prefilled(use_lm):
    lm = use_lm([{"step": "s"}] * 2 + [{"reply": "41</final_answer>"}])
    out = StrawberryProgram(knobs(max_turns=2, force_answer=True))(question=QUESTION)
    assert lm.history[-1]["messages"][-1] == {"role": "assistant", "content": "<final_answer>"}
    assert out.answer == "41" and out.trace.turns[-1].content == "<final_answer>41</final_answer>"


def test_step_stop_sequences_reach_the_lm(use_lm):
    lm = steps_lm(use_lm)
    StrawberryProgram(knobs(max_turns=1, step_stop=["\n\n", "Step"]))(question=QUESTION)
    assert lm.history[0]["kwargs"]["stop"] == ["\n\n", "Step"]


def test_on_turn_sees_every_turn_as_it_is_recorded(use_lm):
    use_lm([{"step": "a"}, {"step": "b"}, {"reply": "<final_answer>42</final_answer>"}])
    seen = []
    program = StrawberryProgram(knobs(check_every=2, max_turns=10))
    out = program(question=QUESTION, seed=3, on_turn=seen.append)
    assert len(seen) == len(out.trace.turns) and all(a is b for a, b in zip(seen, out.trace.turns))
    use_lm([{"step": "a"}, {"step": "b"}, {"reply": "<final_answer>42</final_answer>"}])
    plain = program(question=QUESTION, seed=3)  # without the hook the program behaves exactly the same
    assert plain.trace.to_dict() | {"turns": None} == out.trace.to_dict() | {"turns": None}
    assert [(t.kind, t.content) for t in plain.trace.turns] == [(t.kind, t.content) for t in seen]


def test_session_stops_between_turns_then_continues_the_same_chat(use_lm):
    lm = steps_lm(use_lm)
    program = StrawberryProgram(knobs(max_turns=50, force_answer=True))
    session = program.session(QUESTION, seed=1, on_turn=lambda t: session.stop() if t.content == "step 1" else None)
    out = session.run()
    assert out.trace.stop_reason == "stopped" and out.trace.steps == 2  # stopped after the turn in progress
    assert len(lm.history) == 2  # and no forced answer was asked for
    session.on_turn = None
    session.extend(3)
    out = session.run()
    assert out.trace.stop_reason == "max_turns" and out.trace.steps == 5
    assert len(lm.history) == 6  # three more steps, then the forced answer
    continued = lm.history[2]["messages"]
    assert [m["content"] for m in continued[:5]] == [m["content"] for m in lm.history[1]["messages"]] + ["step 1"]
    kinds = [t.kind for t in out.trace.turns if t.role == "user"]
    assert kinds == ["problem", "nudge", "nudge", "nudge", "nudge", "check"]


def test_continue_after_a_final_answer_nudges_again(use_lm):
    use_lm([{"step": "easy: <final_answer>41</final_answer>"}, {"step": "no, <final_answer>42</final_answer>"}])
    session = StrawberryProgram(knobs()).session(QUESTION)
    assert session.run().answer == "41"
    session.extend(2)
    out = session.run()
    assert out.answer == "42" and out.trace.stop_reason == "final_answer"
    assert [t.kind for t in out.trace.turns if t.role == "user"] == ["problem", "nudge"]
