"""The hostile-input sweep as data: a folder of broken inputs (`make_files`) and the command lines that try them.

Each case is (argv, expected): run in that folder, the command must print one line on stderr that starts with
`error: ` and holds `expected`, exit 2, and leave every file as it was. tests/cli/test_hostile_input.py asserts
it case by case; eval/hostile_inputs.py counts the outcomes (clean, tracebacks, hangs, data loss) for eval/results.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

LATIN1 = "caf\xe9".encode("latin-1")
NOT_UTF8 = "caf\udce9"  # what Python makes of the bytes c a f 0xe9 on a command line (surrogateescape)
BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{n}: &{n} [{', '.join(['*' + p] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi"))

RECIPES = {
    "dup.yaml": "program: strawberry\nlimit: 2\nlimit: 3\n",
    "dup_nested.yaml": "strawberry:\n  max_turns: 4\n  max_turns: 8\n",
    "bomb.yaml": "program: strawberry\nsearch:\n  " + BOMB.replace("\n", "\n  "),
    "demos_str.yaml": "strawberry:\n  demos: [{question: 'What is 1 + 1?', steps: 'one plus one', answer: '2'}]\n",
    "demos_ints.yaml": "strawberry:\n  demos: [{question: 'What is 1 + 1?', steps: [1, 2], answer: '2'}]\n",
    "demos_empty_step.yaml": "strawberry:\n  demos: [{question: 'What is 1 + 1?', steps: ['  '], answer: '2'}]\n",
    "demos_noanswer.yaml": "strawberry:\n  demos: [{question: 'What is 1 + 1?', steps: ['a']}]\n",
    "demos_notlist.yaml": "strawberry:\n  demos: 'one demo'\n",
    "demos_list_answer.yaml": "strawberry:\n  demos: [{question: 'What is 1 + 1?', steps: ['a'], answer: [2]}]\n",
    "nudges_str.yaml": "strawberry:\n  nudges: 'Are you sure?'\n",
    "nudges_ints.yaml": "strawberry:\n  nudges: [1, 2]\n",
    "nudges_empty.yaml": "strawberry:\n  nudges: []\n",
    "prices_str.yaml": "prices: cheap\n",
    "prices_nan.yaml": "prices: {input: .nan, output: 1}\n",
    "prices_inf.yaml": "prices: {input: 1, output: .inf}\n",
    "prices_neg.yaml": "prices: {input: -1, output: 1}\n",
    "prices_missing.yaml": "prices: {input: 1}\n",
    "prices_unknown.yaml": "prices: {inputs: 1, output: 1}\n",
    "retry_inf.yaml": "retry: {request_timeout_s: .inf}\n",
    "retry_nan.yaml": "retry: {budget_s: .nan}\n",
    "temp_nan.yaml": "temperature: .nan\n",
    "temp_str.yaml": "temperature: warm\n",
    "api_base.yaml": "model: openai/x\napi_base: not-a-url\n",
    "tabs.yaml": "program: strawberry\n\tlimit: 2\n",
    "unknown.yaml": "program: strawberry\nlimits: 2\n",
}


def make_files(d: Path) -> Path:
    """Fill `d` with broken inputs beside a good recipe, benchmark and harvest store; returns d."""
    from tests.export.store_fixture import StoreBuilder

    rows = "".join(json.dumps({"question": f"What is {i} + 1?", "answer": str(i + 1)}) + "\n" for i in range(40))
    (d / "ok.jsonl").write_text(rows)
    (d / "good.yaml").write_text(f"program: strawberry\nlimit: 2\nbenchmark: 'jsonl:{d}/ok.jsonl'\n")
    (d / "latin.yaml").write_bytes(b"program: strawberry\n# " + LATIN1 + b"\n")
    (d / "empty.yaml").write_text("")
    (d / "comments.yaml").write_text("# nothing here\n")
    (d / "list.yaml").write_text("- program\n- strawberry\n")
    (d / "placeholder.yaml").write_text("strawberry:\n  first_prompt: 'Solve {x}: {question}'\n")
    (d / "nudge.yaml").write_text("strawberry:\n  nudges: ['Check {answer}.']\n")
    for name, text in RECIPES.items():
        (d / name).write_text(text)
    (d / "latin.jsonl").write_bytes(b'{"question": "' + LATIN1 + b'", "answer": "1"}\n')
    (d / "latin.csv").write_bytes(b"question,answer\n" + LATIN1 + b",1\n")
    (d / "nocols.jsonl").write_text('{"q": "What is 1 + 1?", "a": "2"}\n')
    (d / "nocols.csv").write_text("x,y\n1,2\n")
    (d / "mixed.jsonl").write_text('{"question": "What is 1 + 1?", "answer": "2"}\n[1, 2]\n')
    (d / "not.parquet").write_text("not parquet")
    (d / "file.txt").write_text("a user's file")
    (d / "folder").mkdir()
    (d / "bad.json").write_bytes(b"\xff\xfe{}")
    (d / "alpha_nan.yaml").write_text("alpha: .nan\n")
    (d / "samples_zero.yaml").write_text("samples: 0\n")
    builder = StoreBuilder()
    builder.problem("p1", "What is 97 + 1?", "98")
    builder.add("p1", ["97 and 1 make 98"], "98")
    builder.write(d / "store")
    _sqlite(d / "foreign", "CREATE TABLE notes (text TEXT)")  # another program's database where a store would be
    (d / "corrupt").mkdir()
    (d / "corrupt" / "traces.sqlite").write_bytes(b"not a database" * 100)
    (d / "zero").mkdir()
    (d / "zero" / "traces.sqlite").write_bytes(b"")
    (d / "dirstore" / "traces.sqlite").mkdir(parents=True)
    for name, sql in (("nocol", "ALTER TABLE traces DROP COLUMN final_answer"),
                      ("yes", "UPDATE traces SET correct = 'yes'"),
                      ("v99", "UPDATE meta SET value = '99' WHERE key = 'schema_version'"),
                      ("noturns", "DROP TABLE turns")):
        shutil.copytree(d / "store", d / name)
        _sqlite(d / name, sql)
    return d


def _sqlite(folder: Path, sql: str) -> None:
    folder.mkdir(exist_ok=True)
    conn = sqlite3.connect(folder / "traces.sqlite")
    with conn:
        conn.execute(sql)
    conn.execute("PRAGMA journal_mode=DELETE")
    conn.close()


# ------------------------------------------------------------------------------------------------- the cases

BASE = [
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

# Numbers: every float must be finite and in range; every count in range. (key, bad value, expected words)
RECIPE_NUMBERS = [
    ("temperature", v, w) for v, w in ((".nan", "finite"), (".inf", "finite"), ("-.inf", "finite"), ("-0.1", ">= 0"),
                                       ("nan", "must be float"))
] + [
    (f"strawberry.{k}", v, w) for k in ("temperature", "check_temperature")
    for v, w in ((".nan", "finite"), (".inf", "finite"), ("-1", ">= 0"))
] + [
    ("strawberry.nudge_probability", v, w) for v, w in ((".nan", "finite"), ("1.5", "in [0, 1]"), ("-0.1", "in [0, 1]"))
] + [
    (f"retry.{k}", v, w) for k in ("request_timeout_s", "budget_s", "backoff_base_s", "backoff_cap_s")
    for v, w in ((".nan", "finite"), (".inf", "finite"), ("-1", "must be"))
] + [
    (f"prices.{k}", v, w) for k in ("input", "output", "cache_read", "cache_write")
    for v, w in ((".NaN", "finite"), (".Inf", "finite"))
] + [
    (f"strawberry.{k}", v, ">= 1") for k in ("max_tokens", "step_tokens", "check_tokens", "verify_tokens",
                                             "title_tokens", "max_turns", "check_every", "verifier_window")
    for v in ("0", "-5")
] + [
    ("baseline.max_tokens", "-1", ">= 1"), ("baseline.max_tokens", "0", ">= 1"), ("baseline.temperature", ".nan", "finite"),
    ("strawberry.verifier_every", "-1", ">= 0"), ("strawberry.title_every", "-2", ">= 0"),
    ("retry.max_attempts", "0", ">= 1"), ("limit", "0", ">= 1"), ("limit", "-3", ">= 1"), ("slots", "0", ">= 1"),
    ("concurrency", "0", ">= 1"), ("max_reply_chars", "0", ">= 1"), ("max_requests_per_minute", "0", ">= 1"),
    ("max_tokens_per_minute", "-1", ">= 1"), ("max_reply_chars", "2.5", "must be int"), ("seed", "x", "must be int"),
    ("strawberry.max_turns", ".nan", "must be int"), ("cache", "maybe", "must be bool"),
]

NUMBER_CASES = [([command, "good.yaml", f"--{key}={value}"], words)
                for key, value, words in RECIPE_NUMBERS for command in ("run", "harvest")
                if key != "temperature"]  # run's and harvest's own --temperature flag: FLAG_CASES
NUMBER_CASES += [(["compile", "good.yaml", f"--{key}={value}"], words) for key, value, words in RECIPE_NUMBERS[::3]]

FLAG_CASES = [
    # harvest's own flags
    *[([command, "good.yaml", "--temperature", v], w) for v, w in (("nan", "finite"), ("inf", "finite"),
                                                                   ("-1", ">= 0"), ("hot", "invalid float"))
      for command in ("run", "harvest")],
    *[(["harvest", "good.yaml", "--samples", v], w) for v, w in (("0", ">= 1"), ("-2", ">= 1"), ("x", "invalid int"))],
    *[(["harvest", "good.yaml", "--band", *v], w) for v, w in ((("nan", "0.5"), "pair of pass rates"),
                                                              (("0.2", "inf"), "pair of pass rates"),
                                                              (("0.9", "0.1"), "not a range"),
                                                              (("-1", "0.5"), "not a range"),
                                                              (("0.5", "0.5"), "not a range"))],
    (["harvest", "good.yaml", "--early-stop", "-1"], ">= 0"),
    *[(["harvest", "good.yaml", "--batch", "--batch-poll-s", v], w)
      for v, w in (("nan", "finite"), ("inf", "finite"), ("-1", "in [0, 3600]"), ("1e9", "in [0, 3600]"))],
    (["harvest", "good.yaml", "--concurrency", "0"], ">= 1"),
    (["harvest", "good.yaml", "--concurrency", "500"], "at most 32 traces at once"),
    (["run", "good.yaml", "--concurrency", "5000"], "at most 32 traces at once"),
    (["run", "good.yaml", "--slots=200"], "at most 32 traces at once"),
    (["harvest", "good.yaml", "--limit", "0"], ">= 1"),
    (["harvest", "good.yaml", "--config", "samples_zero.yaml"], "--samples must be >= 1"),
    (["harvest", "good.yaml", "--config", "missing.yaml"], "is not a file"),
    (["run", "good.yaml", "--samples", "0"], ">= 1"),
    (["run", "good.yaml", "--limit", "-1"], ">= 1"),
    (["run", "good.yaml", "--split", "validation"], "unknown split"),
    # export
    *[(["export", "store", f"--alpha={v}"], "finite") for v in ("nan", "inf", "-inf")],
    (["export", "store", "--format", "dpo", "--alpha", "nan"], "finite"),
    *[(["export", "store", "--resample", v], w) for v, w in (("nan", "finite"), ("-1", ">= 0"))],
    (["export", "store", "--max-pairs", "0"], ">= 1"),
    (["export", "store", "--format", "dpo", "--max-pairs", "-1"], ">= 1"),
    *[(["export", "store", "--ngram-threshold", v], w) for v, w in (("nan", "finite"), ("0", "(0, 1]"), ("2", "(0, 1]"))],
    (["export", "store", "--ngram", "0"], ">= 1"),
    (["export", "store", "--decontam-limit", "0"], ">= 1"),
    *[(["export", "store", "--band", *v], w) for v, w in ((("nan", "1"), "pair of pass rates"),
                                                         (("1", "0"), "not a range"))],
    (["export", "store", "--seed", "1.5"], "invalid int"),
    (["export", "store", "--config", "alpha_nan.yaml"], "finite"),
    (["export", "store", "--demos", "missing.json"], "is not a file"),
    (["export", "store", "--format", "csv"], "invalid choice"),
    # stats
    *[(["stats", "store", "--band", *v], w) for v, w in ((("nan", "1"), "pair of pass rates"),
                                                        (("0.5", "0.2"), "not a range"),
                                                        (("0", "inf"), "pair of pass rates"))],
    # compile
    (["compile", "good.yaml", "--budget", "0"], ">= 1"),
    (["compile", "good.yaml", "--samples", "0"], ">= 1"),
    (["compile", "good.yaml", "--dev-limit", "0"], ">= 1"),
    (["compile", "good.yaml", "--objective", "speed"], "invalid choice"),
    (["compile", "good.yaml", "--optimizer", "magic"], "invalid choice"),
    (["compile", "good.yaml", "--objective", "band", "--samples", "1"], ">= 2"),
    (["compile", "good.yaml", "--band", "nan", "0.5"], "pair of pass rates"),
    # bootstrap
    (["bootstrap", "good.yaml", "--rounds", "0"], "rounds"),
    (["bootstrap", "good.yaml", "--samples", "0"], "samples"),
    (["bootstrap", "good.yaml", "--temperature", "nan"], "finite"),
    (["bootstrap", "good.yaml", "--band", "0.9", "0.1"], "not a range"),
    # ui
    (["ui", "--port", "0"], "--port must be between 1 and 65535"),
    (["ui", "--port", "-1"], "--port must be between 1 and 65535"),
    (["ui", "--port", "http"], "invalid int"),
]

# Flags that contradict each other: one line naming both.
CONFLICT_CASES = [
    (["export", "store", "--format", "sft", "--max-pairs", "3"], "--max-pairs 3 applies to --format dpo only"),
    (["export", "store", "--format", "kto", "--max-pairs", "2"], "--max-pairs 2 applies to --format dpo only"),
    (["export", "store", "--format", "dpo", "--sft-form", "messages"], "--sft-form messages applies to --format sft only"),
    (["export", "store", "--format", "stepwise", "--sft-form", "messages"], "applies to --format sft only"),
    (["export", "store", "--format", "sft", "--weighting", "tokens"], "--weighting tokens applies to --format dpo only"),
    (["export", "store", "--format", "kto", "--alpha", "2"], "--alpha 2.0 applies to --format dpo only"),
    (["export", "store", "--format", "sft", "--resample"], "--resample applies to --format dpo only"),
    (["export", "store", "--style", "turns", "--system", "Be brief."], "--system Be brief. applies to --style flat only"),
    (["export", "store", "--style", "turns", "--nudges", "drop"], "--nudges drop applies to --style flat only"),
    (["compile", "good.yaml", "--objective", "accuracy", "--band", "0.2", "0.8"],
     "--band 0.2 0.8 applies to --objective band only"),
    (["compile", "good.yaml", "--band", "0.3", "0.7"], "--band 0.3 0.7 applies to --objective band only"),
    (["compile", "good.yaml", "--objective", "band", "--optimizer", "bootstrap"], "needs --optimizer search"),
    (["harvest", "good.yaml", "--model", "openai/x", "--batch", "--cache=true"], "--batch and the recipe's cache: true"),
]

RECIPE_CASES = [
    (["run", "dup.yaml"], "the key 'limit' appears twice"),
    (["harvest", "dup_nested.yaml"], "the key 'max_turns' appears twice"),
    (["compile", "dup.yaml"], "appears twice"),
    (["bootstrap", "dup.yaml"], "appears twice"),
    (["run", "bomb.yaml"], "expand to more than 100000 values"),
    (["harvest", "bomb.yaml"], "alias bomb"),
    (["compile", "bomb.yaml"], "alias bomb"),
    (["run", "good.yaml", "--strawberry.nudges=[a, b, a, b]", "--limit=1", "--strawberry={x: 1, x: 2}"], "must be a mapping"),
    (["run", "demos_str.yaml"], "strawberry.demos[0].steps must be a list"),
    (["harvest", "demos_str.yaml"], "strawberry.demos[0].steps must be a list"),
    (["run", "demos_ints.yaml"], "strawberry.demos[0].steps[0] must be non-empty text"),
    (["run", "demos_empty_step.yaml"], "strawberry.demos[0].steps[0] must be non-empty text"),
    (["run", "demos_noanswer.yaml"], "strawberry.demos[0] must be {question: TEXT"),
    (["run", "demos_notlist.yaml"], "'strawberry.demos' must be a list"),
    (["run", "demos_list_answer.yaml"], "strawberry.demos[0].answer must be non-empty text"),
    (["run", "nudges_str.yaml"], "'strawberry.nudges' must be a list"),
    (["harvest", "nudges_ints.yaml"], "'strawberry.nudges[0]' must be str"),
    (["run", "nudges_empty.yaml"], "strawberry.nudges is empty"),
    (["run", "prices_str.yaml"], "'prices' must be a mapping"),
    (["run", "prices_nan.yaml"], "'prices.input' must be a finite number"),
    (["harvest", "prices_inf.yaml"], "'prices.output' must be a finite number"),
    (["run", "prices_neg.yaml"], "prices.input must be >= 0"),
    (["run", "prices_missing.yaml"], "prices.output is required"),
    (["run", "prices_unknown.yaml"], "unknown key 'prices.inputs'"),
    (["run", "retry_inf.yaml"], "'retry.request_timeout_s' must be a finite number"),
    (["harvest", "retry_nan.yaml"], "'retry.budget_s' must be a finite number"),
    (["run", "temp_nan.yaml"], "'temperature' must be a finite number"),
    (["compile", "temp_nan.yaml"], "'temperature' must be a finite number"),
    (["run", "temp_str.yaml"], "'temperature' must be float"),
    (["run", "api_base.yaml"], "api_base must be an http(s) URL"),
    (["run", "tabs.yaml"], "malformed YAML"),
    (["harvest", "unknown.yaml"], "unknown key 'limits'"),
]

MODEL_CASES = [
    *[([command, "good.yaml", "--api-base", url], "api_base must be an http(s) URL")
      for command in ("run", "harvest", "compile")
      for url in ("not-a-url", "ftp://127.0.0.1/v1", "http://", "http://host:port/v1", "127.0.0.1:8000")],
    (["run", "good.yaml", "--model", "nosuch/model"], "unknown model spec"),
    (["harvest", "good.yaml", "--model", "gpt-4o"], "unknown model spec"),
    (["run", "good.yaml", "--model", "local:missing.gguf"], "GGUF model file not found"),
    (["harvest", "good.yaml", "--model", "local:missing.gguf"], "GGUF model file not found"),
    (["run", "good.yaml", "--model", "local:folder"], "GGUF model file not found"),
    (["harvest", "good.yaml", "--model", "openai/x", "--api_key_env=not a name"], "api_key_env"),
    *[([command, "good.yaml", "--executor", "ray", "--ray-address", address], words)
      for command in ("run", "harvest")
      for address, words in (("127.0.0.1:1", "cannot reach a Ray cluster"), ("nonsense", "must be auto or HOST:PORT"),
                             ("127.0.0.1:99999", "must be auto or HOST:PORT"), ("ray://127.0.0.1:1", "cannot reach"),
                             ("http://127.0.0.1:1", "must be auto or HOST:PORT"))],
    (["run", "good.yaml", "--executor", "dask"], "invalid choice"),
    # a model that cannot answer leaves no output folder behind (the model is built before the folder)
    *[([command, "good.yaml", *model, "--out", "new-output"], words)
      for command in ("harvest", "compile")
      for model, words in ((["--model", "local:missing.gguf"], "GGUF model file not found"),
                           (["--model", "openai/x", "--api-base", "http://127.0.0.1:9/v1"], "no OpenAI-compatible server"),
                           (["--model", "mystery/x"], "unknown model spec"),
                           (["--model", "openai/x", "--api-base", "http://127.0.0.1:9/v1",
                             "--api_key_env=UNSET_KEY_OF_THE_SWEEP"], "UNSET_KEY_OF_THE_SWEEP, which is not set"))],
    # bootstrap trains weights on this machine: a starting model it cannot load leaves no folder either
    *[(["bootstrap", "good.yaml", "--model", model, "--out", "new-output"], words)
      for model, words in (("local:missing.gguf", "GGUF model file not found"),
                           ("hf:no-such-folder", "Hugging Face model folder not found"),
                           ("openai/x", "must be weights on this machine"),
                           ("mystery/x", "must be weights on this machine"))],
]

STORE_CASES = [
    # stores strawberry did not create: never deleted, and --fresh never advised for them
    (["harvest", "good.yaml", "--out", "foreign", "--fresh"], "foreign/traces.sqlite is not a strawberry trace store"),
    (["harvest", "good.yaml", "--out", "foreign"], "foreign/traces.sqlite is not a strawberry trace store"),
    (["harvest", "good.yaml", "--out", "corrupt", "--fresh"], "corrupt/traces.sqlite is corrupt"),
    (["harvest", "good.yaml", "--out", "corrupt"], "corrupt/traces.sqlite is corrupt"),
    (["harvest", "good.yaml", "--out", "zero", "--fresh"], "zero/traces.sqlite is not a strawberry trace store"),
    (["harvest", "good.yaml", "--out", "nocol", "--fresh"], "lacks the column(s) final_answer"),
    (["harvest", "good.yaml", "--out", "v99", "--fresh"], "schema version '99'"),
    (["harvest", "good.yaml", "--out", "noturns", "--fresh"], "no turns table"),
    (["harvest", "good.yaml", "--out", "store"], "holds a harvest of a different setup"),
    *[([command, folder], words) for command in ("stats", "export", "ui")
      for folder, words in (("foreign", "is not a strawberry trace store"), ("corrupt", "is corrupt"),
                            ("zero", "is not a strawberry trace store"), ("nocol", "lacks the column(s) final_answer"),
                            ("yes", "has correct = 'yes'"), ("v99", "schema version '99'"),
                            ("noturns", "no turns table"))],
    (["stats", "dirstore"], "no trace store"),
    (["export", "store", "--out", "store"], "is (or holds) store"),
    (["export", "store", "--out", "file.txt"], "is a file"),
    (["export", "store", "--out", "foreign", "--overwrite"], "not a dataset export"),
]

ARGUMENT_CASES = [
    (["export", "store", "--system", NOT_UTF8], "is not UTF-8 text (byte 0xe9 at character 3)"),
    (["run", "good.yaml", "--benchmark", f"jsonl:{NOT_UTF8}.jsonl"], "is not UTF-8 text"),
    (["harvest", "good.yaml", "--out", NOT_UTF8], "is not UTF-8 text"),
    (["stats", NOT_UTF8], "is not UTF-8 text"),
    (["compile", NOT_UTF8], "is not UTF-8 text"),
    (["train", "--data", NOT_UTF8], "is not UTF-8 text"),
    (["ui", NOT_UTF8], "is not UTF-8 text"),
    (["run", "good.yaml", f"--strawberry.first_prompt={NOT_UTF8} {{question}}"], "is not UTF-8 text"),
    (["run", "good.yaml", "--unknown-flag"], "unrecognized arguments"),
    (["harvest", "good.yaml", "stray"], "unrecognized arguments"),
    (["nosuchcommand"], "invalid choice"),
    (["export"], "the following arguments are required"),
    (["ui", "--host", "0.0.0.0"], "pass --allow-remote as well"),
    (["ui", "store", "--host", "192.0.2.1"], "pass --allow-remote as well"),
]

CASES = (BASE + NUMBER_CASES + FLAG_CASES + CONFLICT_CASES + RECIPE_CASES + MODEL_CASES + STORE_CASES
         + ARGUMENT_CASES)
