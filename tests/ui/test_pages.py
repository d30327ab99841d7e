"""The pages, run by Streamlit's AppTest: what each shows, a harvest followed while it grows, the Playground's flow."""

import json
import re
import time
from pathlib import Path

import pytest

pytest.importorskip("streamlit", reason="the UI needs the [ui] extra: pip install -e '.[ui]'")
from streamlit.testing.v1 import AppTest  # noqa: E402

from strawberry_dspy.benchmarks import load_benchmark  # noqa: E402
from strawberry_dspy.harvest.following import PROGRESS_META  # noqa: E402
from strawberry_dspy.harvest.harvest_dir import lock_dir  # noqa: E402
from strawberry_dspy.store import TraceStore  # noqa: E402
from strawberry_dspy.ui import dirs, live  # noqa: E402
from strawberry_dspy.testing import scripted_lm  # noqa: E402
from tests.ui.stores import make_harvest, make_run  # noqa: E402

APP = Path(__file__).resolve().parents[2] / "strawberry_dspy" / "ui" / "app.py"


def harvest_page():
    from strawberry_dspy.ui import harvest

    harvest.render()


def runs_page():
    from strawberry_dspy.ui import runs

    runs.render()


def playground_page():
    from strawberry_dspy.ui import playground

    playground.render()


def walk(node):
    """The page's elements in the order they are drawn (depth first)."""
    yield node
    for child in getattr(node, "children", {}).values():
        yield from walk(child)


def frame_text(at) -> str:
    return "\n".join(json.dumps(df.value.astype(str).values.tolist()) for df in at.dataframe)


@pytest.fixture
def harvest_dir(tmp_path, monkeypatch):
    out = make_harvest(tmp_path)
    monkeypatch.setenv(dirs.ENV, str(out))
    return out


def test_harvest_page_shows_problems_traces_and_pairs(harvest_dir):
    at = AppTest.from_function(harvest_page, default_timeout=60).run()
    assert not at.exception
    assert [m.value for m in at.metric][:4] == ["4", "16", "38%", "3"]  # problems, traces, pass rate, in band
    table = at.dataframe[0].value
    assert list(table["pass rate"]) == [0.0, 0.25, 0.5, 0.75] and list(table["in band"]) == [False, True, True, True]
    assert at.selectbox(key="problem").value == table["problem"][1]  # the first problem with both outcomes
    expanders = [e.label for e in at.expander]
    assert sum("answer '15'" in label for label in expanders) == 1 and sum("answer '151'" in label for label in expanders) == 3
    assert "<final_answer>15</final_answer>" in [t.value for t in at.text]
    pairs = at.dataframe[1].value
    assert list(pairs.columns) == ["chosen sample", "rejected sample", "chosen steps", "rejected steps", "weight"]
    assert len(pairs) == 1
    pair = next(e for e in at.expander if e.label.startswith("pair 1 · weight "))
    assert f"weight {pairs['weight'][0]:.3f}" in pair.label and "vs rejected sample" in pair.label
    chosen, rejected = [t.value for t in pair.text]
    assert chosen.endswith("<final_answer>15</final_answer>") and rejected.endswith("<final_answer>151</final_answer>")
    at.segmented_control(key="band_filter").set_value("outside").run()
    assert list(at.dataframe[0].value["pass rate"]) == [0.0]
    at.segmented_control(key="band_filter").set_value("all").run()
    at.segmented_control(key="correct_filter").set_value("never solved").run()
    assert list(at.dataframe[0].value["correct"]) == [0]


def test_harvest_page_follows_a_growing_harvest(tmp_path, monkeypatch):
    out = make_harvest(tmp_path, problems=2, samples=1)
    monkeypatch.setenv(dirs.ENV, str(out))
    at = AppTest.from_function(harvest_page, default_timeout=60).run()
    assert at.metric[1].value == "2"
    with TraceStore.open(out, readonly=False) as writer:  # the harvest goes on: one more sample lands
        row = {**vars(next(writer.traces())), "sample": 1}
        row.pop("id")
        writer.write_trace(row, [])
        at.run()  # what the page's timed refresh does
        assert at.metric[1].value == "3"
    assert not list(out.glob("*-wal")) and not list(out.glob("*-shm"))


def test_harvest_page_says_running_finished_or_stopped_with_done_total_rate_eta(tmp_path, monkeypatch):
    out = make_harvest(tmp_path, problems=2, samples=2)
    monkeypatch.setenv(dirs.ENV, str(out))
    at = AppTest.from_function(harvest_page, default_timeout=60).run()
    line = unescaped(at.success[0].value)
    assert line.startswith("finished · 4 / 4 samples this run · in ") and "0 failed · 0 x 429, 0 retries" in line
    lock = lock_dir(out)  # a harvest process writing the directory holds its lock
    try:
        record = {"state": "running", "done": 10, "total": 40, "planned": 40, "stored": 9, "failed": 1,
                  "stopped_early": 1, "rate_limited": 7, "retries": 9, "throttle": "rate limited: 2 of 8 calls in flight",
                  "elapsed_s": 5.0, "started_at": time.time() - 5, "updated_at": time.time()}
        with TraceStore.open(out, readonly=False) as writer:
            writer.set_meta({PROGRESS_META: json.dumps(record)})
        at.run()
        line = unescaped(at.info[0].value)
        assert line.startswith("running · 10 / 40 samples this run · ") and " traces/s · ETA " in line
        assert "1 failed · 7 x 429, 9 retries · rate limited: 2 of 8 calls in flight" in line
        assert at.progress[0].value == 25
    finally:
        lock.close()
    at.run()  # the process died without writing "finished": nobody holds the lock
    assert unescaped(at.warning[0].value).startswith("stopped · 10 / 40 samples this run")
    assert "rerun the same command to resume" in unescaped(at.warning[0].value)


def test_harvest_page_stats_tab_and_a_broken_store(harvest_dir, monkeypatch):
    at = AppTest.from_function(harvest_page, default_timeout=60).run()
    assert "no verdicts" not in " ".join(c.value for c in at.caption)  # computed only when asked for
    at.toggle(key="show_stats").set_value(True).run()
    captions = " ".join(c.value for c in at.caption)
    assert "no verdicts (the verifier was off" in captions
    assert "final_answer" in frame_text(at)  # the stop-reason table
    (harvest_dir / "traces.sqlite").write_text("not a database")
    at.run()
    assert at.error[0].value.startswith("error: ") and "is corrupt or not a harvest store" in at.error[0].value
    assert len(at.error[0].value.splitlines()) == 1
    monkeypatch.setenv(dirs.ENV, "")
    at = AppTest.from_function(harvest_page, default_timeout=60).run()
    assert "No harvest chosen" in at.info[0].value


def test_runs_page_accuracy_intervals_and_agreement(tmp_path, monkeypatch):
    problems_file = tmp_path / "problems.jsonl"
    make_harvest(tmp_path)  # writes problems.jsonl
    gold = [p.answer for p in load_benchmark(f"jsonl:{problems_file}").problems("train", 4)]
    a = make_run(tmp_path, "run_a", gold[:2] + ["0", "0"], problems_file)
    b = make_run(tmp_path, "run_b", [gold[0], "0", gold[2], "0"], problems_file)
    monkeypatch.setenv(dirs.ENV, str(tmp_path))
    at = AppTest.from_function(runs_page, default_timeout=60).run()
    assert not at.exception
    accuracy = at.dataframe[0].value
    assert list(accuracy["run"]) == ["run_a", "run_b"] and list(accuracy["correct"]) == [2, 2]
    assert accuracy["low"][0] == pytest.approx(0.150, abs=1e-3) and accuracy["high"][0] == pytest.approx(0.850, abs=1e-3)
    diff = at.dataframe[1].value.iloc[0]  # run_b minus run_a: one problem gained, one lost, on 4 shared
    assert (diff["shared problems"], diff["difference"], diff["better / worse"]) == (4, 0.0, "1 / 1")
    assert diff["p"] == 1.0 and diff["low"] < 0 < diff["high"]
    pair = at.dataframe[2].value.iloc[0]
    assert (pair["both right"], pair["only A"], pair["only B"], pair["both wrong"]) == (1, 1, 1, 1)
    grid = at.dataframe[3].value
    assert list(grid["run_a"]) == ["✓", "✓", "✗", "✗"] and list(grid["run_b"]) == ["✓", "✗", "✓", "✗"]
    questions = [p.question for p in load_benchmark(f"jsonl:{problems_file}").problems("train", 4)]
    assert list(grid.index) == questions and grid.index.name == "question"  # keyed by the question, not a hash
    assert at.selectbox[0].options == questions  # the values stay ids; the choices read as questions
    assert sum("✓ correct" in c.value for c in at.caption) == 2  # the first problem's trace, in both runs
    at.multiselect[0].set_value([str(a), str(tmp_path / "missing")]).run()
    assert at.error[0].value.startswith("error: ") and "is not a readable run directory" in at.error[0].value
    assert str(b) not in at.multiselect[0].value


def unescaped(text: str) -> str:
    """A markdown element's text as the page shows it (widgets.plain escapes markdown characters)."""
    return re.sub(r"\\(.)", r"\1", text)


def test_playground_streams_scores_and_saves(tmp_path, monkeypatch):
    monkeypatch.setenv(dirs.ENV, str(tmp_path))  # the folder the UI was started on: Save writes only there
    monkeypatch.setattr(live, "make_lm", lambda config: scripted_lm(
        [{"step": "17 plus 25"}, {"step": "is 42"}, {"reply": "<final_answer>42</final_answer>"}]))
    at = AppTest.from_function(playground_page, default_timeout=60).run()
    assert at.button(key="run").disabled  # no problem yet
    at.text_area(key="question").input("What is 17 + 25?")
    at.text_input(key="gold").input("42")
    # the loop's plain format, a check after 2 steps: what the scripted replies are written for
    at.text_area(key="overrides").input("--strawberry.verifier_every=0\n--strawberry.check_every=2\n"
                                        "--strawberry.step_format=plain")
    at.run()
    at.button(key="run").click().run()
    assert at.session_state["live"].wait(60)  # the run's own event, not a sleep long enough
    at.run()
    assert not at.exception and not at.error
    assert "17 plus 25" in [t.value for t in at.text]
    assert at.success[0].value == "✓ correct: final answer '42', gold '42'"
    order = [node.type for node in walk(at.main)]
    assert order.index("success") < order.index("chat_message")  # the verdict above the chat, not below it
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["steps"] == "2" and metrics["turns"] == "7"
    assert any(c.value.startswith("stop reason: final_answer") for c in at.caption)
    out = tmp_path / "saved"
    at.text_input(key="save_dir").input(str(out)).run()
    at.button(key="save").click().run()
    assert unescaped(at.success[1].value) == f"saved: {out}" and (out / "results.jsonl").is_file()
    at.button(key="save").click().run()
    assert unescaped(at.error[0].value) == f"error: {out} already exists: choose a new directory to save the trace into"


def test_playground_shows_the_clis_one_line_errors(monkeypatch):
    at = AppTest.from_function(playground_page, default_timeout=60).run()
    at.text_area(key="question").input("What is 1 + 1?")
    at.text_input(key="model").input("nosuch/model")
    at.run()
    at.button(key="run").click().run()
    assert unescaped(at.error[0].value).startswith("error: unknown model spec 'nosuch/model'")
    at.text_input(key="model").input("")
    at.text_area(key="overrides").input("--strawberry.max_turns=zero")
    at.run()
    at.button(key="run").click().run()
    assert at.error[0].value.startswith("error: ") and "max_turns" in unescaped(at.error[0].value)
    assert len(at.error[0].value.splitlines()) == 1 and "live" not in at.session_state


def test_app_opens_on_the_page_its_directories_call_for(harvest_dir, monkeypatch):
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception and at.title[0].value == "Harvest browser"
    monkeypatch.setenv(dirs.ENV, "")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert at.title[0].value == "Playground"


def test_playground_stop_then_continue(monkeypatch):
    from tests.ui.test_live import gated_lm

    lm = gated_lm([{"step": f"step {i}"} for i in range(20)])
    monkeypatch.setattr(live, "make_lm", lambda config: lm)
    at = AppTest.from_function(playground_page, default_timeout=60).run()
    at.text_area(key="question").input("What is 17 + 25?")
    at.text_area(key="overrides").input("--strawberry.check_every=100\n--strawberry.force_answer=false\n"
                                        "--strawberry.step_format=plain")
    at.run()
    at.button(key="run").click().run()
    assert not at.button(key="stop").disabled and at.button(key="continue").disabled
    at.button(key="stop").click().run()  # asked while the first step waits for the model
    lm.gate.release()
    assert at.session_state["live"].wait(10)
    at.run()
    assert any(c.value.startswith("stop reason: stopped") for c in at.caption)
    assert [t.value for t in at.text].count("step 0") == 1
    at.number_input(key="more_turns").set_value(2).run()
    lm.gate.release()
    lm.gate.release()
    at.button(key="continue").click().run()
    assert at.session_state["live"].wait(10)
    at.run()
    assert any(c.value.startswith("stop reason: max_turns") for c in at.caption)
    assert [t.value for t in at.text if t.value.startswith("step ")] == ["step 0", "step 1", "step 2"]


def test_harvest_page_flags_and_unflags_a_trace_and_a_problem(harvest_dir):
    at = AppTest.from_function(harvest_page, default_timeout=60).run()
    with TraceStore.open(harvest_dir) as store:
        problem = at.selectbox(key="problem").value
        first = next(row for row in store.traces(problem) if row.correct)
    at.text_input(key=f"note_trace_{first.id}").set_value("right answer, wrong steps")
    at.button(key=f"flag_trace_{first.id}").click().run()
    assert not at.exception
    with TraceStore.open(harvest_dir) as store:
        assert [(f.trace_id, f.note) for f in store.flags()] == [(first.id, "right answer, wrong steps")]
    assert any(label.endswith(f"trace {first.id} · flagged") for label in (e.label for e in at.expander))
    assert any("right answer, wrong steps (left out of exports)" in t.value for t in at.text)
    assert "1 traces" in list(at.dataframe[0].value["flagged"])
    assert at.dataframe[1].value.empty if len(at.dataframe) > 1 else True  # its only correct trace: no pair left
    at.button(key=f"unflag_trace_{first.id}").click().run()
    at.button(key=f"flag_problem_{problem}").click().run()
    with TraceStore.open(harvest_dir) as store:
        assert [(f.problem_id, f.trace_id) for f in store.flags()] == [(problem, None)]
    assert "problem" in list(at.dataframe[0].value["flagged"])
    at.button(key=f"unflag_problem_{problem}").click().run()
    with TraceStore.open(harvest_dir) as store:
        assert store.flags() == []


def titled_trace_page():
    from strawberry_dspy.program.trace import Turn
    from strawberry_dspy.ui.widgets import show_turns

    show_turns([Turn("system", "system", "Be brief."), Turn("user", "problem", "What is 17 + 25?"),
                Turn("assistant", "step", "7 plus 5 is 12", meta={"step": 1}),
                Turn("user", "nudge", "Go on.", meta={"nudge": None}),
                Turn("assistant", "step", "carry the 1", meta={"step": 2}),
                Turn("assistant", "title", "Adding the *units* [link](http://x)", meta={"step": 2}),
                Turn("user", "nudge", "Go on.", meta={"nudge": None}),
                Turn("assistant", "step", "1 plus 2 plus 1 is 4", meta={"step": 3})])


def test_steps_fold_under_their_titles_and_a_title_stays_text():
    at = AppTest.from_function(titled_trace_page, default_timeout=60).run()
    assert not at.exception
    folded = next(e for e in at.expander if "units" in e.label)
    assert folded.label == r"Adding the \*units\* \[link\]\(http\://x\) · steps 1–2"  # markup stays text
    assert [t.value for t in folded.text] == ["7 plus 5 is 12", "Go on.", "carry the 1"]
    inside = {id(node) for node in walk(folded)}
    outside = [node.value for node in at.text if id(node) not in inside and node.value != "Be brief."]
    assert outside == ["What is 17 + 25?", "Go on.", "1 plus 2 plus 1 is 4"]  # the steps no title names yet stay open


def test_playground_offers_the_packaged_recipes_wherever_it_is_started(tmp_path, monkeypatch):
    from strawberry_dspy.recipes import recipe_names

    monkeypatch.chdir(tmp_path)  # no programs/ folder here
    (tmp_path / "programs").mkdir()
    (tmp_path / "programs" / "mine.yaml").write_text("program: cot\n")  # a user's own recipe is offered too
    at = AppTest.from_function(playground_page, default_timeout=60).run()
    assert at.selectbox(key="program").value == "strawberry"
    assert at.selectbox(key="program").options == [*recipe_names(train=False), "programs/mine.yaml"]
    assert {"cot", "strawberry", "strawberry_full", "zero_shot"} <= set(recipe_names(train=False))
    at.text_area(key="question").input("What is 1 + 1?").run()
    assert not at.button(key="run").disabled
