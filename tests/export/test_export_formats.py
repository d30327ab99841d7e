"""Each format from a realistic store: the rows TRL documents, loadable with `datasets`, accepted by trl.data_utils."""

import json

import pytest
import yaml

from strawberry_dspy.export import ExportSettings, export
from strawberry_dspy.export.writer import DATA_FILES
from strawberry_dspy.stage_output import MARKER
from tests.export.store_fixture import build_mixed_store, chatml_tokenizer


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    directory = tmp_path_factory.mktemp("run")
    ids = build_mixed_store(directory)
    return directory, ids


def run_export(store, tmp_path, **settings):
    directory, _ = store
    settings.setdefault("band", (0.0, 1.0))  # the whole store: these tests are about formats (the default band drops 0 and 1)
    report = export(directory, ExportSettings(decontam_limit=50, **settings), tmp_path / "out")
    rows = [json.loads(line) for line in (report.out / "train.jsonl").read_text().splitlines()] \
        if report.out.joinpath("train.jsonl").exists() else None
    return report, rows


def load_back(out, to):
    import datasets

    if to == "disk":
        return datasets.load_from_disk(str(out / DATA_FILES["disk"]))
    kind = "json" if to == "jsonl" else "parquet"
    return datasets.load_dataset(kind, data_files=str(out / DATA_FILES[to]), split="train")


def test_sft_rows_are_correct_traces_once_each(store, tmp_path):
    report, rows = run_export(store, tmp_path, format="sft")
    ids = store[1]
    assert report.counts["failed_skipped"] == 1 and report.counts["duplicates_dropped"] == 1
    assert [r["problem_id"] for r in rows].count(ids["mixed"]) == 1  # the duplicate correct trace kept once
    assert {r["problem_id"] for r in rows} == {ids["mixed"], ids["hard"], ids["easy"]}
    assert len(rows) == 4 and set(rows[0]) == {"prompt", "completion", "problem_id", "trace_id"}
    assert all(r["completion"][0]["content"].endswith("</final_answer>") for r in rows)
    _, messages = run_export(store, tmp_path / "m", format="sft", sft_form="messages", style="turns")
    assert set(messages[0]) == {"messages", "problem_id", "trace_id"}
    assert [m["role"] for m in messages[0]["messages"][:3]] == ["system", "user", "assistant"]


def test_dpo_pairs_correct_against_incorrect_with_step_weights(store, tmp_path):
    report, rows = run_export(store, tmp_path, format="dpo")
    ids = store[1]
    assert report.stats["pairs"] == len(rows) == 3  # mixed: 1 x 1, hard: 1 x 2; easy/never have no pairs
    assert {r["problem_id"] for r in rows} == {ids["mixed"], ids["hard"]}
    assert set(rows[0]) == {"prompt", "chosen", "rejected", "weight", "problem_id", "chosen_trace_id",
                            "rejected_trace_id", "chosen_steps", "rejected_steps"}
    by_steps = {(r["chosen_steps"], r["rejected_steps"]): r["weight"] for r in rows}
    assert by_steps[(2, 5)] > by_steps[(3, 6)] > by_steps[(3, 2)]
    assert sum(by_steps.values()) == pytest.approx(3.0, abs=1e-5)
    assert all("999" not in r["chosen"][0]["content"] and r["prompt"][0]["role"] == "user" for r in rows)
    _, flat = run_export(store, tmp_path / "none", format="dpo", weighting="none")
    assert {r["weight"] for r in flat} == {1.0}


def test_dpo_resampling_repeats_rows_by_weight(store, tmp_path):
    report, rows = run_export(store, tmp_path, format="dpo", resample=4.0)
    assert report.stats["resampled_rows"] == len(rows)
    counts = {}
    for r in rows:
        counts[(r["chosen_trace_id"], r["rejected_trace_id"])] = counts.get((r["chosen_trace_id"], r["rejected_trace_id"]), 0) + 1
    weights = {(r["chosen_trace_id"], r["rejected_trace_id"]): r["weight"] for r in rows}
    for pair, count in counts.items():
        assert abs(count - 4.0 * weights[pair]) < 1
    assert "do not also apply the `weight` column" in (report.out / "README.md").read_text()


def test_kto_labels_and_class_balance(store, tmp_path):
    report, rows = run_export(store, tmp_path, format="kto")
    assert (report.stats["desirable"], report.stats["undesirable"]) == (4, 5) and len(rows) == 9
    assert all(isinstance(r["label"], bool) for r in rows)
    assert all(("<final_answer>99" in r["completion"][0]["content"]) != r["label"] for r in rows)  # 99x: wrong
    assert "4 desirable, 5 undesirable" in (report.out / "README.md").read_text()


def test_stepwise_labels_come_from_verifier_verdicts(store, tmp_path):
    report, rows = run_export(store, tmp_path, format="stepwise")
    by_steps = {tuple(r["completions"]): r["labels"] for r in rows}
    assert by_steps[("first", "second")] == [True, True]
    assert by_steps[("x", "y")] == [True, True]  # step 3 no verdict covers: cut
    assert by_steps[("a", "b", "c", "d")] == [True, True, False, False]
    assert by_steps[("p", "q", "r", "s", "t", "u")] == [True, True, False, False, False, False]
    assert all(isinstance(r["prompt"], str) and len(r["completions"]) == len(r["labels"]) for r in rows)
    assert "not gold labels" in (report.out / "README.md").read_text()


def test_band_keeps_barely_solvable_problems(store, tmp_path):
    ids = store[1]
    report, rows = run_export(store, tmp_path, format="kto", band=(0.3, 0.7))
    assert report.counts["problems_in_band"] == 2
    assert {r["problem_id"] for r in rows} == {ids["mixed"], ids["hard"]}


@pytest.mark.parametrize("to", ["jsonl", "parquet", "disk"])
@pytest.mark.parametrize("fmt", ["sft", "dpo", "kto", "stepwise"])
def test_every_format_loads_back_with_datasets(store, tmp_path, fmt, to):
    report, _ = run_export(store, tmp_path, format=fmt, to=to, style="turns" if fmt == "kto" else "flat")
    dataset = load_back(report.out, to)
    assert len(dataset) == report.rows
    columns = {"sft": {"prompt", "completion"}, "dpo": {"prompt", "chosen", "rejected", "weight"},
               "kto": {"prompt", "completion", "label"}, "stepwise": {"prompt", "completions", "labels"}}[fmt]
    assert columns <= set(dataset.column_names)
    row = dataset[0]
    if fmt == "stepwise":
        assert isinstance(row["prompt"], str) and all(isinstance(c, str) for c in row["completions"])
        assert all(isinstance(label, bool) for label in row["labels"])
    else:
        assert all(set(m) == {"role", "content"} for m in row["prompt"])
    files = sorted(p.name for p in report.out.iterdir())
    assert files == sorted(["README.md", "export.yaml", DATA_FILES[to], MARKER])


def test_card_and_config_carry_provenance(store, tmp_path):
    report, _ = run_export(store, tmp_path, format="dpo", band=(0.2, 0.8), alpha=2.0)
    card = (report.out / "README.md").read_text()
    front = yaml.safe_load(card.split("---")[1])
    assert "trl" in front["tags"] and front["configs"][0]["data_files"][0]["path"] == "train.jsonl"
    for needle in ("strawberry", "abc123", "dummy", "reasoning_gym:basic_arithmetic", "[0.2, 0.8]", "alpha 2.0",
                   '"rows": 3', '"datasets"', '"harvest"', "loss covers"):
        assert needle in card, needle
    config = yaml.safe_load((report.out / "export.yaml").read_text())
    assert config["format"] == "dpo" and config["band"] == [0.2, 0.8] and config["alpha"] == 2.0
    assert config["store"].endswith("traces.sqlite")


def test_local_dataset_folder_loads_by_its_card(store, tmp_path):
    import datasets

    report, _ = run_export(store, tmp_path, format="sft", to="parquet")
    assert len(datasets.load_dataset(str(report.out), split="train")) == report.rows


@pytest.mark.slow  # waits on real time or round-trips through TRL / the Hub: out of the quick loop
@pytest.mark.parametrize("fmt", ["sft", "dpo", "kto"])
@pytest.mark.parametrize("style", ["flat", "turns"])
def test_trl_reads_the_conversational_formats(store, tmp_path, fmt, style):
    data_utils = pytest.importorskip("trl.data_utils")
    tokenizer = chatml_tokenizer()
    _, rows = run_export(store, tmp_path, format=fmt, style=style)
    for row in rows:
        assert data_utils.is_conversational(row)
        out = data_utils.maybe_apply_chat_template(row, tokenizer)
        assert out["prompt"].endswith("<|im_start|>assistant\n")
        for side in ("completion", "chosen", "rejected"):
            if side in row:
                whole = tokenizer.apply_chat_template(row["prompt"] + row[side], tokenize=False)
                assert out["prompt"] + out[side] == whole  # the split point is exactly the prompt
                assert out[side].rstrip().endswith("</final_answer><|im_end|>")
        if fmt == "kto":
            assert out["label"] == row["label"]


def test_trl_sees_stepwise_as_standard_and_messages_as_language_modeling(store, tmp_path):
    data_utils = pytest.importorskip("trl.data_utils")
    _, rows = run_export(store, tmp_path, format="stepwise")
    assert not data_utils.is_conversational(rows[0])
    _, rows = run_export(store, tmp_path / "m", format="sft", sft_form="messages")
    out = data_utils.maybe_apply_chat_template(rows[0], chatml_tokenizer())
    assert out["text"].startswith("<|im_start|>user\n") and "</final_answer>" in out["text"]
