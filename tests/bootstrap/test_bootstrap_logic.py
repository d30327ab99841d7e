"""Bootstrap logic without a model: curriculum level-up, markers and resume order, identity, report, bad input."""

from __future__ import annotations

import json

import pytest

from strawberry_dspy.bootstrap import BootstrapSettings, loop, stages
from strawberry_dspy.bootstrap.curriculum import curriculum_of, level_of, next_level, with_level
from strawberry_dspy.bootstrap.report import format_rounds, plot_rounds
from strawberry_dspy.stats import wilson
from strawberry_dspy.cli import main as cli_main
from strawberry_dspy.errors import UserError
from strawberry_dspy.train.recipe import TrainSettings

EASY = "reasoning_gym:basic_arithmetic?min_terms=2&max_terms=2&max_digits=1&seed=7"


def test_level_up_moves_one_level_and_drops_the_options_the_curriculum_sets():
    assert curriculum_of(EASY).fields >= {"min_terms", "max_terms", "max_digits"}
    assert level_of(EASY) == 0  # no level= counts as level 0
    assert level_of("reasoning_gym:basic_arithmetic?level=2") == 2
    up = next_level(EASY, accuracy=0.85, threshold=0.8)
    assert up.leveled_up and up.level == 1 and up.benchmark == "reasoning_gym:basic_arithmetic?seed=7&level=1"
    assert "level up to 1" in up.note
    from strawberry_dspy.benchmarks import load_benchmark

    config = load_benchmark(up.benchmark).config  # the level now sets the difficulty
    assert (config.max_terms, config.max_digits, config.seed) == (3, 2, 7)


def test_level_stays_at_or_below_the_threshold_and_at_the_top():
    stay = next_level(EASY, accuracy=0.8, threshold=0.8)
    assert not stay.leveled_up and stay.benchmark == EASY and stay.level == 0
    top = curriculum_of(EASY).top
    at_top = next_level(f"reasoning_gym:basic_arithmetic?level={top}", 1.0, 0.5)
    assert not at_top.leveled_up and at_top.level == top and "top level" in at_top.note
    flat = next_level("jsonl:/data/x.jsonl", 1.0, 0.5)
    assert flat == type(flat)("jsonl:/data/x.jsonl", None, False, "no curriculum: same problems")
    assert with_level("jsonl:/data/x.jsonl", 3) == "jsonl:/data/x.jsonl" and level_of("jsonl:/x.jsonl") is None


def test_wilson_interval():
    lo, hi = wilson(31, 100)
    assert lo == pytest.approx(0.2278, abs=1e-3) and hi == pytest.approx(0.4063, abs=1e-3)
    assert wilson(0, 10)[0] == 0.0 and wilson(10, 10)[1] == 1.0 and wilson(0, 0) == (0.0, 1.0)


def test_trainable_rule_per_method():
    assert stages._trainable([], "dpo") == "no problem in the band"
    assert "both a correct and an incorrect" in stages._trainable([(4, 4), (0, 4)], "dpo")
    assert stages._trainable([(1, 4)], "dpo") is None
    assert stages._trainable([(0, 4)], "sft") == "no correct trace in the band"
    assert stages._trainable([(4, 4), (0, 4)], "kto") is None


def _settings(tmp_path, **changes) -> BootstrapSettings:
    program = tmp_path / "p.yaml"
    if not program.exists():
        program.write_text("program: zero_shot\n")
    values = dict(program=str(program), benchmark="jsonl:/nowhere.jsonl", recipe=TrainSettings(), rounds=2)
    return BootstrapSettings(**{**values, **changes})


def _fake_stages(monkeypatch, calls, fail_at: set | None = None):
    """Stages that record their call and return markers shaped like the real ones (the loop's logic alone)."""
    real_plan = stages.stage_plan

    def make(name):
        def stage(ctx):
            if fail_at and name in fail_at:
                raise KeyboardInterrupt
            calls.append((ctx.number, name, ctx.model))
            if name.startswith("export-"):
                return {"rows": 3, "pairs": 3, "format": name[7:]}
            if name == "baseline" or name.startswith(("eval-", "dev-")):
                arm = name.partition("-")[2]
                accuracy = {"rft": 0.5, "dpo": 0.25}.get(arm, 0.25)
                return {"model": ctx.model, "correct": 1, "problems": 4, "accuracy": accuracy, "completion_tokens": 10}
            if name.startswith("train-"):
                return {"model": f"hf:model-{ctx.number}-{name[6:]}", "steps": [{"steps": 2}], "trained": True}
            if name == "harvest":
                return {"in_band": 2, "problems": 3, "completion_tokens": 50}
            if name == "advance":
                best = max(ctx.arms, key=lambda a: ctx.done[f"dev-{a}"]["accuracy"])
                return {"arm": best, "model": ctx.done[f"train-{best}"]["model"], "benchmark": ctx.benchmark,
                        "level": None, "note": "same"}
            return {}
        return stage

    monkeypatch.setattr(stages, "stage_plan", lambda ctx: [(name, make(name)) for name, _ in real_plan(ctx)])
    monkeypatch.setattr(loop, "start_model", lambda spec: spec)
    monkeypatch.setattr(loop, "require_train_extra", lambda **_: None, raising=False)


def test_resume_runs_only_the_unfinished_stages_and_chains_the_models(tmp_path, monkeypatch):
    """Logic only (stages replaced by recorders); the real stages are resumed in test_bootstrap_round.py."""
    data = tmp_path / "q.jsonl"
    data.write_text("".join(json.dumps({"question": f"What is {i} + 1?", "answer": str(i + 1)}) + "\n" for i in range(60)))
    settings = _settings(tmp_path, benchmark=f"jsonl:{data}", limit=2, eval_limit=2, dev_limit=2, arms="dpo,rft")
    calls = []
    _fake_stages(monkeypatch, calls, fail_at={"export-dpo"})
    with pytest.raises(KeyboardInterrupt):
        loop.bootstrap(settings, tmp_path / "out", progress=False)
    assert [c[1] for c in calls] == ["compile", "baseline", "harvest"]
    assert (tmp_path / "out/round-1/harvest/done.json").is_file()
    assert not (tmp_path / "out/round-1/export-dpo/done.json").exists()

    _fake_stages(monkeypatch, calls)
    calls.clear()
    result = loop.bootstrap(settings, tmp_path / "out", progress=False)
    assert result.ran[:9] == [(1, "export-dpo"), (1, "export-sft"), (1, "train-dpo"), (1, "dev-dpo"), (1, "eval-dpo"),
                              (1, "train-rft"), (1, "dev-rft"), (1, "eval-rft"), (1, "advance")]
    # round 2 continues only the arm best on dev (rft), from its model
    assert [c[1] for c in calls if c[0] == 2] == ["compile", "baseline", "harvest", "export-sft", "train-rft",
                                                  "dev-rft", "eval-rft", "advance"]
    assert {c[2] for c in calls if c[0] == 2} == {"hf:model-1-rft"}
    round_two = json.loads((tmp_path / "out/round-2/round.json").read_text())
    assert round_two["model"] == "hf:model-1-rft" and round_two["arms"] == ["rft"]
    assert result.model == "hf:model-2-rft" and (tmp_path / "out/rounds.md").is_file()
    marker = json.loads((tmp_path / "out/round-1/harvest/done.json").read_text())
    assert marker["cpu_s"] >= 0 and marker["wall_s"] >= 0
    calls.clear()
    assert loop.bootstrap(settings, tmp_path / "out", progress=False).ran == [] and calls == []  # all done


def test_unknown_arm_is_one_line(tmp_path):
    from strawberry_dspy.errors import UserError

    with pytest.raises(UserError, match="unknown arm 'ppo'"):
        _settings(tmp_path, arms="rft,ppo").validate()


def test_a_directory_of_another_setup_is_refused_and_fresh_clears_it(tmp_path):
    out = tmp_path / "out"
    (out / "round-1").mkdir(parents=True)
    with pytest.raises(UserError, match="not from this loop.*--fresh"):
        loop.check_identity(out, _settings(tmp_path), fresh=False, command=None)
    loop.check_identity(out, _settings(tmp_path), fresh=True, command="strawberry bootstrap x")
    assert not (out / "round-1").exists() and (out / "bootstrap.json").is_file()
    with pytest.raises(UserError, match=r"another setup \(benchmark .*--out.*--fresh") as error:
        loop.check_identity(out, _settings(tmp_path, benchmark="jsonl:/other.jsonl"), fresh=False, command=None)
    assert "\n" not in str(error.value)
    loop.check_identity(out, _settings(tmp_path, rounds=5), fresh=False, command=None)  # more rounds: same loop


def test_a_moved_program_with_the_same_text_resumes_and_an_edited_one_is_refused(tmp_path):
    out = tmp_path / "out"
    loop.check_identity(out, _settings(tmp_path), fresh=False, command=None)
    stored = json.loads((out / "bootstrap.json").read_text())
    stored["identity"]["program"] = "/elsewhere/checkout/p.yaml"  # an older loop stored the absolute path
    (out / "bootstrap.json").write_text(json.dumps(stored))
    moved = tmp_path / "moved"
    moved.mkdir()
    (moved / "p.yaml").write_text((tmp_path / "p.yaml").read_text())
    loop.check_identity(out, _settings(tmp_path, program=str(moved / "p.yaml")), fresh=False, command=None)
    (moved / "p.yaml").write_text("program: cot\n")
    with pytest.raises(UserError, match="another setup \\(program_text_sha1"):
        loop.check_identity(out, _settings(tmp_path, program=str(moved / "p.yaml")), fresh=False, command=None)


def _run_dir(path, correct: list[bool]):
    path.mkdir(parents=True)
    (path / "results.jsonl").write_text("".join(json.dumps({"problem_id": f"p{i}", "correct": c}) + "\n"
                                                for i, c in enumerate(correct)))
    return str(path)


def test_round_table_and_plot(tmp_path):
    settings = _settings(tmp_path, limit=32, samples=8, eval_limit=100, temperature=1.0, arms="rft,dpo")
    before_run = _run_dir(tmp_path / "before", [True] * 6 + [True] * 11 + [False] * 17 + [False] * 66)
    after_run = _run_dir(tmp_path / "after", [True] * 6 + [False] * 11 + [True] * 17 + [False] * 66)
    entry = {"round": 1, "model": "hf:a", "benchmark": EASY, "level": 0, "arms": ["rft", "dpo"],
             "compile": {"wall_s": 0, "cpu_s": 0}, "baseline": {"correct": 17, "problems": 100, "accuracy": 0.17,
                                                              "run": before_run, "cpu_s": 60,
                                                              "trivial": {"always '-1'": 0.07}},
             "harvest": {"in_band": 20, "problems": 32, "cpu_s": 600},
             "export-sft": {"rows": 40, "format": "sft", "cpu_s": 1}, "export-dpo": {"rows": 0, "format": "dpo",
                                                                                  "no_data": "none", "cpu_s": 1},
             "train-rft": {"model": "hf:b", "steps": [{"steps": 20}], "trained": True, "cpu_s": 300},
             "dev-rft": {"accuracy": 0.3, "cpu_s": 30},
             "eval-rft": {"correct": 23, "problems": 100, "accuracy": 0.23, "run": after_run, "cpu_s": 60},
             "train-dpo": {"model": "hf:a", "steps": [{"skipped": "no dpo data"}], "trained": False, "cpu_s": 0},
             "dev-dpo": {"accuracy": 0.2, "cpu_s": 30},
             "eval-dpo": {"correct": 17, "problems": 100, "accuracy": 0.17, "run": before_run, "reused": "baseline"},
             "advance": {"arm": "rft", "model": "hf:b", "note": "rft continues (best on dev); stays at level 0"}}
    text = format_rounds([entry], settings)
    assert "17.0% [10.9%, 25.5%] (n=100)" in text and "23.0% [15.8%, 32.2%] (n=100)" in text
    assert "20/32" in text and "40 sft, 0 dpo" in text and "rft continues" in text and "always '-1' 7.0%" in text
    assert "+6.0 pts [" in text and "same model" in text  # paired on the same problems
    assert "18 min" in text  # CPU of rft's stages and the shared ones: 60+600+1+1+300+30+60 s = 17.5 min
    import matplotlib.image
    import matplotlib.pyplot as plt

    with plt.style.context("ggplot"):  # a style left behind by another stage's plots does not leak in
        png = plot_rounds([entry], tmp_path / "rounds.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert matplotlib.image.imread(str(png))[120, 700, :3].tolist() == [1.0, 1.0, 1.0]  # inside the axes: white, not grey


@pytest.mark.parametrize("argv, message", [
    (["programs/nope.yaml"], "program not found: 'programs/nope.yaml'"),
    (["programs/cot.yaml", "--rounds", "0"], "--rounds must be a whole number >= 1, got 0"),
    (["programs/cot.yaml", "--band", "0.9", "0.1"], "--band 0.9 0.1 is not a range"),
    (["programs/cot.yaml", "--level-up-at", "2"], "--level-up-at must be an accuracy in [0, 1], got 2.0"),
    (["programs/cot.yaml", "--strawberry.nope=1"], "nope"),
    (["programs/cot.yaml", "--train.nope=1"], "nope"),
    (["programs/cot.yaml", "--train-recipe", "missing.yaml"], "train recipe not found"),
    (["programs/cot.yaml", "--benchmark", "reasoning_gym:no_such_task"], "unknown reasoning_gym task"),
])
def test_bad_input_is_one_line_and_exit_2(argv, message, capsys, tmp_path):
    assert cli_main(["bootstrap", *argv, "--out", str(tmp_path / "out"), "--no-compile"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and message in err and "\n" not in err
    assert not (tmp_path / "out" / "round-1").exists()


def test_compiled_program_with_compile_is_refused(tmp_path, capsys):
    compiled = tmp_path / "compiled.json"
    compiled.write_text("{}")
    settings = _settings(tmp_path, program=str(compiled), compile_budget=2)
    with pytest.raises(UserError, match="already compiled.*--no-compile"):
        settings.validate()


def test_another_setup_in_out_is_one_line_from_the_cli(tmp_path, capsys):
    out = tmp_path / "out"
    loop.write_json(out / "bootstrap.json", {"identity": {"benchmark": "jsonl:/else.jsonl"}})
    assert cli_main(["bootstrap", "programs/cot.yaml", "--out", str(out), "--no-compile"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {out} holds a bootstrap of another setup") and "--fresh" in err and "\n" not in err


def test_a_second_bootstrap_into_the_same_directory_is_refused(tmp_path, monkeypatch):
    data = tmp_path / "q.jsonl"
    data.write_text("".join(json.dumps({"question": f"What is {i} + 2?", "answer": str(i + 2)}) + "\n" for i in range(40)))
    settings = _settings(tmp_path, benchmark=f"jsonl:{data}", limit=2, eval_limit=2, dev_limit=2)
    _fake_stages(monkeypatch, [])
    (tmp_path / "out").mkdir()
    held = loop.lock_out(tmp_path / "out")
    try:
        with pytest.raises(UserError, match="another strawberry bootstrap is running in .*out; wait for it"):
            loop.bootstrap(settings, tmp_path / "out", progress=False)
        assert not (tmp_path / "out/bootstrap.json").exists()
    finally:
        held.close()
    assert loop.bootstrap(settings, tmp_path / "out", progress=False).model == "hf:model-2-dpo"  # free again


@pytest.mark.parametrize("factor", [0.0, 4.0])
def test_the_step_weights_reach_what_dpo_trains_on(tmp_path, factor):
    """The bootstrap's DPO data repeats each pair in proportion to the seed's step weight (shorter correct and longer
    incorrect traces weigh more), so the weights change what the trainer reads; --resample 0 trains each pair once."""
    from strawberry_dspy.train.data import load_export
    from tests.export.store_fixture import build_mixed_store

    build_mixed_store(tmp_path / "h")
    settings = _settings(tmp_path, band=(0.0, 1.0), resample=factor, eval_limit=50, dev_limit=50)
    settings.validate()
    ctx = stages.RoundContext(settings, 1, tmp_path / "round-1", "local", settings.benchmark, None, progress=False,
                              done={"harvest": {"dir": str(tmp_path / "h")}}, arms=["dpo"])
    marker = stages.export_stage(ctx, "dpo")
    rows = load_export(marker["data"], "dpo").to_list()
    counts: dict = {}
    for row in rows:
        key = (row["chosen_trace_id"], row["rejected_trace_id"])
        counts[key] = counts.get(key, 0) + 1
    weights = {(r["chosen_trace_id"], r["rejected_trace_id"]): r["weight"] for r in rows}
    assert len(set(weights.values())) > 1  # the pairs really weigh differently
    if factor:
        assert all(abs(n - factor * weights[key]) < 1 for key, n in counts.items())
        heavy, light = max(weights, key=weights.get), min(weights, key=weights.get)
        assert counts[heavy] > counts[light]
    else:
        assert set(counts.values()) == {1}


def test_the_rft_checked_arm_trains_rft_on_the_traces_whose_steps_hold(tmp_path, monkeypatch):
    """rft-checked: its own export (export-sft-checked, correct traces through a wrong step left out), trained as rft."""
    from strawberry_dspy.train import trainer
    from strawberry_dspy.train.convert import MODEL_CARD
    from tests.export.test_export_steps import store

    store(tmp_path / "h")
    settings = _settings(tmp_path, band=(0.0, 1.0), eval_limit=50, dev_limit=50, arms="rft-checked")
    settings.validate()
    ctx = stages.RoundContext(settings, 1, tmp_path / "round-1", "local", settings.benchmark, None, progress=False,
                              done={"harvest": {"dir": str(tmp_path / "h")}}, arms=["rft-checked"])
    assert [name for name, _ in stages.stage_plan(ctx)][3:5] == ["export-sft-checked", "train-rft-checked"]
    ctx.done["export-sft-checked"] = marker = stages.export_stage(ctx, "sft-checked")
    assert marker["rows"] == 2 and marker["steps_wrong"] == 1 and marker["format"] == "sft"
    trained = []

    def fake_train(recipe, data, out, overwrite=False):
        trained.append((recipe.method, data))
        out.mkdir(parents=True)
        (out / MODEL_CARD).write_text(json.dumps({"rows": 2, "steps": 1, "train_loss": 1.0, "train_s": 0.1}))
        return out

    monkeypatch.setattr(trainer, "train", fake_train)
    result = stages.train_stage(ctx, "rft-checked")
    assert trained == [("rft", marker["data"])] and result["trained"]


def test_a_round_resumed_after_the_program_moved_reads_it_where_it_is_now(tmp_path):
    """A skipped compile's marker names the recipe where it was; the loop reads its own program (same text)."""
    data = tmp_path / "q.jsonl"
    data.write_text("".join(json.dumps({"question": f"What is {i} + 1?", "answer": str(i + 1)}) + "\n" for i in range(9)))
    settings = _settings(tmp_path, benchmark=f"jsonl:{data}")
    ctx = stages.RoundContext(settings, 1, tmp_path / "round-1", "openai/stub", settings.benchmark, None,
                              progress=False, done={"compile": {"skipped": "--no-compile",
                                                                "program": str(tmp_path / "gone" / "p.yaml")}})
    config, _ = stages.round_program(ctx, "train", 2)
    assert config.program == "zero_shot" and config.split == "train"
