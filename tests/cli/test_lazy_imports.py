"""Commands pay only for what they use: export and stats never import dspy, optuna, matplotlib or reasoning-gym."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("dspy", "optuna", "matplotlib", "reasoning_gym", "datasets", "torch", "transformers", "litellm")
PROBE = """
import contextlib, io, json, sys
from strawberry_dspy.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main()  # as the console script calls it: the command comes from sys.argv
    except SystemExit:
        pass
import strawberry_dspy.export.pipeline, strawberry_dspy.harvest.stats, strawberry_dspy.store  # what they run
print(json.dumps(sorted(m for m in %r if m in sys.modules)))
""" % (HEAVY,)


def heavy_imports(*argv: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", PROBE, *argv], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_export_and_stats_import_no_heavy_package():
    assert heavy_imports("export", "--help") == []
    assert heavy_imports("stats", "--help") == []
    assert heavy_imports("review", "--help") == []


def test_the_command_list_still_names_every_command():
    out = subprocess.run([sys.executable, "-m", "strawberry_dspy.cli", "--help"], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    assert all(name in out for name in ("run", "harvest", "stats", "review", "export", "train", "compile", "bootstrap",
                                        "ui"))
