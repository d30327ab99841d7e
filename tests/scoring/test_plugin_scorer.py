"""Plug-in scorers (`scorer: module:function`): loaded once, called as a DSPy metric by run, harvest, compile and the
UI; a scorer that cannot load or that raises is one line naming it."""

import json
from pathlib import Path

import pytest

from strawberry_dspy.benchmarks import Problem, load_benchmark
from strawberry_dspy.cli import main as cli_main
from strawberry_dspy.compile.metrics import GoldMetric, to_examples
from strawberry_dspy.config import config_from_dict
from strawberry_dspy.errors import UserError
from strawberry_dspy.evaluate import run_program
from strawberry_dspy.harvest import harvest
from strawberry_dspy.program.build import build_program
from strawberry_dspy.store import TraceStore
from strawberry_dspy.ui.live import score_answer
from strawberry_dspy.testing import scripted_lm
from tests.harvest.scripted import HarvestLM, gold_of, harvest_config, write_problems

PLUGINS = Path(__file__).parent / "plugins"
LAST_DIGIT = f"{PLUGINS / 'checks.py'}:last_digit"


@pytest.fixture
def problems_file(tmp_path):
    path = tmp_path / "problems.jsonl"
    rows = [{"question": f"What is {i} + {i + 7}?", "answer": str(2 * i + 7), "expected": f"x{i}"} for i in range(12)]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_the_plugin_decides_and_sees_the_row(problems_file):
    benchmark = load_benchmark(f"jsonl:{problems_file}", LAST_DIGIT)
    problem = benchmark.problems("train", 1)[0]
    wrong_but_same_digit = str(int(problem.answer) + 10)  # no built-in scorer would credit it
    score = benchmark.score(problem, wrong_but_same_digit)
    assert (score.correct, score.value, score.rule, score.extracted) == (True, 1.0, "scorer-pass", wrong_but_same_digit)
    assert benchmark.score(problem, problem.answer + "1").rule == "scorer-fail"
    assert not benchmark.score(problem, None).correct
    assert load_benchmark(f"jsonl:{problems_file}", f"{PLUGINS / 'checks.py'}:row_field").score(
        problem, problem.metadata["expected"]).correct


def test_only_full_credit_is_correct(problems_file):
    benchmark = load_benchmark(f"jsonl:{problems_file}", f"{PLUGINS / 'checks.py'}:half")
    score = benchmark.score(benchmark.problems("train", 1)[0], "anything")
    assert (score.correct, score.value) == (False, 0.5)


def test_run_uses_the_plugin(problems_file):
    config = config_from_dict({"program": "zero_shot", "benchmark": f"jsonl:{problems_file}", "split": "train",
                               "limit": 3, "concurrency": 1, "scorer": LAST_DIGIT})
    benchmark = load_benchmark(config.benchmark, config.scorer)
    problems = benchmark.problems("train", 3)
    answers = [str(int(p.answer) + 10) for p in problems]  # wrong numbers, right last digits
    results = run_program(build_program(config), problems, benchmark, scripted_lm([{"answer": a} for a in answers]),
                          concurrency=1, progress=False)
    assert [r.correct for r in results] == [True, True, True] and {r.rule for r in results} == {"scorer-pass"}


def test_harvest_stores_the_plugins_verdicts(tmp_path):
    problems_file = write_problems(tmp_path / "problems.jsonl", 20)
    config = harvest_config(problems_file, limit=2, concurrency=1, scorer=LAST_DIGIT)
    gold = gold_of(config)
    lm = HarvestLM(gold, {q: 1 for q in gold})  # first sample right, second wrong (gold + '1')
    harvest(config, tmp_path / "h", samples=2, lm=lm, progress=False)
    with TraceStore.open(tmp_path / "h") as store:
        golds = {p.id: p.answer for p in store.problems()}
        rows = list(store.traces())
        assert store.meta()["scorer"] == LAST_DIGIT
    assert len(rows) == 4
    for row in rows:  # the plugin's rule decided each (its own rule names), by the last digit alone
        same = row.final_answer[-1] == golds[row.problem_id][-1]
        assert (row.correct, row.rule) == (same, "scorer-pass" if same else "scorer-fail")


def test_compile_metric_and_the_ui_use_the_plugin(problems_file):
    import dspy

    benchmark = load_benchmark(f"jsonl:{problems_file}", LAST_DIGIT)
    problems = benchmark.problems("train", 2)
    metric = GoldMetric(benchmark, problems)
    example = to_examples(problems, 0)[0]
    assert metric(example, dspy.Prediction(answer=str(int(problems[0].answer) + 10)))
    config = config_from_dict({"program": "zero_shot", "scorer": LAST_DIGIT})
    typed = Problem("typed", "What is 2 + 5?", "7")
    assert score_answer(config, typed, "17").correct and not score_answer(config, typed, "8").correct


def test_a_scorer_that_raises_or_returns_nonsense_is_one_line_naming_it(problems_file):
    for name, message in [("broken", "raised KeyError on problem"), ("wrong_type", "returned 'yes'")]:
        spec = f"{PLUGINS / 'checks.py'}:{name}"
        benchmark = load_benchmark(f"jsonl:{problems_file}", spec)
        with pytest.raises(UserError) as error:
            benchmark.score(benchmark.problems("train", 1)[0], "7")
        assert f"scorer {spec!r}" in str(error.value) and message in str(error.value)
        assert "\n" not in str(error.value)


@pytest.mark.parametrize("scorer, message", [
    ("no_such_package.checks:score", "cannot be imported (ModuleNotFoundError: No module named 'no_such_package')"),
    (f"{PLUGINS / 'bad_import.py'}:score", "cannot be imported (ModuleNotFoundError"),
    (f"{PLUGINS / 'checks.py'}:missing", "has no function 'missing'"),
    (f"{PLUGINS / 'checks.py'}:two_args", "must take DSPy's metric arguments (example, pred, trace=None)"),
    ("nowhere/checks.py:score", "no file 'nowhere/checks.py'"),
    ("checks:9x", "is not of the form module:function"),
    ("bogus", "unknown scorer 'bogus'"),
])
def test_bad_scorers_are_one_line_and_exit_2_before_any_model_starts(capsys, tmp_path, problems_file, scorer, message):
    code = cli_main(["run", "programs/zero_shot.yaml", "--benchmark", f"jsonl:{problems_file}", "--split", "train",
                     "--limit", "1", "--model", "openai/none", "--api-base", "http://127.0.0.1:9/v1",
                     f"--scorer={scorer}", "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "run").exists()
