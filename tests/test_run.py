"""`run` end to end on the real embedded model: every program, the run directory, and the OpenAI-compatible path."""

import json

import pytest
import yaml

from strawberry_dspy.config import load_config
from strawberry_dspy.models import local_model_path
from strawberry_dspy.models.engine import shared_engine
from strawberry_dspy.run import run
from strawberry_dspy.stage_output import MARKER
from tests.test_config import PROGRAMS

pytestmark = pytest.mark.integration
BENCHMARK = "reasoning_gym:basic_arithmetic?min_terms=2&max_terms=2&max_digits=1"


@pytest.mark.parametrize("name", ["zero_shot", "cot", "strawberry"])
def test_each_program_runs_on_the_embedded_model(tmp_path, name):
    config = load_config(PROGRAMS / f"{name}.yaml", {"limit": 3, "benchmark": BENCHMARK})
    out, summary, results = run(config, tmp_path / "run", progress=False)
    assert summary["problems"] == 3 and len(results) == 3
    assert set(p.name for p in out.iterdir()) == {"config.yaml", "results.jsonl", "summary.json", "versions.json", "run.log",
                                                 MARKER}
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert [r["problem_id"] for r in rows] == [r.problem_id for r in results]
    for row in rows:
        turns = row["trace"]["turns"]
        assert row["stop_reason"] in ("final_answer", "max_turns", "max_tokens")
        assert row["completion_tokens"] == sum(t["completion_tokens"] for t in turns) > 0
        assert all(t["latency_s"] > 0 for t in turns if t["role"] == "assistant")
    assert summary["correct"] == sum(r["correct"] for r in rows)
    assert yaml.safe_load((out / "config.yaml").read_text())["program"] == name
    assert "dspy" in json.loads((out / "versions.json").read_text())


def test_strawberry_reuses_the_prefix_cache(tmp_path):
    config = load_config(PROGRAMS / "strawberry.yaml", {"limit": 2, "benchmark": BENCHMARK, "concurrency": 1})
    _, summary, results = run(config, tmp_path / "run", progress=False)
    later_turns = [t for r in results for t in r.trace["turns"] if t["role"] == "assistant"][1:]
    assert sum(t["cached_tokens"] for t in later_turns) > 0.5 * sum(t["prompt_tokens"] for t in later_turns)


def test_openai_compatible_path_through_the_engine_http_endpoint(tmp_path):
    engine = shared_engine(local_model_path(), 2)
    overrides = {"limit": 2, "benchmark": BENCHMARK, "model": "openai/smollm2", "api_base": engine.url + "/v1"}
    config = load_config(PROGRAMS / "cot.yaml", overrides)
    out, summary, results = run(config, tmp_path / "run", progress=False)
    assert summary["problems"] == 2 and summary["completion_tokens"] > 0
    assert all(r.trace["turns"][-1]["content"] for r in results)
