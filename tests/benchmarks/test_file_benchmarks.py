"""jsonl:/csv:/parquet: — column aliases, the GSM8K '####' rule, and clear errors."""

import csv
import json

import pytest

from strawberry_dspy.benchmarks import load_benchmark, question_hash
from strawberry_dspy.errors import UserError

ROWS = [{"problem": f"Sam has {i} apples and buys {i + 2} more. How many now?", "solution": f"{i} + {i + 2}\n#### {2 * i + 2}"} for i in range(40)]


def _write(tmp_path, fmt, rows):
    path = tmp_path / f"data.{fmt}"
    if fmt == "jsonl":
        path.write_text("\n".join(json.dumps(row) for row in rows) + "\n")
    elif fmt == "csv":
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    else:
        import pyarrow
        import pyarrow.parquet

        pyarrow.parquet.write_table(pyarrow.Table.from_pylist(rows), path)
    return path


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_aliases_and_gsm8k_answers(tmp_path, fmt):
    path = _write(tmp_path, fmt, ROWS)
    benchmark = load_benchmark(f"{fmt}:{path}")
    problems = [p for split in ("train", "dev", "test") for p in benchmark.problems(split)]
    assert len(problems) == len(ROWS)
    by_question = {p.question: p for p in problems}
    first = by_question[ROWS[3]["problem"]]
    assert first.answer == "8" and first.metadata["solution"] == ROWS[3]["solution"]
    assert first.id == question_hash(first.question)[:16]
    assert benchmark.scorer == "math_verify"
    assert benchmark.score(first, "The total is 8 apples.").correct is True
    assert benchmark.score(first, "9").correct is False


def test_answer_column_wins_over_solution_and_case_is_ignored(tmp_path):
    path = _write(tmp_path, "jsonl", [{"Prompt": "What is 2+2?", "solution": "long text", "Answer": 4}])
    problem = next(p for s in ("train", "dev", "test") for p in load_benchmark(f"jsonl:{path}").problems(s))
    assert (problem.question, problem.answer) == ("What is 2+2?", "4")


def test_columns_can_be_named_in_the_spec(tmp_path):
    path = _write(tmp_path, "csv", [{"q": "Capital of France?", "gold": "Paris"}])
    benchmark = load_benchmark(f"csv:{path}?question=q&answer=gold", scorer="exact")
    problem = next(p for s in ("train", "dev", "test") for p in benchmark.problems(s))
    assert problem.answer == "Paris" and benchmark.score(problem, "paris.").correct


def test_no_matching_column_lists_the_columns(tmp_path):
    path = _write(tmp_path, "jsonl", [{"text": "hi", "label": "x"}])
    with pytest.raises(UserError, match=r"no question column.*text, label"):
        load_benchmark(f"jsonl:{path}").problems()


def test_missing_file_is_a_user_error(tmp_path):
    missing = tmp_path / "nope.jsonl"
    with pytest.raises(UserError, match="nope.jsonl"):
        load_benchmark(f"jsonl:{missing}")


def test_bad_json_line_is_a_user_error(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"question": "a", "answer": "1"}\n{not json\n')
    with pytest.raises(UserError, match="line 2"):
        load_benchmark(f"jsonl:{path}").problems()


def test_unknown_file_option_and_scorer_are_user_errors(tmp_path):
    path = _write(tmp_path, "jsonl", ROWS)
    with pytest.raises(UserError, match="'colum'.*answer, question"):
        load_benchmark(f"jsonl:{path}?colum=x")
    with pytest.raises(UserError, match="'fuzzy'"):
        load_benchmark(f"jsonl:{path}", scorer="fuzzy")
