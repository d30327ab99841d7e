"""Bad input of every kind a hostile user tried, command by command: one line on stderr, exit 2, never a traceback.

Run in-process through the dispatcher (`strawberry_dspy.cli.main`, what the console script calls) so the table
stays fast; test_cli.py covers the same contract through a real subprocess.
"""

import json
from pathlib import Path

import pytest

from strawberry_dspy.cli import main
from tests.export.store_fixture import StoreBuilder

LATIN1 = "caf\xe9".encode("latin-1")


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    """A folder of broken inputs beside a good recipe, benchmark and harvest store."""
    d = tmp_path_factory.mktemp("hostile")
    rows = "".join(json.dumps({"question": f"What is {i} + 1?", "answer": str(i + 1)}) + "\n" for i in range(40))
    (d / "ok.jsonl").write_text(rows)
    (d / "good.yaml").write_text(f"program: strawberry\nlimit: 2\nbenchmark: 'jsonl:{d}/ok.jsonl'\n")
    (d / "latin.yaml").write_bytes(b"program: strawberry\n# " + LATIN1 + b"\n")
    (d / "empty.yaml").write_text("")
    (d / "comments.yaml").write_text("# nothing here\n")
    (d / "list.yaml").write_text("- program\n- strawberry\n")
    (d / "placeholder.yaml").write_text("strawberry:\n  first_prompt: 'Solve {x}: {question}'\n")
    (d / "nudge.yaml").write_text("strawberry:\n  nudges: ['Check {answer}.']\n")
    (d / "latin.jsonl").write_bytes(b'{"question": "' + LATIN1 + b'", "answer": "1"}\n')
    (d / "latin.csv").write_bytes(b"question,answer\n" + LATIN1 + b",1\n")
    (d / "nocols.jsonl").write_text('{"q": "What is 1 + 1?", "a": "2"}\n')
    (d / "nocols.csv").write_text("x,y\n1,2\n")
    (d / "mixed.jsonl").write_text('{"question": "What is 1 + 1?", "answer": "2"}\n[1, 2]\n')
    (d / "not.parquet").write_text("not parquet")
    (d / "file.txt").write_text("a user's file")
    (d / "folder").mkdir()
    (d / "bad.json").write_bytes(b"\xff\xfe{}")
    builder = StoreBuilder()
    builder.problem("p1", "What is 97 + 1?", "98")
    builder.add("p1", ["97 and 1 make 98"], "98")
    builder.write(d / "store")
    return d


CASES = [
    # recipes
    (["run", "latin.yaml"], "is not UTF-8 text: byte 0xe9 at byte offset 25"),
    (["harvest", "empty.yaml"], "is empty"),
    (["compile", "comments.yaml"], "is empty"),
    (["run", "list.yaml"], "expected a mapping of keys at the top level"),
    (["run", "placeholder.yaml"], "strawberry.first_prompt holds the unknown placeholder {x}: the allowed placeholders are {question}"),
    (["harvest", "nudge.yaml"], "strawberry.nudges[0] holds the unknown placeholder {answer}"),
    (["run", "good.yaml", "--strawberry.first_prompt={question"], "malformed placeholder"),
    (["run", "folder"], "is a directory"),
    (["run", "missing.yaml"], "not found"),
    (["run", "bad.json"], "compiled program 'bad.json' is not UTF-8 text: byte 0xff at byte offset 0"),
    (["bootstrap", "good.yaml", "--train-recipe", "latin.yaml"], "is not UTF-8 text"),
    (["train", "list.yaml", "--data", "ok.jsonl"], "expected a mapping"),
    # benchmark files
    (["run", "good.yaml", "--benchmark", "jsonl:latin.jsonl"], "'latin.jsonl' is not UTF-8 text: byte 0xe9 at byte offset 17"),
    (["harvest", "good.yaml", "--benchmark", "csv:latin.csv"], "'latin.csv' is not UTF-8 text: byte 0xe9 at byte offset 19"),
    (["run", "good.yaml", "--benchmark", "jsonl:nocols.jsonl"], "no question column"),
    (["run", "good.yaml", "--benchmark", "csv:nocols.csv"], "no question column"),
    (["run", "good.yaml", "--benchmark", "jsonl:mixed.jsonl"], "row 2 of 'mixed.jsonl' must be an object"),
    (["run", "good.yaml", "--benchmark", "jsonl:folder"], "is a directory"),
    (["run", "good.yaml", "--benchmark", "parquet:ok.jsonl"], "not a readable parquet file"),
    # --key=value overrides
    (["run", "good.yaml", "--temperature=hot"], "argument --temperature: invalid float value: 'hot'"),
    (["run", "good.yaml", "--temperature=-1"], "temperature must be >= 0"),
    (["run", "good.yaml", "--strawberry.temperature=-0.5"], "strawberry.temperature must be >= 0"),
    (["run", "good.yaml", "--strawberry=3"], "'strawberry' must be a mapping"),
    (["run", "good.yaml", "--strawberry.max_turns=1e99"], "'strawberry.max_turns' must be int"),
    (["run", "good.yaml", "--max_question_chars=0"], "max_question_chars must be >= 1"),
    (["harvest", "good.yaml", "--a.b=1"], "unknown key 'a'"),
    # outputs where they cannot go
    (["run", "good.yaml", "--out", "file.txt/run"], "cannot create folder"),
    (["harvest", "good.yaml", "--out", "file.txt/harvest"], "cannot create folder"),
    (["compile", "good.yaml", "--out", "file.txt/x.json"], "cannot create folder"),
    (["stats", "store", "--plot", "file.txt/plot.png"], "cannot write the plot to"),
    (["stats", "store", "--plot", "folder"], "is a directory"),
    # stores and exports
    (["stats", "file.txt"], "no trace store"),
    (["export", "folder"], "no trace store"),
    (["train", "--data", "latin.jsonl"], "export file 'latin.jsonl' is not UTF-8 text"),
    (["train", "--data", "mixed.jsonl"], "mixed.jsonl:2: not a JSON object"),
    (["train", "--data", "not.parquet"], "not a readable parquet file"),
    (["ui", "--port", "99999"], "--port must be between 1 and 65535"),
]


@pytest.mark.parametrize("argv, expected", CASES, ids=[" ".join(a) for a, _ in CASES])
def test_hostile_input_is_one_line_and_exit_2(files, monkeypatch, capsys, argv, expected):
    monkeypatch.chdir(files)
    before = sorted(str(p.relative_to(files)) for p in files.rglob("*"))
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = exit_.code
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], err
    assert sorted(str(p.relative_to(files)) for p in files.rglob("*")) == before  # nothing made or removed
