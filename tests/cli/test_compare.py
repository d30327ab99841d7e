"""`strawberry compare`: accuracy with intervals and paired differences of run directories; bad input is one line."""

from __future__ import annotations

import json

from strawberry_dspy.benchmarks import load_benchmark
from strawberry_dspy.cli import main as cli_main
from strawberry_dspy.trivial import first_number, trivial_baselines


def _run(path, correct: dict[str, list[bool]]):
    path.mkdir(parents=True)
    rows = [{"problem_id": pid, "sample": k, "correct": c} for pid, cs in correct.items() for k, c in enumerate(cs)]
    (path / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def test_compare_prints_intervals_and_the_paired_difference(tmp_path, capsys):
    before = _run(tmp_path / "before", {f"p{i}": [i < 5, i < 5] for i in range(20)})
    after = _run(tmp_path / "after", {f"p{i}": [i < 10, i < 10] for i in range(20)})
    assert cli_main(["compare", before, after]) == 0
    out = capsys.readouterr().out
    assert "25.0% [" in out and "(n=20 x 2)" in out and "50.0% [" in out
    assert "+25.0 pts [" in out and "p=0.0625" in out and "5 / 0" in out  # 5 problems gained of 20 (exact p = 2/2^5)
    assert cli_main(["compare", before, after, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data[1]["paired"]["diff"] == 0.25 and data[0]["paired"] is None


def test_compare_refuses_what_is_not_a_run_in_one_line(tmp_path, capsys):
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "results.jsonl").write_text("not json\n")
    for target, message in ((tmp_path / "none", "is not a run directory"), (tmp_path / "bad", "not a result row")):
        assert cli_main(["compare", str(target)]) == 2
        err = capsys.readouterr().err.strip()
        assert message in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_trivial_baselines_score_with_the_benchmarks_own_scorer(tmp_path):
    data = tmp_path / "q.jsonl"
    rows = [("What is 3 - 4?", "-1"), ("What is 5 - 6?", "-1"), ("What is 7 - 8?", "-1"), ("What is 9 + 0?", "9")]
    data.write_text("".join(json.dumps({"question": q, "answer": a}) + "\n" for q, a in rows))
    benchmark = load_benchmark(f"jsonl:{data}")
    problems = [p for split in ("train", "dev", "test") for p in benchmark.problems(split, None)]
    baselines = trivial_baselines(problems, benchmark)
    assert baselines["always '-1'"] == 0.75 and baselines["first number of the question"] == 0.25
    assert first_number("Calculate -5 - -4.") == "-5" and first_number("no digits") is None
