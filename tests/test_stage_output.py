"""The output rule: what a command may replace or reopen, and that a refusal or a failure leaves every byte as it was."""

import os
from pathlib import Path

import pytest

from strawberry_dspy.errors import UserError
from strawberry_dspy.stage_output import (MARKER, OutputKind, check_replace, claim_dir, read_marker, remove_created,
                                          staged, write_file)

RUN = OutputKind("run", "run directory", ("summary.json",), frozenset({"summary.json", "run.log"}))
HARVEST = OutputKind("harvest", "harvest directory", ("traces.sqlite",))


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path under root with its bytes (None for a directory): what 'left intact' is compared by."""
    return {str(p.relative_to(root)): (None if p.is_dir() else p.read_bytes()) for p in sorted(root.rglob("*"))}


def write_run(folder: Path, text: str) -> Path:
    with staged(folder, RUN) as tmp:
        (tmp / "summary.json").write_text(text)
    return folder


def test_a_new_output_appears_whole_and_marked(tmp_path):
    out = write_run(tmp_path / "a" / "run", "one")
    assert (out / "summary.json").read_text() == "one"
    assert read_marker(out) == {"command": "run", "kind": "run directory", "names": ["summary.json"]}
    assert sorted(p.name for p in out.parent.iterdir()) == ["run"]  # no staging sibling left


def test_an_own_output_is_replaced_and_nothing_beside_it_is_touched(tmp_path):
    write_run(tmp_path / "run", "old")
    (tmp_path / "notes.txt").write_text("mine")
    write_run(tmp_path / "run", "new")
    assert (tmp_path / "run" / "summary.json").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "run"]
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_a_failure_while_writing_keeps_the_old_output_and_leaves_nothing(tmp_path):
    write_run(tmp_path / "run", "old")
    before = snapshot(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        with staged(tmp_path / "run", RUN) as tmp:
            (tmp / "summary.json").write_text("half")
            raise KeyboardInterrupt
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("make, message", [
    (lambda p: p.write_text("a user's file"), "is a file, not a run directory"),
    (lambda p: [(p / name).mkdir(parents=True) for name in ("run-a", "run-b")], "not a run directory"),
    (lambda p: (p.mkdir(), (p / "traces.sqlite").write_text("store"),
                (p / MARKER).write_text('{"command": "harvest", "kind": "harvest directory"}')),
     "harvest directory written by strawberry harvest"),
    (lambda p: (write_run(p, "ours"), (p / "notes.txt").write_text("added by the user")), r"did not write \(notes.txt\)"),
    (lambda p: (p.mkdir(), (p / "summary.json").write_text("{}"), (p / "paper.pdf").write_text("x")),
     r"did not write \(paper.pdf\)"),
])
def test_refused_outputs_are_left_byte_for_byte(tmp_path, make, message):
    out = tmp_path / "out"
    make(out)
    before = snapshot(tmp_path)
    with pytest.raises(UserError, match=message) as error:
        with staged(out, RUN):
            raise AssertionError("the work must not start")
    assert "\n" not in str(error.value)
    assert snapshot(tmp_path) == before


def test_a_run_directory_from_before_markers_is_recognised(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "summary.json").write_text("{}")
    (out / "run.log").write_text("log")
    write_run(out, "new")
    assert (out / "summary.json").read_text() == "new" and not (out / "run.log").exists()


def test_the_input_of_a_command_is_never_replaced(tmp_path):
    source = tmp_path / "harvest"
    source.mkdir()
    (source / "traces.sqlite").write_text("store")
    before = snapshot(tmp_path)
    for out in (source, tmp_path):  # the source itself, or a directory holding it
        with pytest.raises(UserError, match="the input of this run: it is never replaced"):
            check_replace(out, RUN, overwrite=True, sources=[source])
    assert snapshot(tmp_path) == before


def test_without_overwrite_any_existing_path_is_refused(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="already exists: pass --overwrite"):
        check_replace(tmp_path / "empty", RUN, overwrite=False)
    check_replace(tmp_path / "empty", RUN, overwrite=True)  # empty: nothing to lose


def test_claim_dir_reopens_its_own_and_refuses_anything_else(tmp_path):
    out = claim_dir(tmp_path / "h", HARVEST)
    (out / "traces.sqlite").write_text("store")
    (out / "pass_rates.png").write_text("plot")  # a resumable output may gain files (stats writes its plot there)
    assert claim_dir(out, HARVEST) == out
    legacy = tmp_path / "old"
    legacy.mkdir()
    (legacy / "traces.sqlite").write_text("store")
    claim_dir(legacy, HARVEST)
    assert read_marker(legacy)["command"] == "harvest"
    (tmp_path / "runs" / "some-run").mkdir(parents=True)
    (tmp_path / "file").write_text("x")
    write_run(tmp_path / "run", "x")
    before = snapshot(tmp_path)
    with pytest.raises(UserError, match="holds 1 item.* not a harvest directory .*pass another --out"):
        claim_dir(tmp_path / "runs", HARVEST)
    with pytest.raises(UserError, match="is a file"):
        claim_dir(tmp_path / "file", HARVEST)
    with pytest.raises(UserError, match="run directory written by strawberry run"):
        claim_dir(tmp_path / "run", HARVEST)
    assert snapshot(tmp_path) == before


def test_remove_created_deletes_only_the_names_given(tmp_path):
    out = claim_dir(tmp_path / "h", HARVEST)
    for name in ("traces.sqlite", "traces.sqlite-wal", "notes.txt"):
        (out / name).write_text(name)
    remove_created(out, ["traces.sqlite", "traces.sqlite-wal", "traces.sqlite-shm"])
    assert sorted(p.name for p in out.iterdir()) == sorted([MARKER, "notes.txt"])


def test_write_file_replaces_whole_or_not_at_all(tmp_path):
    path = write_file(tmp_path / "c.json", lambda tmp: tmp.write_text("one"))
    assert path.read_text() == "one"

    def broken(tmp):
        tmp.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError):
        write_file(path, broken)
    assert [p.name for p in tmp_path.iterdir()] == ["c.json"] and path.read_text() == "one"


def test_a_cache_entry_written_meanwhile_is_kept(tmp_path):
    kind = OutputKind("convert", "converted base model", ("card.json",))
    with staged(tmp_path / "entry", kind, keep_existing=True) as tmp:
        (tmp / "card.json").write_text("ours")
        with staged(tmp_path / "entry", kind, keep_existing=True) as other:
            (other / "card.json").write_text("first")
    assert (tmp_path / "entry" / "card.json").read_text() == "first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["entry"]


def test_a_file_the_project_adds_later_does_not_make_an_output_foreign(tmp_path):
    kind = OutputKind("train", "trained model", ("train_config.yaml",), added_later=("model-*.gguf",))
    with staged(tmp_path / "m", kind) as tmp:
        (tmp / "train_config.yaml").write_text("train: {}")
    (tmp_path / "m" / "model-1a2b.q8_0.gguf").write_bytes(b"GGUF")  # written when the model was first served
    check_replace(tmp_path / "m", kind, overwrite=True)
    (tmp_path / "m" / "weights-by-hand.bin").write_bytes(b"x")
    with pytest.raises(UserError, match=r"did not write \(weights-by-hand.bin\)"):
        check_replace(tmp_path / "m", kind, overwrite=True)


def test_a_killed_runs_half_written_sibling_is_removed_by_the_next_run(tmp_path):
    import subprocess
    import sys

    from strawberry_dspy.stage_output import OutputKind, staged

    kind = OutputKind("run", "run directory")
    out = tmp_path / "runs" / "mine"
    out.parent.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)  # a process that has exited
    left = out.parent / f".mine.tmp-{pid}-0123abcd"  # what a run killed mid-write leaves
    left.mkdir()
    (left / "results.jsonl").write_text("{}\n")
    mine = out.parent / ".mine.notes"  # hidden, but not of the pattern: the user's
    mine.write_text("keep")
    alive = out.parent / f".mine.tmp-{os.getpid()}-0123abcd"  # this process's own: still being written
    alive.mkdir()
    with staged(out, kind) as folder:
        (folder / "results.jsonl").write_text("{}\n")
    assert not left.exists() and mine.read_text() == "keep" and alive.is_dir() and (out / "results.jsonl").is_file()
