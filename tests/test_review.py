"""`strawberry review`: scripted review through the CLI; export leaves flagged traces out, its card and stats count them."""

import json

import pytest

from strawberry_dspy.cli import main as cli_main
from tests.ui.stores import make_harvest


@pytest.fixture
def harvest(tmp_path):
    return make_harvest(tmp_path)  # 4 problems x 4 samples, right 0, 1, 2 and 3 times


def cli(capsys, *args: str) -> tuple[int, str, str]:
    code = cli_main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def traces(capsys, harvest) -> list[dict]:
    code, out, _ = cli(capsys, "review", str(harvest), "--traces")
    assert code == 0
    header, *rows = out.strip().splitlines()
    return [dict(zip(header.split("\t"), row.split("\t"))) for row in rows]


def test_traces_of_one_problem(capsys, harvest):
    listed = traces(capsys, harvest)
    problem = listed[0]["problem"]
    code, out, _ = cli(capsys, "review", str(harvest), "--traces", problem)
    rows = out.strip().splitlines()[1:]
    assert code == 0 and len(rows) == 4 and all(row.split("\t")[1] == problem for row in rows)


def export_rows(capsys, harvest, out, *extra: str) -> tuple[list[dict], str]:
    code, _, err = cli(capsys, "export", str(harvest), "--format", "sft", "--out", str(out), "--overwrite", *extra)
    assert code == 0, err
    rows = [json.loads(line) for line in (out / "train.jsonl").read_text().splitlines()]
    return rows, (out / "README.md").read_text()


def test_flagged_traces_and_problems_stay_out_of_exports_until_unflagged(capsys, harvest, tmp_path):
    listed = traces(capsys, harvest)
    assert len(listed) == 16 and {r["flagged"] for r in listed} == {"-"}
    by_problem: dict[str, list[dict]] = {}
    for row in listed:
        by_problem.setdefault(row["problem"], []).append(row)
    right = {p: sum(r["correct"] == "1" for r in rows) for p, rows in by_problem.items()}
    once, thrice = (next(p for p, n in right.items() if n == k) for k in (1, 3))
    lucky = next(r for r in by_problem[once] if r["correct"] == "1")  # the one right answer of a hard problem

    before, _ = export_rows(capsys, harvest, tmp_path / "before")
    assert {r["trace_id"] for r in before} >= {int(lucky["trace"])}

    code, out, _ = cli(capsys, "review", str(harvest), "--flag", lucky["trace"], "--note", "right answer, wrong steps",
                       "--flag-problem", thrice)
    assert code == 0
    assert out.splitlines() == [f'flagged trace {lucky["trace"]} (problem {once}): "right answer, wrong steps"',
                                f'flagged problem {thrice}: "right answer, wrong steps"']  # one note, every flag
    flagged = {r["trace"]: r["flagged"] for r in traces(capsys, harvest)}
    assert flagged[lucky["trace"]] == "trace" and all(flagged[r["trace"]] == "problem" for r in by_problem[thrice])

    code, out, _ = cli(capsys, "review", str(harvest), "--list")
    lines = out.strip().splitlines()
    assert lines[0] == "problem\ttrace\tflagged_at\tnote" and len(lines) == 3
    assert f'{once}\t{lucky["trace"]}\t' in out and '"right answer, wrong steps"' in out and f"{thrice}\t-\t" in out

    after, card = export_rows(capsys, harvest, tmp_path / "after")
    kept = {r["trace_id"] for r in after}
    assert int(lucky["trace"]) not in kept
    assert not kept & {int(r["trace"]) for r in by_problem[thrice]}
    # SFT keeps correct traces: the hard problem's only one was the lucky guess
    assert {r["problem_id"] for r in after} == {r["problem_id"] for r in before} - {thrice, once}
    assert '"flagged": {\n    "problems": 1,\n    "traces": 1\n  }' in card
    assert "Review: 1 problem(s) of the band and 1 trace(s) that a reviewer flagged" in card

    code, out, _ = cli(capsys, "stats", str(harvest), "--plot", str(tmp_path / "rates.png"))
    assert code == 0 and "flagged" in out and "1 problems, 1 traces (left out of exports" in out

    code, out, _ = cli(capsys, "review", str(harvest), "--unflag", lucky["trace"], "--unflag-problem", thrice,
                       "--unflag-problem", thrice)
    assert out.splitlines() == [f"unflagged trace {lucky['trace']}", f"unflagged problem {thrice}",
                                f"problem {thrice} was not flagged"]
    again, _ = export_rows(capsys, harvest, tmp_path / "again")
    assert again == before


def test_dpo_pairs_lose_the_flagged_chosen_trace(capsys, harvest, tmp_path):
    listed = traces(capsys, harvest)
    correct = [r for r in listed if r["correct"] == "1"]
    once = next(r for r in correct if sum(c["problem"] == r["problem"] for c in correct) == 1)
    code, _, err = cli(capsys, "export", str(harvest), "--format", "dpo", "--out", str(tmp_path / "d1"))
    pairs = [json.loads(x) for x in (tmp_path / "d1" / "train.jsonl").read_text().splitlines()]
    assert any(p["chosen_trace_id"] == int(once["trace"]) for p in pairs)
    assert cli(capsys, "review", str(harvest), "--flag", once["trace"])[0] == 0
    code, _, err = cli(capsys, "export", str(harvest), "--format", "dpo", "--out", str(tmp_path / "d2"))
    assert code == 0, err
    flagged = [json.loads(x) for x in (tmp_path / "d2" / "train.jsonl").read_text().splitlines()]
    assert flagged and all(int(once["trace"]) not in (p["chosen_trace_id"], p["rejected_trace_id"]) for p in flagged)
    assert {p["problem_id"] for p in flagged} == {p["problem_id"] for p in pairs} - {once["problem"]}


@pytest.mark.parametrize("args, message", [
    (["--flag", "999"], "no trace with id 999"),
    (["--flag-problem", "nope"], "no problem with id 'nope'"),
    ([], "nothing to do: pass --flag TRACE_ID"),
    (["--note", "why", "--list"], "--note 'why' belongs to a flag"),
    (["--flag", "two"], "argument --flag: invalid int value: 'two'"),
    (["--traces", "nope"], "no problem with id 'nope'"),
])
def test_bad_review_input_is_one_line_and_changes_nothing(capsys, harvest, args, message):
    before = (harvest / "traces.sqlite").read_bytes()
    with pytest.raises(SystemExit) if args == ["--flag", "two"] else _no_raise() as raised:
        code, out, err = cli(capsys, "review", str(harvest), *args)
    if raised is not None and args == ["--flag", "two"]:
        code, err = raised.value.code, capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert (harvest / "traces.sqlite").read_bytes() == before


def test_several_flags_with_one_unknown_id_write_none(capsys, harvest):
    first = traces(capsys, harvest)[0]["trace"]
    code, _, err = cli(capsys, "review", str(harvest), "--flag", first, "--flag", "999")
    assert code == 2 and "no trace with id 999" in err
    code, out, _ = cli(capsys, "review", str(harvest), "--list")
    assert out.strip().splitlines() == ["problem\ttrace\tflagged_at\tnote"]


class _no_raise:
    value = None

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False
