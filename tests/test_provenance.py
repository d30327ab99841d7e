"""Versions: a compiled program, a store or a trained model written with other package versions warns once on load."""

import json

import pytest
from loguru import logger

from strawberry_dspy.compile.compiled import load_compiled, save_compiled
from strawberry_dspy.config import config_from_dict
from strawberry_dspy.models.hf import check_model_versions
from strawberry_dspy.program.build import build_program
from strawberry_dspy.provenance import MODEL_CARD, check_versions, package_versions
from strawberry_dspy.store import TraceStore

OLD = {"dspy": "0.0.1", "python": "2.7.18"}


@pytest.fixture
def warnings():
    said: list[str] = []
    logger.enable("strawberry_dspy")  # the library is quiet until the CLI turns it on (conftest turns it off again)
    sink = logger.add(lambda message: said.append(str(message)), level="WARNING")
    yield said
    logger.remove(sink)


def test_only_what_differs_is_named_and_only_once(warnings):
    now = package_versions()
    assert check_versions({**OLD, "optuna": now.get("optuna"), "nonesuch": "1"}, "artifact A") == [
        ("dspy", "0.0.1", now["dspy"]), ("python", "2.7.18", now["python"])]
    check_versions(OLD, "artifact A")
    assert check_versions(now, "artifact B") == [] and check_versions(None, "artifact C") == []
    assert len(warnings) == 1
    assert f"artifact A was written with other package versions (dspy 0.0.1 there, {now['dspy']} here, python " \
           f"2.7.18 there, {now['python']} here)" in warnings[0]


def test_a_compiled_program_from_other_versions_warns_on_load(tmp_path, warnings):
    config = config_from_dict({"program": "cot"})
    path = save_compiled(tmp_path / "compiled.json", build_program(config), config, {"versions": OLD})
    load_compiled(path)
    load_compiled(path)
    assert len(warnings) == 1 and f"compiled program {path}" in warnings[0] and "dspy 0.0.1 there" in warnings[0]


def test_a_store_from_other_versions_warns_once_however_often_it_is_opened(tmp_path, warnings):
    TraceStore.create(tmp_path, {"versions_json": json.dumps(OLD)}).close()
    for _ in range(3):
        TraceStore.open(tmp_path).close()
    assert len(warnings) == 1 and f"trace store {tmp_path / 'traces.sqlite'}" in warnings[0]


def test_a_trained_model_from_other_versions_warns(tmp_path, warnings):
    (tmp_path / MODEL_CARD).write_text(json.dumps({"method": "dpo", "versions": OLD}))
    check_model_versions(tmp_path)
    check_model_versions(tmp_path / "no-card-here")
    assert len(warnings) == 1 and f"model {tmp_path}" in warnings[0] and "python 2.7.18 there" in warnings[0]
