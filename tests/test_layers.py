"""The package's parts import one way: each only parts below it in LAYERS, imports inside functions included."""

import ast
from pathlib import Path

import strawberry_dspy

PACKAGE = Path(strawberry_dspy.__file__).parent
# low to high: a part (a subpackage or a top-level module) may import only the parts listed before it
LAYERS = [
    "errors", "lazy", "text_input", "safe_yaml", "recipes", "provenance", "extras", "cache_dir", "band", "stats", "report", "stage_output",
    "scoring", "benchmarks", "trivial", "retry_settings", "knobs", "config", "models", "program", "leaks", "admission",
    "store", "cost", "attempt", "executors", "options", "evaluate", "compile", "program_file", "harvest", "run",
    "compare", "review", "export", "train", "bootstrap", "ui", "testing", "cli", "__init__",
]


def part(module: str) -> str | None:
    bits = module.split(".")
    return bits[1] if len(bits) > 1 and bits[0] == "strawberry_dspy" else None


def imported_parts(path: Path) -> set[str]:
    """The parts a file imports, at any depth of its code (absolute imports: the package uses no relative ones)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: a relative import"
            names.add(node.module)
            if node.module == "strawberry_dspy":
                names |= {f"strawberry_dspy.{alias.name}" for alias in node.names}
    return {p for p in map(part, names) if p}


def test_every_part_imports_only_the_parts_below_it():
    upward = []
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE)
        here = relative.parts[0].removesuffix(".py") if len(relative.parts) > 1 or relative.stem != "__init__" else "__init__"
        parts = imported_parts(path)
        new = {here, *parts} - set(LAYERS)
        assert not new, f"new part(s) {sorted(new)}: place them in LAYERS"
        upward += [f"{relative} imports {there}" for there in parts
                   if there != here and LAYERS.index(there) > LAYERS.index(here)]
    assert not upward, "imports that go up the layers (a cycle waiting to happen):\n" + "\n".join(sorted(upward))
