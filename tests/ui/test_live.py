"""The Playground's worker: turns stream in (each one written piece by piece), stop and continue, scoring, saving as
a run directory."""

import threading
import time

import pytest

pytest.importorskip("streamlit", reason="the UI needs the [ui] extra: pip install -e '.[ui]'")
from dspy.clients.engines.dummy_engine import DummyEngine  # noqa: E402

from strawberry_dspy.benchmarks import Problem  # noqa: E402
from strawberry_dspy.config import config_from_dict  # noqa: E402
from strawberry_dspy.errors import UserError  # noqa: E402
from strawberry_dspy.program.build import build_program  # noqa: E402
from strawberry_dspy.program_file import load_program  # noqa: E402
from strawberry_dspy.ui import live, runs  # noqa: E402
from strawberry_dspy.testing import LoopbackOpenAI, scripted_lm  # noqa: E402

KNOBS = {"check_every": 2, "verifier_every": 0, "max_turns": 20, "force_answer": False}
PROBLEM = Problem(live.TYPED_ID, "What is 17 + 25?", "42")


class _GatedEngine(DummyEngine):
    def _complete_messages(self, messages):
        self.asked.release()  # a call is in flight
        assert self.gate.acquire(timeout=10), "the test never released this LM call"
        return super()._complete_messages(messages)


def gated_lm(answers):
    """A scripted LM whose every call waits for lm.gate.release(): turns can be watched one at a time.

    lm.asked.acquire() waits until a call is in flight."""
    lm = scripted_lm(answers)
    lm._engine_spec = _GatedEngine(lm)
    lm.gate = lm._engine_spec.gate = threading.Semaphore(0)
    lm.asked = lm._engine_spec.asked = threading.Semaphore(0)
    return lm


def make_run(answers=None, program="strawberry", lm=None, **knobs) -> live.LiveRun:
    config = config_from_dict({"program": program, "strawberry": {**KNOBS, **knobs}})
    return live.LiveRun(config, build_program(config), lm or scripted_lm(answers), PROBLEM)


def wait_until(condition, seconds=10.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


def test_turns_arrive_while_the_program_runs_and_the_answer_is_scored():
    lm = gated_lm([{"step": "a"}, {"step": "b"}, {"reply": "<final_answer>42</final_answer>"}])
    run = make_run(lm=lm)
    run.start()
    lm.gate.release()  # let only the first step through
    assert wait_until(lambda: len(run.turns) == 4)  # the step, and the nudge whose reply is held back
    time.sleep(0.1)
    assert run.running and [t.kind for t in run.turns] == ["system", "problem", "step", "nudge"]
    lm.gate.release()
    lm.gate.release()
    assert run.wait(10)
    assert [t.kind for t in run.turns] == ["system", "problem", "step", "nudge", "step", "check", "final"]
    assert run.trace.final_answer == "42" and run.score.correct and run.score.extracted == "42"


def test_stop_then_continue_for_more_turns():
    lm = gated_lm([{"step": f"step {i}"} for i in range(20)])
    run = make_run(lm=lm, check_every=100)
    run.start()
    assert lm.asked.acquire(timeout=10)
    run.stop()  # asked while the first step waits: the loop ends after that turn
    lm.gate.release()
    assert run.wait(10)
    assert run.trace.stop_reason == "stopped" and run.trace.steps == 1 and run.can_continue
    for _ in range(3):
        lm.gate.release()
    run.start(more_turns=3)
    assert run.wait(10)
    assert run.trace.steps == 4 and run.trace.stop_reason == "max_turns"
    assert [t.content for t in run.turns if t.kind == "step"] == ["step 0", "step 1", "step 2", "step 3"]


@pytest.mark.parametrize("when", range(6))
def test_stop_is_honoured_after_the_turn_in_flight_wherever_it_lands(when):
    """Stop pressed while any of the first six calls is in flight: nothing is asked after that call, however many
    more calls (verifier, title, forced answer) the loop would have made; the chat continues from there."""
    replies = [{"step": f"step {i}"} if i % 3 == 0 else {"reply": "VERDICT: correct" if i % 3 == 1 else "A title"}
               for i in range(40)]
    lm = gated_lm(replies)
    run = make_run(lm=lm, check_every=100, verifier_every=1, title_every=1, force_answer=True, max_turns=20)
    run.start()
    for _ in range(when):  # let `when` calls through, then stop while the next one is held
        assert lm.asked.acquire(timeout=10)
        lm.gate.release()
        assert wait_until(lambda: len([t for t in run.turns if t.role != "user"]) >= 2 + _)
    assert lm.asked.acquire(timeout=10)
    calls_before = len([t for t in run.turns if t.role != "user"])  # the system turn + the calls answered
    run.stop()
    lm.gate.release()  # the call in flight finishes
    assert run.wait(10), "the loop asked for another call after Stop"
    answered = [t for t in run.turns if t.role != "user"]
    assert run.trace.stop_reason == "stopped" and len(answered) == calls_before + 1
    assert run.turns[-1].role != "user"  # no prompt was sent after the turn in flight


def test_single_call_programs_run_and_cannot_be_continued():
    run = make_run([{"answer": "41"}], program="zero_shot")
    run.start()
    assert run.wait(10)
    assert run.trace.final_answer == "41" and not run.score.correct and not run.can_continue
    with pytest.raises(UserError, match="only a finished or stopped strawberry program"):
        run.start(more_turns=2)


def test_a_typed_problem_is_graded_like_its_gold_answer():
    config = config_from_dict({"program": "strawberry"})
    assert live.score_answer(config, PROBLEM, "The answer is 42.", benchmark=None).correct
    assert not live.score_answer(config, PROBLEM, "43", benchmark=None).correct
    words = Problem(live.TYPED_ID, "Capital of France?", "Paris")
    assert live.score_answer(config, words, "paris", benchmark=None).correct


def test_a_random_problem_comes_from_the_benchmark_and_is_scored_by_it():
    spec = "reasoning_gym:basic_arithmetic?min_terms=2&max_terms=2&max_digits=1"
    problem = live.random_problem(spec, "test", seed=5)
    assert problem == live.random_problem(spec, "test", seed=5)
    config = config_from_dict({"program": "strawberry", "benchmark": "jsonl:elsewhere.jsonl"})  # not the recipe's
    assert live.score_answer(config, problem, problem.answer, benchmark=spec).correct
    assert not live.score_answer(config, problem, problem.answer + "1", benchmark=spec).correct
    with pytest.raises(UserError, match="unknown benchmark"):
        live.random_problem("nope", "test", 0)


def test_save_writes_a_run_directory_the_runs_page_reads(tmp_path):
    run = make_run([{"step": "a"}, {"step": "b"}, {"reply": "<final_answer>42</final_answer>"}])
    with pytest.raises(UserError, match="nothing to save yet"):
        run.save(tmp_path / "early")
    run.start()
    run.wait(10)
    out = run.save(tmp_path / "saved")
    loaded = runs.load_run(out)
    assert loaded.summary["correct"] == 1 and loaded.correct == {live.TYPED_ID: True}
    assert [t["kind"] for t in loaded.results[0]["trace"]["turns"]] == [t.kind for t in run.turns]
    with pytest.raises(UserError, match="already exists"):
        run.save(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["saved"]  # nothing half-written beside it


def test_bad_program_and_model_are_one_line_errors(tmp_path):
    with pytest.raises(UserError, match="not found|no such|does not exist"):
        load_program(str(tmp_path / "missing.yaml"), {})
    config, _ = load_program("programs/strawberry.yaml", {"model": "nosuch/model"})
    with pytest.raises(UserError, match="unknown model spec 'nosuch/model'"):
        live.make_lm(config)


STEP = "Seventeen plus twenty-five: add the tens first, 10 + 20 = 30."


def loopback_run(server: LoopbackOpenAI, **settings) -> live.LiveRun:
    config = config_from_dict({"program": "strawberry", "model": "openai/stub-model", "api_base": server.url,
                               "strawberry": {**KNOBS, "check_every": 100}, **settings})
    return live.LiveRun(config, build_program(config), live.make_lm(config), PROBLEM)


def test_a_turn_grows_while_it_is_written_and_stop_ends_the_run_after_it():
    with LoopbackOpenAI(STEP) as server:
        server.hold(3)  # the first reply stops after three words until released
        run = loopback_run(server)
        run.start()
        assert server.held.wait(10)
        assert wait_until(lambda: run.partial is not None and run.partial.text == "Seventeen plus twenty-five: ")
        assert run.partial.source == "step" and run.partial.after == len(run.turns) == 2  # system, problem
        assert run.running and [t.kind for t in run.turns] == ["system", "problem"]
        run.stop()  # pressed while the step is being written: it is finished, and nothing more is asked
        server.release()
        assert run.wait(10)
        requests = server.completions()
    assert run.trace.stop_reason == "stopped" and [t.content for t in run.turns if t.kind == "step"] == [STEP]
    assert len(requests) == 1 and requests[0].body["stream"] is True
    assert run.partial is None and run.can_continue


def test_the_turn_being_written_is_cut_at_max_reply_chars_as_the_turn_is():
    with LoopbackOpenAI(STEP) as server:
        server.hold(8)  # past the 24 characters the recipe allows
        run = loopback_run(server, max_reply_chars=24, strawberry={**KNOBS, "max_turns": 1})
        run.start()
        assert server.held.wait(10)
        assert wait_until(lambda: run.partial is not None and run.partial.text == STEP[:24])
        server.release()
        assert run.wait(10)
    assert [t.content for t in run.turns if t.kind == "step"] == [STEP[:24]]
