"""`export --push-to-hub` round-trips: published through huggingface_hub to a loopback Hub (HF_ENDPOINT), then
read back with `datasets.load_dataset(REPO)` from the same server.

Both ends run as child processes, as a user runs them: huggingface_hub and datasets read HF_ENDPOINT when imported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml

from tests.export.store_fixture import build_mixed_store
from strawberry_dspy.testing.loopback_hub import LoopbackHub

REPO = "someone/strawberry-dpo"
LOAD = ("import datasets, json, sys; ds = datasets.load_dataset(sys.argv[1], split='train'); "
        "print(json.dumps(ds.to_list()))")


def _env(hub: LoopbackHub, tmp_path) -> dict:
    env = {**os.environ, "HF_ENDPOINT": hub.url, "HF_HUB_OFFLINE": "0", "HF_TOKEN": "hf_loopback_token",
           "HF_HOME": str(tmp_path / "hf-home"), "HF_HUB_DISABLE_TELEMETRY": "1", "HF_HUB_DISABLE_XET": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [os.getcwd(), os.environ.get("PYTHONPATH")]))}
    return env


def _local_rows(out, to: str) -> list[dict]:
    if to == "jsonl":
        return [json.loads(line) for line in (out / "train.jsonl").read_text().splitlines()]
    from datasets import load_from_disk

    return load_from_disk(str(out / "dataset")).to_list()


@pytest.mark.slow  # waits on real time or round-trips through TRL / the Hub: out of the quick loop
@pytest.mark.parametrize("to, data_file", [("jsonl", "train.jsonl"), ("disk", "train.parquet")])
def test_push_to_hub_publishes_data_card_and_config_that_load_dataset_reads_back(tmp_path, to, data_file):
    build_mixed_store(tmp_path / "run")
    out = tmp_path / "out"
    with LoopbackHub() as hub:
        env = _env(hub, tmp_path)
        pushed = subprocess.run(
            [sys.executable, "-m", "strawberry_dspy.cli", "export", str(tmp_path / "run"), "--format", "dpo",
             "--band", "0", "1", "--decontam-limit", "20", "--to", to, "--out", str(out),
             "--push-to-hub", REPO, "--private"], env=env, capture_output=True, text=True, timeout=300)
        assert pushed.returncode == 0, pushed.stderr
        repo = hub.repos[REPO]
        assert repo.private and repo.commits == 1
        assert set(repo.files) == {data_file, "README.md", "export.yaml"}
        assert all(auth == "Bearer hf_loopback_token" for method, _, auth in hub.requests if method == "POST")

        card = repo.files["README.md"].decode()
        front = yaml.safe_load(card.split("---\n")[1])
        assert front["configs"] == [{"config_name": "default", "data_files": [{"split": "train", "path": data_file}]}]
        assert f'load_dataset("{REPO}", split="train")' in card
        published = card + repo.files["export.yaml"].decode()
        assert str(tmp_path) not in published and os.path.expanduser("~") not in published  # no local path
        config = yaml.safe_load(repo.files["export.yaml"])
        assert (config["format"], config["band"], config["store"]) == ("dpo", [0.0, 1.0], "run/traces.sqlite")

        loaded = subprocess.run([sys.executable, "-c", LOAD, REPO], env=env, capture_output=True, text=True,
                                timeout=300)
        assert loaded.returncode == 0, loaded.stderr
        assert not hub.unknown
    rows = json.loads(loaded.stdout)
    assert rows and rows == _local_rows(out, to)
    assert {"prompt", "chosen", "rejected", "weight"} <= set(rows[0])


def test_private_without_push_is_one_line(tmp_path):
    build_mixed_store(tmp_path / "run")
    done = subprocess.run([sys.executable, "-m", "strawberry_dspy.cli", "export", str(tmp_path / "run"), "--private"],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert done.returncode == 2
    assert done.stderr.strip() == ("error: --private applies to --push-to-hub only: add --push-to-hub OWNER/NAME "
                                   "or drop --private")
