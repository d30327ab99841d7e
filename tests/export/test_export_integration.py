"""From a real harvest store (the embedded model, the harvest stage) to every export format, loaded back."""

from pathlib import Path

import pytest

from strawberry_dspy.config import load_config
from strawberry_dspy.errors import UserError
from strawberry_dspy.export import ExportSettings, export
from strawberry_dspy.store import TraceStore

pytestmark = [pytest.mark.integration,
              pytest.mark.filterwarnings("ignore:Passing OpenAI-style message:DeprecationWarning")]
ROOT = Path(__file__).resolve().parents[2]
# what a format may honestly refuse on a tiny real harvest: one side of the outcome (or of the verdicts) missing
ALLOWED_REFUSALS = ("needs correct traces", "needs both", "needs problems with both", "needs verifier verdicts")


def test_real_harvest_exports_every_format(tmp_path):
    harvest = pytest.importorskip("strawberry_dspy.harvest").harvest
    config = load_config(ROOT / "programs" / "strawberry.yaml", {
        "split": "train", "limit": 2, "concurrency": 2, "temperature": 1.0,
        "strawberry": {"max_turns": 2, "step_tokens": 24, "check_tokens": 16, "verifier_every": 1,
                       "verifier_window": 1, "verify_tokens": 24}})
    harvest(config, tmp_path / "h", samples=2, progress=False)
    import datasets

    exported = {}
    for fmt in ("sft", "dpo", "kto", "stepwise"):
        try:
            # band 0 1: every problem of a tiny harvest (the default band would keep only mixed ones)
            report = export(tmp_path / "h", ExportSettings(format=fmt, band=(0.0, 1.0), decontam_limit=50), tmp_path / fmt)
        except UserError as error:
            assert any(reason in str(error) for reason in ALLOWED_REFUSALS), str(error)
            assert not (tmp_path / fmt).exists()
            continue
        rows = datasets.load_dataset("json", data_files=str(report.out / "train.jsonl"), split="train")
        assert len(rows) == report.rows > 0
        exported[fmt] = rows
    kto_or_sft = exported.get("kto") or exported.get("sft")
    if kto_or_sft is not None:
        assert kto_or_sft[0]["prompt"][-1]["role"] == "user"
        assert kto_or_sft[0]["completion"][0]["role"] == "assistant"
    with TraceStore.open(tmp_path / "h") as store:  # the harvest stage's store, read with the export's view
        traces = [t for _, group in store.by_problem() for t in group]
        assert len(traces) + store.outcomes()[1] == 4 and all(t.turns[0].role == "system" for t in traces)
