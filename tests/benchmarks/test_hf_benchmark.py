"""hf:<dataset> — loads what is on this machine and never reaches for the network."""

import json

import pytest

from strawberry_dspy.benchmarks import load_benchmark
from strawberry_dspy.errors import UserError


@pytest.fixture
def offline_cache(tmp_path, monkeypatch):
    datasets = pytest.importorskip("datasets")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)  # the benchmark must go offline by itself
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(tmp_path / "cache"))
    return tmp_path


def test_dataset_not_available_offline_is_a_user_error(offline_cache):
    with pytest.raises(UserError, match=r"could not load hf dataset 'no-such-org/no-such-data' offline.*jsonl:"):
        load_benchmark("hf:no-such-org/no-such-data?config=main").problems()


def test_local_dataset_directory_loads_with_aliases(offline_cache):
    folder = offline_cache / "local"
    folder.mkdir()
    rows = [{"question": f"What is {i} squared?", "answer": f"work #### {i * i}"} for i in range(30)]
    (folder / "train.jsonl").write_text("\n".join(json.dumps(row) for row in rows))
    benchmark = load_benchmark(f"hf:{folder}")
    problems = [p for split in ("train", "dev", "test") for p in benchmark.problems(split)]
    assert sorted(int(p.answer) for p in problems) == sorted(i * i for i in range(30))


def test_unknown_hf_option_is_a_user_error():
    with pytest.raises(UserError, match=r"'subset'.*config"):
        load_benchmark("hf:openai/gsm8k?subset=main")
