"""Real bootstrap rounds on the embedded model (CPU): harvest, DPO export, 2-step training, held-out eval.

Tiny on purpose: zero_shot answers (16 tokens) to one-digit additions, which SmolLM2-135M gets right about
two times in three at temperature 1.0, so a 3-problem x 4-sample harvest yields DPO pairs.
"""

from __future__ import annotations

import json

import pytest

pytest.importorskip("trl")
pytestmark = [pytest.mark.train, pytest.mark.integration]

from strawberry_dspy.bootstrap import BootstrapSettings, bootstrap, stages  # noqa: E402
from strawberry_dspy.train.recipe import load_recipe  # noqa: E402

TINY_TRAIN = {"max_steps": 2, "max_length": 128, "gradient_accumulation_steps": 1, "warmup_ratio": 0.0,
              "learning_rate": 1e-5}


def write_benchmark(path, answer=lambda a, b: str(a + b)):
    rows = [{"question": f"What is {a} + {b}?", "answer": answer(a, b)} for a in range(1, 6) for b in range(1, 6)]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return f"jsonl:{path}"


def tiny_settings(benchmark: str, rounds: int) -> BootstrapSettings:
    return BootstrapSettings(program="programs/zero_shot.yaml", benchmark=benchmark, rounds=rounds,
                             recipe=load_recipe("programs/train_dpo.yaml", TINY_TRAIN), samples=4, limit=3,
                             eval_limit=3, eval_samples=1, dev_limit=3, temperature=1.0, compile_budget=0,
                             overrides={"concurrency": 1, "baseline": {"max_tokens": 16}})


@pytest.fixture(scope="module")
def interrupted_then_resumed(tmp_path_factory):
    """Two rounds, interrupted right after round 2's harvest (Ctrl-C at the export), then rerun to the end."""
    folder = tmp_path_factory.mktemp("bootstrap")
    settings = tiny_settings(write_benchmark(folder / "easy.jsonl"), rounds=2)
    out = folder / "out"
    real_export = stages.export_stage

    def export_then_ctrl_c_in_round_2(ctx, fmt):
        if ctx.number == 2:
            raise KeyboardInterrupt
        return real_export(ctx, fmt)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(stages, "export_stage", export_then_ctrl_c_in_round_2)
        with pytest.raises(KeyboardInterrupt):
            bootstrap(settings, out, progress=False)
    markers_before = sorted(p.relative_to(out).as_posix() for p in out.glob("round-*/*/done.json"))
    result = bootstrap(settings, out, progress=False)
    return out, markers_before, result


STAGES = ["compile", "baseline", "harvest", "export-dpo", "train-dpo", "dev-dpo", "eval-dpo", "advance"]


def marker(out, number, stage):
    return json.loads((out / f"round-{number}" / stage / "done.json").read_text())


def test_every_stage_writes_its_artifact_and_marker(interrupted_then_resumed):
    out, _, result = interrupted_then_resumed
    for number in (1, 2):
        assert all((out / f"round-{number}" / stage / "done.json").is_file() for stage in STAGES)
        harvest, export, train = (marker(out, number, s) for s in ("harvest", "export-dpo", "train-dpo"))
        assert (out / f"round-{number}/harvest/traces.sqlite").is_file() and harvest["traces"] == 12
        assert export["pairs"] > 0 and (out / f"round-{number}/export-dpo/data/train.jsonl").is_file()
        assert train["steps"][0]["steps"] == 2 and (out / f"round-{number}/train-dpo/model-dpo/config.json").is_file()
        assert list((out / f"round-{number}/train-dpo/model-dpo").glob("model-*.q8_0.gguf"))
        summary = json.loads((out / f"round-{number}/eval-dpo/run/summary.json").read_text())
        assert summary["problems"] == 3 and marker(out, number, "eval-dpo")["model"] == train["model"]
        assert marker(out, number, "eval-dpo")["test_reads"] == 1 and marker(out, number, "dev-dpo")["test_reads"] == 0
    assert (out / "round-1/baseline/run/summary.json").is_file()
    assert "round" in (out / "rounds.md").read_text() and (out / "rounds.png").read_bytes()[:4] == b"\x89PNG"
    assert result.model == marker(out, 2, "train-dpo")["model"]


def test_round_2_starts_from_round_1s_trained_model(interrupted_then_resumed):
    out, _, _ = interrupted_then_resumed
    trained = marker(out, 1, "train-dpo")["model"]
    assert trained == f"hf:{(out / 'round-1/train-dpo/model-dpo').resolve()}"
    assert json.loads((out / "round-2/round.json").read_text())["model"] == trained
    assert marker(out, 1, "advance")["model"] == trained
    # the traces of round 2 were sampled from the trained model, and its before figure is round 1's after
    from strawberry_dspy.store import TraceStore

    with TraceStore.open(out / "round-2/harvest", readonly=True) as store:
        assert {row[0] for row in store.conn.execute("SELECT DISTINCT model FROM traces")} == {trained}
    assert marker(out, 2, "baseline")["reused"] == "round-1/eval-dpo"
    assert marker(out, 2, "baseline")["accuracy"] == marker(out, 1, "eval-dpo")["accuracy"]


def test_rerun_after_an_interrupt_runs_only_the_remaining_stages(interrupted_then_resumed):
    out, markers_before, result = interrupted_then_resumed
    assert markers_before == sorted([f"round-1/{s}/done.json" for s in STAGES]
                                    + [f"round-2/{s}/done.json" for s in ("compile", "baseline", "harvest")])
    assert result.ran == [(2, s) for s in STAGES[3:]]


def test_a_compiled_round_without_pairs_carries_the_model_forward(tmp_path):
    """All answers wrong (an unreachable gold answer): 'no pairs' is recorded and the round still completes.

    This round also compiles (a 1-trial search), and its harvest and evaluations run the compiled program.
    """
    settings = tiny_settings(write_benchmark(tmp_path / "hard.jsonl", answer=lambda a, b: "unreachable-gold"), rounds=1)
    settings.samples, settings.limit, settings.eval_limit, settings.dev_limit, settings.compile_budget = 2, 2, 2, 2, 1
    result = bootstrap(settings, tmp_path / "out", progress=False)
    compiled = marker(result.out, 1, "compile")["program"]
    assert compiled == str(result.out / "round-1/compile/compiled.json") and (result.out / "round-1/compile/report.md").is_file()
    from strawberry_dspy.harvest.harvest_dir import program_hash
    from strawberry_dspy.store import TraceStore

    ctx = stages.RoundContext(settings, 1, result.out / "round-1", result.rounds[0]["model"], settings.benchmark, None,
                              done={"compile": marker(result.out, 1, "compile")})
    config, program = stages.round_program(ctx, "train", settings.limit, temperature=settings.temperature)
    assert type(program).__name__ == "ZeroShot" and config.model == result.rounds[0]["model"]
    with TraceStore.open(result.out / "round-1/harvest", readonly=True) as store:  # harvested with the compiled program
        assert store.meta()["program_hash"] == program_hash(config, program)
    export, train, evaluation = (marker(result.out, 1, s) for s in ("export-dpo", "train-dpo", "eval-dpo"))
    assert export["rows"] == 0 and "no problem in the band" in export["no_data"]
    assert train["skipped"].startswith("no dpo data") and train["model"] == result.rounds[0]["model"]
    assert evaluation["reused"].startswith("baseline") and result.model == result.rounds[0]["model"]
    assert not (result.out / "round-1/train-dpo/model-dpo").exists()
    assert "0 dpo" in (result.out / "rounds.md").read_text()
