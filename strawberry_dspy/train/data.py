"""Read an export (issue 5's `strawberry export`, or any dataset in TRL's formats) and check it fits the method.

Accepted: a `.jsonl` / `.json` / `.parquet` file, a `datasets.save_to_disk` folder, or an export folder holding
`train.jsonl`, `train.parquet` or `dataset/`. Formats (TRL's, conversational or standard):
DPO `prompt`/`chosen`/`rejected`, KTO `prompt`/`completion`/`label`, SFT `messages` or `prompt`/`completion`.
"""

from __future__ import annotations

import json
from pathlib import Path

from strawberry_dspy.errors import UserError
from strawberry_dspy.text_input import read_text

# format name -> the columns that identify it, most specific first
FORMATS = {
    "dpo": ("prompt", "chosen", "rejected"),
    "stepwise": ("prompt", "completions", "labels"),
    "kto": ("prompt", "completion", "label"),
    "sft_messages": ("messages",),
    "sft": ("prompt", "completion"),
}
METHOD_FORMATS = {"dpo": ("dpo",), "kto": ("kto",), "sft": ("sft_messages", "sft"), "rft": ("sft_messages", "sft")}
EXPORT_FILES = ("train.jsonl", "train.parquet", "dataset")


def detect_format(columns: list[str]) -> str | None:
    """The TRL format a set of columns is in, or None."""
    for name, needed in FORMATS.items():
        if set(needed) <= set(columns):
            return name
    return None


def load_export(path: str | Path, method: str):
    """Load an export as a datasets.Dataset, checking that its format is the one `method` trains on."""
    dataset = _read(Path(path).expanduser())
    if len(dataset) == 0:
        raise UserError(f"the export {str(path)!r} has no rows; export more traces (widen the band or harvest more)")
    found = detect_format(dataset.column_names)
    wanted = METHOD_FORMATS[method]
    if found not in wanted:
        need = " or ".join("/".join(FORMATS[f]) for f in wanted)
        has = f"is in {found.split('_')[0].upper()} format" if found else f"has columns {', '.join(dataset.column_names)}"
        hint = {"dpo": "--format dpo", "kto": "--format kto", "sft": "--format sft", "rft": "--format sft"}[method]
        other = f" or train it with --method {found.split('_')[0]}" if found in ("dpo", "kto", "sft", "sft_messages") else ""
        if found == "stepwise":
            other = " (stepwise labels train a process reward model, which strawberry train does not do)"
        raise UserError(f"the export {str(path)!r} {has}, but --method {method} needs {need}; "
                        f"export with strawberry export ... {hint}{other}")
    return dataset


def _read(path: Path):
    from datasets import Dataset, DatasetDict, load_from_disk

    if path.is_dir():
        for name in EXPORT_FILES:
            if (path / name).exists():
                return _read(path / name)
        if (path / "dataset_info.json").is_file() or (path / "dataset_dict.json").is_file():
            loaded = load_from_disk(str(path))
            if isinstance(loaded, DatasetDict):
                if "train" not in loaded:
                    raise UserError(f"the dataset folder {str(path)!r} has no 'train' split (it has {', '.join(loaded)})")
                loaded = loaded["train"]
            return loaded
        raise UserError(f"no export found in {str(path)!r}: expected {', '.join(EXPORT_FILES)}, a save_to_disk folder, "
                        "or a .jsonl/.parquet file; write one with strawberry export")
    if not path.is_file():
        raise UserError(f"export not found: {str(path)!r}; pass the folder or file written by strawberry export")
    if path.suffix in (".jsonl", ".json"):
        rows = []
        for number, line in enumerate(read_text(path, "export file").splitlines(), 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as error:
                    raise UserError(f"{path}:{number}: not a JSON line ({error.msg}); each line must be one JSON object") from None
                if not isinstance(rows[-1], dict):
                    raise UserError(f"{path}:{number}: not a JSON object; each line must be one JSON object")
        return Dataset.from_list(rows)
    if path.suffix == ".parquet":
        import pyarrow
        import pyarrow.parquet as pq

        try:
            return Dataset(pq.read_table(str(path)))
        except pyarrow.ArrowException as error:
            raise UserError(f"{str(path)!r} is not a readable parquet file ({error}); pass an export") from None
    raise UserError(f"unsupported export file {str(path)!r}: expected .jsonl, .json or .parquet (or a save_to_disk folder)")
