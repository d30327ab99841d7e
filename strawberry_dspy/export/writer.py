"""Write an export atomically (a sibling temp directory, then one rename) and optionally push it to the Hub."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Callable, Iterable

from strawberry_dspy.errors import UserError
from strawberry_dspy.stage_output import OutputKind, check_replace, staged

DATA_FILES = {"jsonl": "train.jsonl", "parquet": "train.parquet", "disk": "dataset"}
EXPORT_DIR = OutputKind("export", "dataset export", ("export.yaml",),
                        frozenset({*DATA_FILES.values(), "README.md", "export.yaml"}))


def check_destination(out: Path, overwrite: bool, source: Path) -> None:
    """A UserError when the output exists and may not be replaced (never the harvest it is exported from)."""
    check_replace(out, EXPORT_DIR, overwrite=overwrite, sources=[source])


def to_dataset(rows: list[dict]):
    """The rows as a datasets.Dataset (the schema is inferred from the rows)."""
    from datasets import Dataset  # imported here: `datasets` is slow to import and jsonl output does not need it

    return Dataset.from_list(rows)


def _line(row: dict | str) -> str:
    return row if isinstance(row, str) else json.dumps(row, ensure_ascii=False)  # a str is a row already serialized


def write_export(out: Path, rows: Iterable[dict | str], to: str, extra_files: Callable[[int], dict[str, str]],
                 overwrite: bool = False, source: Path | None = None) -> int:
    """Write rows (as jsonl, parquet or save_to_disk), then the text files `extra_files(row count)` names, into
    `out`, all or nothing; returns the row count.

    jsonl is written row by row as the rows are made (flat memory); parquet and save_to_disk go through one
    `datasets.Dataset`, which holds them all. A row may come as a dict or as its JSON line.
    """
    sources = [source] if source is not None else []
    check_replace(out, EXPORT_DIR, overwrite=overwrite, sources=sources)
    with staged(out, EXPORT_DIR, sources=sources) as folder:
        target = folder / DATA_FILES[to]
        count = 0
        if to == "jsonl":
            with target.open("w", encoding="utf-8") as f:
                for row in rows:
                    f.write(_line(row) + "\n")
                    count += 1
        else:
            table = [json.loads(row) if isinstance(row, str) else row for row in rows]
            count = len(table)
            dataset = to_dataset(table)
            dataset.to_parquet(str(target)) if to == "parquet" else dataset.save_to_disk(str(target))
        for name, text in extra_files(count).items():
            (folder / name).write_text(text, encoding="utf-8")
    return count


def written_rows(out: Path, to: str) -> list[dict]:
    """The rows of a written export, read back."""
    target = out / DATA_FILES[to]
    if to == "jsonl":
        with target.open(encoding="utf-8") as f:
            return [json.loads(line) for line in f]
    from datasets import Dataset, load_from_disk

    return (Dataset.from_parquet(str(target)) if to == "parquet" else load_from_disk(str(target))).to_list()


def hub_data_file(to: str) -> str:
    """The data file's name in a Hub repo: the export's own file, or for a save_to_disk export its parquet copy
    (a Hub repo serves files that `load_dataset` reads, not Arrow folders)."""
    return DATA_FILES["parquet" if to == "disk" else to]


def push_to_hub(repo: str, out: Path, to: str, texts: dict[str, str], private: bool = False) -> str:
    """Publish the written export to a Hub dataset repo in one commit: its data file, and `texts` (the card and
    export.yaml, name -> text); returns the commit's URL. Any failure is one UserError line.

    The repo is created when missing (private with `private`; an existing repo keeps its visibility). The endpoint
    is read from HF_ENDPOINT now, not when huggingface_hub was imported.
    """
    try:
        from huggingface_hub import CommitOperationAdd, HfApi

        if to == "disk":
            buffer = io.BytesIO()
            to_dataset(written_rows(out, to)).to_parquet(buffer)
            data: Path | bytes = buffer.getvalue()
        else:
            data = out / DATA_FILES[to]
        operations = [CommitOperationAdd(path_in_repo=hub_data_file(to), path_or_fileobj=data)]
        operations += [CommitOperationAdd(path_in_repo=name, path_or_fileobj=text.encode("utf-8"))
                       for name, text in texts.items()]
        api = HfApi(endpoint=os.environ.get("HF_ENDPOINT") or None)
        api.create_repo(repo, repo_type="dataset", private=private or None, exist_ok=True)
        commit = api.create_commit(repo, operations, commit_message="strawberry-dspy export", repo_type="dataset")
        return commit.commit_url
    except Exception as error:  # network, auth, offline mode, bad repo name: all end the same way
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
        raise UserError(f"push to the Hub repo {repo!r} failed ({type(error).__name__}: {reason}): the export is "
                        "written locally; to push, be online with HF_HUB_OFFLINE=0 and a token (HF_TOKEN)") from None
