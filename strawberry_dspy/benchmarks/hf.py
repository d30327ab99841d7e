"""hf:<dataset>?config=...&split=... — a Hugging Face dataset already on this machine (offline-first)."""

from __future__ import annotations

import itertools
import os
import sys
from typing import Iterable

from strawberry_dspy.benchmarks.files import COLUMN_OPTIONS, RowsBenchmark
from strawberry_dspy.errors import UserError

HF_OPTIONS = ("config", "split", *COLUMN_OPTIONS)


def _offline_unless_user_chose() -> None:
    """HF_HUB_OFFLINE=1 unless the user set it; also tell datasets/huggingface_hub if they read it already."""
    if "HF_HUB_OFFLINE" in os.environ:
        return
    os.environ["HF_HUB_OFFLINE"] = "1"
    for module in ("huggingface_hub.constants", "datasets.config"):  # both read the variable once, at import
        if module in sys.modules:
            sys.modules[module].HF_HUB_OFFLINE = True


class HFBenchmark(RowsBenchmark):
    """Rows of a datasets.load_dataset dataset; without ?split= all of its splits, in order."""

    def __init__(self, spec: str, dataset: str, options: dict[str, str], scorer: str | None = None):
        super().__init__(spec, options, HF_OPTIONS, scorer)
        if not dataset:
            raise UserError(f"benchmark {spec!r} names no dataset: write hf:OWNER/NAME, e.g. hf:openai/gsm8k?config=main")
        self.dataset = dataset

    def _rows(self) -> tuple[Iterable[dict], list[str]]:
        _offline_unless_user_chose()
        import datasets

        try:
            loaded = datasets.load_dataset(self.dataset, self.options.get("config"), split=self.options.get("split"))
        except Exception as error:  # load_dataset fails in many ways (offline, missing config, bad files)
            reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
            arguments = ", ".join(repr(part) for part in (self.dataset, self.options.get("config")) if part)
            raise UserError(
                f"could not load hf dataset {self.dataset!r} offline ({reason}): download it first "
                f"(HF_HUB_OFFLINE=0 python -c \"import datasets; datasets.load_dataset({arguments})\") "
                f"or use a jsonl: file"
            ) from None
        parts = list(loaded.values()) if isinstance(loaded, datasets.DatasetDict) else [loaded]
        columns = list(parts[0].column_names) if parts else []
        return itertools.chain.from_iterable(parts), columns
