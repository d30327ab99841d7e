"""The documentation site: `mkdocs build --strict` passes, and its generated references cover the code."""

from __future__ import annotations

import dataclasses
import importlib.util
import subprocess
import sys

import pytest

from tests.docs.doc_commands import ROOT

RECIPE_DATACLASSES = ["strawberry_dspy.config.ProgramSettings", "strawberry_dspy.config.Prices",
                      "strawberry_dspy.knobs.StrawberrySettings", "strawberry_dspy.knobs.BaselineSettings",
                      "strawberry_dspy.retry_settings.RetrySettings", "strawberry_dspy.train.recipe.TrainSettings"]
OPTION_DATACLASSES = ["strawberry_dspy.run.RunSettings", "strawberry_dspy.compile.stage.CompileSettings", "strawberry_dspy.harvest.options.HarvestSettings",
                      "strawberry_dspy.harvest.stats.StatsSettings", "strawberry_dspy.export.config.ExportSettings",
                      "strawberry_dspy.bootstrap.settings.BootstrapSettings"]


def _hooks():
    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "docs" / "hooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("dotted", RECIPE_DATACLASSES)
def test_every_recipe_key_is_in_the_reference_with_its_help(dotted):
    hooks = _hooks()
    table = hooks.fields_table(dotted)
    cls = hooks._import(dotted)
    for f in dataclasses.fields(cls):
        row = next((line for line in table.splitlines() if line.startswith(f"| `{f.name}` |")), None)
        assert row is not None, f"{dotted}.{f.name} is missing from the reference"
        nested = row.split(" | ")[2] == "a section (below)"
        assert nested or row.rstrip(" |").split(" | ")[-1].strip(), f"{dotted}.{f.name} has no help comment"
    pages = "\n".join(p.read_text() for p in (ROOT / "docs").rglob("*.md"))
    assert f"<!-- fields: {dotted}" in pages, f"no page shows {dotted}"


@pytest.mark.parametrize("dotted", OPTION_DATACLASSES)
def test_every_commands_options_are_on_the_options_page(dotted):
    assert f"<!-- options: {dotted} -->" in (ROOT / "docs" / "reference" / "options.md").read_text()
    assert "--" in _hooks().options_table(dotted)


def test_every_command_has_a_page_with_its_help():
    from strawberry_dspy.cli import COMMANDS

    for name in COMMANDS:
        page = ROOT / "docs" / "commands" / f"{name}.md"
        assert page.is_file() and f"<!-- help: {name} -->" in page.read_text(), f"docs/commands/{name}.md"
        assert f"usage: strawberry {name}" in _hooks().command_help(name)


@pytest.mark.slow
def test_mkdocs_build_strict_passes(tmp_path):
    if importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("mkdocstrings") is None:
        pytest.skip("mkdocs is not installed: pip install -e '.[docs]' (make install does it) to build the site")
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
                            cwd=ROOT, capture_output=True, text=True, timeout=600,
                            env={**__import__("os").environ, "NO_MKDOCS_2_WARNING": "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    recipes = (tmp_path / "site" / "reference" / "recipes" / "index.html").read_text()
    assert "strawberry.check_every" in recipes and "<!-- fields" not in recipes
    assert "usage: strawberry run" in (tmp_path / "site" / "commands" / "run" / "index.html").read_text()
