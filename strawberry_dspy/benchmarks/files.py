"""jsonl:PATH, csv:PATH, parquet:PATH — rows with a question column and a gold-answer column."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Iterable

from strawberry_dspy.benchmarks.base import Benchmark, Problem, check_options, question_hash, take_split
from strawberry_dspy.errors import UserError
from strawberry_dspy.text_input import read_text

QUESTION_COLUMNS = ("question", "problem", "prompt", "query", "input")
ANSWER_COLUMNS = ("answer", "final_answer", "target", "solution", "output")
COLUMN_OPTIONS = ("question", "answer")  # ?question=COL&answer=COL name the columns explicitly


def _pick_column(spec: str, columns: list[str], role: str, aliases: tuple[str, ...], chosen: str | None) -> str:
    if chosen is not None:
        if chosen not in columns:
            raise UserError(f"{role} column {chosen!r} is not in {spec!r}: its columns are {', '.join(columns)}")
        return chosen
    by_lower = {column.lower(): column for column in columns}
    for alias in aliases:
        if alias in by_lower:
            return by_lower[alias]
    raise UserError(
        f"no {role} column in {spec!r} (columns: {', '.join(columns)}): "
        f"name one {'/'.join(aliases)} or add ?{role}=COLUMN to the spec"
    )


def gold_answer(raw: object) -> str:
    """The gold answer as text; a GSM8K-style worked solution keeps only what follows '####'."""
    text = str(raw).strip()
    return text.rsplit("####", 1)[1].strip() if "####" in text else text


def problems_from_rows(spec: str, rows: Iterable[dict], columns: list[str], options: dict[str, str]) -> list[Problem]:
    """Problems from row dicts, in row order; rows without a question or an answer are skipped."""
    question_column = _pick_column(spec, columns, "question", QUESTION_COLUMNS, options.get("question"))
    answer_column = _pick_column(spec, columns, "answer", ANSWER_COLUMNS, options.get("answer"))
    problems = []
    for row_number, row in enumerate(rows):
        question, raw_answer = row.get(question_column), row.get(answer_column)
        if question is None or raw_answer is None or not str(question).strip():
            continue
        question, answer = str(question), gold_answer(raw_answer)
        # the row's other columns ride along: a plug-in scorer reads them (a code task's tests)
        metadata = {**{k: v for k, v in row.items() if k not in (question_column, answer_column) and v is not None},
                    "source": spec, "row": row_number}
        if answer != str(raw_answer).strip():
            metadata["solution"] = str(raw_answer)
        problems.append(Problem(id=question_hash(question)[:16], question=question, answer=answer, metadata=metadata))
    return problems


def _read_jsonl(path: Path) -> list[dict]:
    rows = []
    for number, line in enumerate(read_text(path, "benchmark file").splitlines(), start=1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as error:
                raise UserError(f"line {number} of {path} is not JSON ({error.msg}): fix or remove that line") from None
    return rows


def _read_csv(path: Path) -> list[dict]:
    text = read_text(path, "benchmark file")
    # no field-size error: a long question is left out later, with a warning, by max_question_chars
    csv.field_size_limit(max(csv.field_size_limit(), len(text)))
    try:
        return list(csv.DictReader(io.StringIO(text, newline="")))
    except csv.Error as error:
        raise UserError(f"{path} is not a readable CSV file ({error}): fix the file or its format prefix") from None


def _read_parquet(path: Path) -> list[dict]:
    import pyarrow
    import pyarrow.parquet

    try:
        return pyarrow.parquet.read_table(path).to_pylist()
    except pyarrow.ArrowException as error:
        raise UserError(f"{str(path)!r} is not a readable parquet file ({error}): check the file or its format prefix") from None


READERS = {"jsonl": _read_jsonl, "csv": _read_csv, "parquet": _read_parquet}


class RowsBenchmark(Benchmark):
    """Problems read once from rows; subclasses say where the rows come from."""

    def __init__(self, spec: str, options: dict[str, str], valid_options: tuple[str, ...], scorer: str | None = None):
        super().__init__(spec, scorer)
        self.options = check_options(spec, options, valid_options)
        self._all: list[Problem] | None = None

    def _rows(self) -> tuple[Iterable[dict], list[str]]:
        """The rows and their column names."""
        raise NotImplementedError

    def _problems(self, split: str, limit: int | None) -> list[Problem]:
        if self._all is None:
            rows, columns = self._rows()
            self._all = problems_from_rows(self.spec, rows, columns, self.options)
        return take_split(self._all, split, limit)


class FileBenchmark(RowsBenchmark):
    """Rows from a local jsonl, csv or parquet file."""

    def __init__(self, spec: str, path: str, options: dict[str, str], scorer: str | None = None):
        super().__init__(spec, options, COLUMN_OPTIONS, scorer)
        self.format = spec.partition(":")[0]
        self.path = Path(path).expanduser()
        if not self.path.is_file():
            what = "is a directory, not a file" if self.path.is_dir() else "not found"
            raise UserError(f"benchmark file {what}: {path!r} (from {spec!r}): check the path")

    def _rows(self) -> tuple[list[dict], list[str]]:
        rows = READERS[self.format](self.path)
        if not rows:
            raise UserError(f"benchmark file {str(self.path)!r} has no rows: add question/answer rows")
        for number, row in enumerate(rows, start=1):
            if not isinstance(row, dict):
                raise UserError(f"row {number} of {str(self.path)!r} must be an object with question/answer fields, "
                                f"got {str(row)[:80]!r}; fix or remove it")
        return rows, list(rows[0])
