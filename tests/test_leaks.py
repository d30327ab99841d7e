"""No answer leaks, end to end with a scripted model: a bootstrapped program's demo problems are never harvested,
run or exported as if unseen, whether compile recorded them or only the demos themselves show them."""

import json

import pytest

from strawberry_dspy.admission import Admission
from strawberry_dspy.benchmarks import Problem, load_benchmark, question_hash
from strawberry_dspy.compile import CompileSettings, compile_program
from strawberry_dspy.export import ExportSettings, export
from strawberry_dspy.harvest import harvest
from strawberry_dspy.leaks import DemoLeaks
from strawberry_dspy.program_file import load_program_file
from strawberry_dspy.run import run
from strawberry_dspy.store import TraceStore
from tests.compile.helpers import RECIPE, right_after_three_steps, rule_lm, write_recipe, write_sums

TRAIN = {"split": "train", "limit": 8}


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """A program compiled with BootstrapFewShot: its demos are solved train problems."""
    tmp = tmp_path_factory.mktemp("leaks")
    spec = write_sums(tmp / "sums.jsonl")
    path, config = write_recipe(tmp, spec, strawberry={**RECIPE["strawberry"], "check_every": 3})
    options = CompileSettings(optimizer="bootstrap", budget=4, dev_limit=2, test_limit=1, train_limit=4,
                              out=tmp / "compiled")
    compiled_path, meta = compile_program(path, config, options, task_lm=rule_lm(right_after_three_steps),
                                          progress=False)
    return compiled_path, meta, spec


def train_problems(spec):
    return load_benchmark(spec).problems("train", TRAIN["limit"])


def test_compile_records_the_problems_its_demos_came_from(compiled):
    path, meta, spec = compiled
    train_ids = {p.id: p for p in train_problems(spec)}
    record = meta["demo_problems"]
    assert record and {r["id"] for r in record} <= set(train_ids)
    assert all(r["qhash"] == question_hash(train_ids[r["id"]].question) for r in record)
    state = json.loads(path.read_text())
    demo_prompts = " ".join(d["prompt"] for d in state["step.predict"]["demos"])
    assert all(train_ids[r["id"]].question in demo_prompts for r in record)
    assert state["strawberry"]["demo_problems"] == record


@pytest.fixture
def scripted_run_lm(monkeypatch):
    """`run` builds its LM from the config: make it the scripted one, not the embedded model."""
    # run builds it through the executor (`Executor.driver_lm` -> `strawberry_dspy.models.lm_for`)
    monkeypatch.setattr("strawberry_dspy.models.lm_for", lambda config: rule_lm(right_after_three_steps))


def test_harvest_and_run_leave_the_demo_problems_out_and_say_how_many(compiled, tmp_path, scripted_run_lm):
    path, meta, spec = compiled
    demo_ids = {r["id"] for r in meta["demo_problems"]}
    config, program = load_program_file(path, TRAIN)
    summary = harvest(config, tmp_path / "h", samples=1, program=program, lm=rule_lm(right_after_three_steps),
                      progress=False)
    with TraceStore.open(tmp_path / "h") as store:
        harvested = {p.id for p in store.problems()}
        assert {r.problem_id for r in store.traces()} == harvested
        assert json.loads(store.meta()["demo_leak_qhashes"]) == sorted(r["qhash"] for r in meta["demo_problems"])
    assert harvested and not harvested & demo_ids
    assert harvested | demo_ids == {p.id for p in train_problems(spec)}
    assert summary.left_out == {"too_long": 0, "demo_leaks": len(demo_ids)} and summary.problems == len(harvested)

    config, program = load_program_file(path, TRAIN)
    _, run_summary, results = run(config, tmp_path / "run", program, progress=False)
    assert {r.problem_id for r in results} == harvested
    assert run_summary["left_out"]["demo_leaks"] == len(demo_ids)
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["left_out"]["demo_leaks"] == len(demo_ids)


def test_a_program_compiled_before_the_record_is_caught_by_its_demos(compiled, tmp_path, scripted_run_lm):
    path, meta, spec = compiled
    state = json.loads(path.read_text())
    del state["strawberry"]["demo_problems"]
    old = tmp_path / "old.json"
    old.write_text(json.dumps(state))
    config, program = load_program_file(old, TRAIN)
    found = {p.id for p in train_problems(spec) if DemoLeaks.of(program).leaked(p)}
    assert found == {r["id"] for r in meta["demo_problems"]}
    _, summary, results = run(config, tmp_path / "run", program, progress=False)
    assert summary["left_out"]["demo_leaks"] == len(found) and not {r.problem_id for r in results} & found


def test_export_removes_demo_problems_an_older_harvest_sampled(compiled, tmp_path, monkeypatch):
    path, meta, spec = compiled
    demo_ids = {r["id"] for r in meta["demo_problems"]}
    lm = rule_lm(right_after_three_steps)
    with monkeypatch.context() as patch:  # strawberry before this change: nothing was left out
        patch.setattr("strawberry_dspy.harvest.harvester.admit", lambda problems, *_: Admission(list(problems)))
        config, program = load_program_file(path, TRAIN)
        harvest(config, tmp_path / "h", samples=1, program=program, lm=lm, progress=False)
    with TraceStore.open(tmp_path / "h") as store:
        assert demo_ids <= {p.id for p in store.problems()}  # the leak, as an older harvest stored it
    config, program = load_program_file(path, TRAIN)
    again = harvest(config, tmp_path / "h", samples=1, program=program, lm=lm, progress=False)  # a rerun records them
    assert again.new == 0 and again.left_out["demo_leaks"] == len(demo_ids)
    report = export(tmp_path / "h", ExportSettings(format="sft", band=(0.0, 1.0)), tmp_path / "sft")
    assert report.counts["decontaminated"]["demo"] == len(demo_ids)
    rows = [json.loads(line) for line in (tmp_path / "sft" / "train.jsonl").read_text().splitlines()]
    assert rows and not {row["problem_id"] for row in rows} & demo_ids
    assert '"demo": %d' % len(demo_ids) in (tmp_path / "sft" / "README.md").read_text()


def test_a_distinctive_gold_answer_in_a_demo_is_a_leak_and_a_short_one_is_not():
    leaks = DemoLeaks(texts=["problem: what is 3 + 45? the proof uses the pigeonhole principle on 12 boxes"],
                      qhashes=set(), ids=set())
    assert leaks.leaked(Problem("a", "Another question?", "The pigeonhole principle on 12 boxes."))
    assert not leaks.leaked(Problem("b", "Another question?", "12"))  # a short answer is in any text by chance
    assert leaks.leaked(Problem("c", "What is 3 + 45?", "48"))
    assert not leaks.leaked(Problem("d", "What is 3 + 4?", "7"))  # whole words: not a prefix of another question


def test_export_demos_flag_removes_leaks_a_store_never_recorded(compiled, tmp_path, monkeypatch, capsys):
    """`strawberry export --demos compiled.json`: a store harvested before leaks were recorded (and never harvested
    again) loses the demo problems at export, counted under demo; without the flag they would be kept."""
    from strawberry_dspy.cli import main

    path, meta, spec = compiled
    demo_ids = {r["id"] for r in meta["demo_problems"]}
    with monkeypatch.context() as patch:  # strawberry before leaks were recorded: nothing left out, nothing noted
        patch.setattr("strawberry_dspy.harvest.harvester.admit", lambda problems, *_: Admission(list(problems)))
        patch.setattr("strawberry_dspy.harvest.harvester.record_demo_leaks", lambda *_: None)
        config, program = load_program_file(path, TRAIN)
        harvest(config, tmp_path / "h", samples=1, program=program, lm=rule_lm(right_after_three_steps), progress=False)
    plain = export(tmp_path / "h", ExportSettings(format="sft", band=(0.0, 1.0)), tmp_path / "plain")
    assert plain.counts["decontaminated"]["demo"] == 0
    assert main(["export", str(tmp_path / "h"), "--format", "sft", "--band", "0", "1", "--demos", str(path),
                 "--out", str(tmp_path / "sft")]) == 0
    rows = [json.loads(line) for line in (tmp_path / "sft" / "train.jsonl").read_text().splitlines()]
    assert rows and not {row["problem_id"] for row in rows} & demo_ids
    assert '"demo": %d' % len(demo_ids) in (tmp_path / "sft" / "README.md").read_text()
    assert main(["export", str(tmp_path / "h"), "--demos", str(tmp_path / "nope.json")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: --demos") and "is not a file" in err[-1]


def test_a_recipes_worked_demo_is_a_leak_for_the_problem_it_shows():
    """A recipe's `strawberry.demos` are sent on every call: the problem a demo shows, answer and all, is left out
    of run and harvest, and `export --demos recipe.yaml` finds it too (through the built program's knobs)."""
    from strawberry_dspy.admission import admit
    from strawberry_dspy.config import config_from_dict
    from strawberry_dspy.program.build import build_program

    demo = {"question": "Calculate ( 7 - 9 ).", "steps": ["7 - 9 = -2."], "answer": "-2"}
    shown, other = Problem("p", "Calculate ( 7 - 9 ).", "-2"), Problem("q", "Calculate ( 7 - 8 ).", "-1")
    admission = admit([shown, other], 20_000, None, [demo])
    assert admission.problems == [other] and admission.demo_leaks == [shown]
    program = build_program(config_from_dict({"program": "strawberry", "strawberry": {"demos": [demo]}}))
    assert DemoLeaks.of(program).leaked(shown) and not DemoLeaks.of(program).leaked(other)


def test_the_shipped_recipes_demo_problem_never_reaches_a_run():
    """programs/strawberry.yaml's worked demo is a generated test problem of its own benchmark."""
    from strawberry_dspy.admission import admit

    config, _ = load_program_file("programs/strawberry.yaml")
    problems = load_benchmark(config.benchmark).problems("test", 400)
    demo_questions = {d["question"] for d in config.strawberry.demos}
    assert demo_questions & {p.question for p in problems}  # the leak this guards against is real
    admission = admit(problems, config.max_question_chars, None, config.strawberry.demos)
    assert {p.question for p in admission.demo_leaks} == demo_questions & {p.question for p in problems}
    assert not demo_questions & {p.question for p in admission.problems}
