"""Bad input is one clear line (exit 2 from the CLI) and nothing half-written; outputs replace atomically."""

import json

import pytest

from strawberry_dspy.cli import main as cli_main
from strawberry_dspy.errors import UserError
from strawberry_dspy.export import ExportSettings, export
from strawberry_dspy.store import TraceStore
from tests.export.store_fixture import StoreBuilder, benchmark_problems, build_mixed_store

FAST = {"decontam_limit": 20}
WHOLE = (0.0, 1.0)  # every problem, always or never solved included (the default band keeps neither)


def one_sided_store(directory, correct: bool):
    b = StoreBuilder()
    for p in benchmark_problems("train", 2):
        b.problem(p.id, p.question, p.answer)
        b.add(p.id, ["s1", "s2"], p.answer if correct else "999")
        b.add(p.id, ["s1", "s3"], p.answer if correct else "998")
    return b.write(directory)


def no_leftovers(parent):
    return not [p for p in parent.iterdir() if ".tmp-" in p.name or ".old-" in p.name]


def test_missing_and_empty_stores(tmp_path):
    with pytest.raises(UserError, match="no harvest store"):
        export(tmp_path / "nowhere", ExportSettings(**FAST))
    TraceStore.create(tmp_path / "empty", {}).close()
    with pytest.raises(UserError, match="holds no finished traces"):
        export(tmp_path / "empty", ExportSettings(**FAST))
    b = StoreBuilder()
    p = benchmark_problems("train", 1)[0]
    b.problem(p.id, p.question, p.answer)
    b.add_failed(p.id)
    b.write(tmp_path / "failed")
    with pytest.raises(UserError, match=r"no finished traces \(1 failed\)"):
        export(tmp_path / "failed", ExportSettings(**FAST))
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "traces.sqlite").write_text("not a database")
    with pytest.raises(UserError, match="not a harvest store"):
        export(tmp_path / "junk", ExportSettings(**FAST))


def test_one_sided_stores_cannot_make_preference_data(tmp_path):
    one_sided_store(tmp_path / "right", correct=True)
    one_sided_store(tmp_path / "wrong", correct=False)
    with pytest.raises(UserError, match="DPO needs problems with both"):
        export(tmp_path / "right", ExportSettings(format="dpo", band=WHOLE, **FAST))
    with pytest.raises(UserError, match="KTO needs both correct and incorrect traces, got 4 correct and 0"):
        export(tmp_path / "right", ExportSettings(format="kto", band=WHOLE, **FAST))
    with pytest.raises(UserError, match="SFT needs correct traces"):
        export(tmp_path / "wrong", ExportSettings(format="sft", band=WHOLE, **FAST))
    with pytest.raises(UserError, match="verifier_every"):
        export(tmp_path / "right", ExportSettings(format="stepwise", band=WHOLE, **FAST))
    assert not (tmp_path / "right" / "exports").exists() and not (tmp_path / "wrong" / "exports").exists()


def test_band_that_selects_nothing(tmp_path):
    one_sided_store(tmp_path / "run", correct=True)
    with pytest.raises(UserError, match=r"--band 0.2 0.8 selects no problem \(pass rates from 1.00 to 1.00\)"):
        export(tmp_path / "run", ExportSettings(band=(0.2, 0.8), **FAST))


def test_an_export_that_decontamination_empties_says_so_and_never_advises_widening(tmp_path, capsys):
    b = StoreBuilder()
    for p in benchmark_problems("test", 2):  # a harvest of the test split: none of it may reach training data
        b.problem(p.id, p.question, p.answer, split="test")
        b.add(p.id, ["s1"], p.answer)
        b.add(p.id, ["s2"], "999")
    b.write(tmp_path / "run")
    assert cli_main(["export", str(tmp_path / "run"), "--band", "0", "1", "--decontam-limit", "20"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("error: decontamination removed all 2 problem(s) of the store (2 by split)")
    assert "train split" in line and "widen" not in line


def test_a_whole_band_advises_harvesting_more_not_widening(tmp_path):
    one_sided_store(tmp_path / "run", correct=True)
    with pytest.raises(UserError, match="DPO needs problems with both") as error:
        export(tmp_path / "run", ExportSettings(format="dpo", band=WHOLE, **FAST))
    assert "already keeps every problem: harvest more samples" in str(error.value) and "widen" not in str(error.value)
    with pytest.raises(UserError, match=r"widen --band \(pairs come from"):
        export(tmp_path / "run", ExportSettings(format="dpo", band=(0.5, 1.0), **FAST))


@pytest.mark.parametrize("settings, message", [
    ({"format": "orpo"}, "--format must be one of"), ({"band": (0.8, 0.2)}, "--band LO HI"),
    ({"resample": 2.0}, "--resample applies to --format dpo"), ({"max_pairs": 0}, "--max-pairs"),
    ({"eval_splits": ["dev"]}, "must include test"),
])
def test_bad_settings(tmp_path, settings, message):
    with pytest.raises(UserError, match=message):
        export(tmp_path, ExportSettings(**settings))


def test_existing_output_needs_overwrite_and_is_replaced_atomically(tmp_path):
    build_mixed_store(tmp_path / "run")
    out = tmp_path / "out"
    export(tmp_path / "run", ExportSettings(format="sft", **FAST), out)
    before = (out / "train.jsonl").read_text()
    with pytest.raises(UserError, match="already exists: pass --overwrite"):
        export(tmp_path / "run", ExportSettings(format="kto", **FAST), out)
    assert (out / "train.jsonl").read_text() == before
    export(tmp_path / "run", ExportSettings(format="kto", **FAST), out, overwrite=True)
    assert '"label"' in (out / "train.jsonl").read_text() and no_leftovers(tmp_path)


def test_a_failure_while_writing_leaves_nothing(tmp_path, monkeypatch):
    build_mixed_store(tmp_path / "run")
    from strawberry_dspy.export import writer

    def broken(rows):
        raise OSError("disk full")

    monkeypatch.setattr(writer, "to_dataset", broken)
    with pytest.raises(OSError):
        export(tmp_path / "run", ExportSettings(to="parquet", **FAST), tmp_path / "out")
    assert not (tmp_path / "out").exists() and no_leftovers(tmp_path)


def test_store_is_opened_read_only(tmp_path):
    build_mixed_store(tmp_path / "run")
    store = tmp_path / "run" / "traces.sqlite"
    before = (store.read_bytes(), sorted(p.name for p in (tmp_path / "run").iterdir()))
    store.chmod(0o444)
    (tmp_path / "run").chmod(0o555)
    try:
        report = export(tmp_path / "run", ExportSettings(band=WHOLE, **FAST), tmp_path / "out")
    finally:
        (tmp_path / "run").chmod(0o755)
    assert report.rows == 4
    assert (store.read_bytes(), sorted(p.name for p in (tmp_path / "run").iterdir())) == before


def test_push_to_hub_offline_is_one_user_error_and_keeps_the_local_export(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    build_mixed_store(tmp_path / "run")
    with pytest.raises(UserError, match="push to the Hub repo 'someone/strawberry' failed") as error:
        export(tmp_path / "run", ExportSettings(push_to_hub="someone/strawberry", **FAST), tmp_path / "out")
    assert "\n" not in str(error.value)
    assert (tmp_path / "out" / "train.jsonl").exists()


def test_cli_exports_and_reports(tmp_path, capsys):
    build_mixed_store(tmp_path / "run")
    code = cli_main(["export", str(tmp_path / "run"), "--format", "dpo", "--band", "0.1", "0.9", "--alpha", "2",
                     "--resample", "--decontam-limit", "20", "--to", "parquet"])
    out = capsys.readouterr().out
    assert code == 0 and "rows written to" in out
    counts = json.loads(out.split("\n\n")[0])
    assert counts["decontaminated"]["split"] == 2 and counts["pairs"] == 3
    assert (tmp_path / "run" / "exports" / "dpo-flat" / "train.parquet").exists()


def test_cli_user_errors_are_one_line_exit_2(tmp_path, capsys):
    build_mixed_store(tmp_path / "run")
    args = ["export", str(tmp_path / "run"), "--decontam-limit", "20"]
    assert cli_main(args) == 0
    capsys.readouterr()
    assert cli_main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: output") and "--overwrite" in err and err.count("\n") == 1
    assert cli_main(["export", str(tmp_path / "run"), "--format", "kto", "--resample"]) == 2
    assert "--resample applies to --format dpo" in capsys.readouterr().err
