"""The pages, run by Streamlit's AppTest: what each shows, a harvest followed while it grows, the Playground's flow."""

import json
from pathlib import Path
import time

import pytest

pytest.importorskip("streamlit", reason="the UI needs the [ui] extra: pip install -e '.[ui]'")
from streamlit.testing.v1 import AppTest  # noqa: E402

from strawberry_dspy.benchmarks import load_benchmark  # noqa: E402
from strawberry_dspy.store import TraceStore  # noqa: E402
from strawberry_dspy.ui import dirs, live  # noqa: E402
from tests.conftest import scripted_lm  # noqa: E402
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
    assert sum("✓ correct" in c.value for c in at.caption) == 2  # the first problem's trace, in both runs
    at.multiselect[0].set_value([str(a), str(tmp_path / "missing")]).run()
    assert at.error[0].value.startswith("error: ") and "is not a readable run directory" in at.error[0].value
    assert str(b) not in at.multiselect[0].value


def test_playground_streams_scores_and_saves(tmp_path, monkeypatch):
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
    for _ in range(50):
        if not at.session_state["live"].running:
            break
        time.sleep(0.1)
    at.run()
    assert not at.exception and not at.error
    assert "17 plus 25" in [t.value for t in at.text]
    assert at.success[0].value == "✓ correct: final answer '42', gold '42'"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["steps"] == "2" and metrics["turns"] == "7"
    assert any(c.value.startswith("stop reason: final_answer") for c in at.caption)
    out = tmp_path / "saved"
    at.text_input(key="save_dir").input(str(out)).run()
    at.button(key="save").click().run()
    assert at.success[1].value == f"saved: {out}" and (out / "results.jsonl").is_file()
    at.button(key="save").click().run()
    assert at.error[0].value == f"error: {out} already exists: choose a new directory to save the trace into"


def test_playground_shows_the_clis_one_line_errors(monkeypatch):
    at = AppTest.from_function(playground_page, default_timeout=60).run()
    at.text_area(key="question").input("What is 1 + 1?")
    at.text_input(key="model").input("nosuch/model")
    at.run()
    at.button(key="run").click().run()
    assert at.error[0].value.startswith("error: unknown model spec 'nosuch/model'")
    at.text_input(key="model").input("")
    at.text_area(key="overrides").input("--strawberry.max_turns=zero")
    at.run()
    at.button(key="run").click().run()
    assert at.error[0].value.startswith("error: ") and "max_turns" in at.error[0].value
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


def test_playground_offers_the_packaged_recipes_wherever_it_is_started(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no programs/ folder here
    (tmp_path / "programs").mkdir()
    (tmp_path / "programs" / "mine.yaml").write_text("program: cot\n")  # a user's own recipe is offered too
    at = AppTest.from_function(playground_page, default_timeout=60).run()
    assert at.selectbox(key="program").value == "strawberry"
    assert at.selectbox(key="program").options == ["cot", "strawberry", "strawberry_full", "zero_shot",
                                                     "programs/mine.yaml"]
    at.text_area(key="question").input("What is 1 + 1?").run()
    assert not at.button(key="run").disabled
