"""The problem cache: a spec's problems are made once, read back identical, and a run then starts without
importing reasoning-gym; a broken, unwritable or disabled cache only costs time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from strawberry_dspy.benchmarks import load_benchmark
from strawberry_dspy.benchmarks.problem_cache import cache_path
from strawberry_dspy.cache_dir import ENV
from strawberry_dspy.errors import UserError

SPEC = "reasoning_gym:basic_arithmetic?min_terms=2&max_terms=2&max_digits=1"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv(ENV, str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_cached_problems_equal_generated_and_are_read_back(cache):
    made = load_benchmark(SPEC).problems("test", 7)
    path = cache_path("reasoning_gym", SPEC, {"split": "test", "limit": 7})
    assert path.is_file() and len(path.read_text().splitlines()) == 7
    again = load_benchmark(SPEC).problems("test", 7)
    assert again == made and [p.metadata for p in again] == [p.metadata for p in made]
    # read from the file, not made again: an edit to the file shows through
    lines = path.read_text().splitlines()
    first = json.loads(lines[0]) | {"question": "edited"}
    path.write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n")
    assert load_benchmark(SPEC).problems("test", 7)[0].question == "edited"


def test_other_split_or_limit_is_its_own_entry(cache):
    load_benchmark(SPEC).problems("dev", 3), load_benchmark(SPEC).problems("test", 3)
    assert len(list((cache / "problems").glob("*.jsonl"))) == 2
    load_benchmark(SPEC).problems("test", 4)
    assert len(list((cache / "problems").glob("*.jsonl"))) == 3


def test_a_change_to_the_generating_code_makes_a_new_entry(cache, monkeypatch):
    from strawberry_dspy.benchmarks import problem_cache

    made = load_benchmark(SPEC).problems("test", 3)
    path = cache_path("reasoning_gym", SPEC, {"split": "test", "limit": 3})
    path.write_text(path.read_text().replace(made[0].question, "made by older code"))
    monkeypatch.setattr(problem_cache, "source_hash", lambda: "edited-code")
    assert load_benchmark(SPEC).problems("test", 3) == made  # the older list is not served
    assert len(list((cache / "problems").glob("*.jsonl"))) == 2


def test_a_truncated_entry_is_made_again(cache):
    made = load_benchmark(SPEC).problems("test", 3)
    path = cache_path("reasoning_gym", SPEC, {"split": "test", "limit": 3})
    path.write_text(path.read_text().splitlines()[0] + "\n")
    assert load_benchmark(SPEC).problems("test", 3) == made


def test_a_corrupt_entry_is_made_again(cache):
    made = load_benchmark(SPEC).problems("test", 3)
    path = cache_path("reasoning_gym", SPEC, {"split": "test", "limit": 3})
    path.write_text('{"id": "half')
    assert load_benchmark(SPEC).problems("test", 3) == made
    assert len(path.read_text().splitlines()) == 3  # repaired


def test_off_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV, "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    assert len(load_benchmark(SPEC).problems("test", 2)) == 2
    assert list(tmp_path.iterdir()) == []


def test_an_unwritable_cache_is_skipped(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(ENV, str(blocker))  # problems/ cannot be made under a file
    assert len(load_benchmark(SPEC).problems("test", 2)) == 2


def test_a_bad_spec_is_still_refused_after_good_ones_were_cached(cache):
    load_benchmark(SPEC).problems("test", 2)
    with pytest.raises(UserError, match="max_digits"):
        load_benchmark("reasoning_gym:basic_arithmetic?max_digits=many")
    with pytest.raises(UserError, match="unknown reasoning_gym task"):
        load_benchmark("reasoning_gym:basic_arithmetics")


def test_a_cached_spec_loads_without_reasoning_gym_and_grades_with_it(cache):
    """A fresh interpreter: problems come from the cache with reasoning-gym unimported; grading imports it."""
    load_benchmark(SPEC).problems("test", 3)
    script = f"""
import sys
from strawberry_dspy.benchmarks import load_benchmark
bench = load_benchmark({SPEC!r})
problems = bench.problems("test", 3)
print(any(name.startswith("reasoning_gym") for name in sys.modules))
print(bench.score(problems[0], problems[0].answer).correct, bench.score(problems[0], "123456789").correct)
print("reasoning_gym" in sys.modules)
"""
    env = {**os.environ, ENV: str(cache), "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "True", "False", "True"]


def test_the_benchmark_pickles_for_ray_workers_and_grades_there(cache):
    """Ray ships the benchmark to its workers: a copy (lock dropped, a new one made) still loads and grades."""
    import pickle

    bench = load_benchmark(SPEC)
    problem = bench.problems("test", 2)[0]
    assert bench.score(problem, problem.answer).correct  # builds the dataset and its entries, then pickles them
    copy = pickle.loads(pickle.dumps(bench))
    assert copy.problems("test", 2)[0] == problem
    assert copy.score(problem, problem.answer).correct and not copy.score(problem, "123456789").correct
