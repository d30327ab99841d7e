"""Export memory does not grow with the store: problems are read one at a time and each row is written as it is made."""

import pytest

from strawberry_dspy.export import ExportSettings, export
from strawberry_dspy.export import writer
from strawberry_dspy.store import TraceStore
from tests.export.store_fixture import build_mixed_store


@pytest.mark.parametrize("fmt", ["sft", "kto", "stepwise"])
def test_rows_are_written_before_the_next_problem_is_read(tmp_path, monkeypatch, fmt):
    build_mixed_store(tmp_path / "run")
    events: list[str] = []
    read = TraceStore.by_problem

    def logged_read(store, *args, **kwargs):
        for problem, traces in read(store, *args, **kwargs):
            events.append("read")
            yield problem, traces

    line = writer._line
    monkeypatch.setattr(TraceStore, "by_problem", logged_read)
    monkeypatch.setattr(writer, "_line", lambda row: events.append("write") or line(row))
    report = export(tmp_path / "run", ExportSettings(format=fmt, band=(0.0, 1.0), decontam_limit=50), tmp_path / "out")
    assert report.rows == events.count("write") > 1 and events.count("read") > 2
    # at most one problem read ahead of the rows written: a problem's rows leave before the next one is held
    held = [events[:i].count("read") for i, event in enumerate(events) if event == "write"]
    assert all(later >= earlier for earlier, later in zip(held, held[1:]))
    assert held[0] < events.count("read"), "the first row was written only after every problem was read"


def test_dpo_keeps_a_length_table_and_spills_the_rows(tmp_path, monkeypatch):
    build_mixed_store(tmp_path / "run")
    written: list = []
    line = writer._line
    monkeypatch.setattr(writer, "_line", lambda row: written.append(type(row)) or line(row))
    report = export(tmp_path / "run", ExportSettings(format="dpo", band=(0.0, 1.0), decontam_limit=50), tmp_path / "out")
    # the rows reach the writer already serialized (read back from the spill file), not as dicts held in a list
    assert report.rows == len(written) == 3 and all(issubclass(kind, str) for kind in written)
