"""The commands and Python examples the documentation shows, read out of its Markdown (docs/ and README.md).

A fenced `bash` block's lines that start with `strawberry` are commands (a trailing backslash continues a line, `#`
starts a comment). An HTML comment on the line before the fence says how a test treats the block:

- none: each command runs, in order, in one scratch folder per page, against a loopback OpenAI-compatible server;
- `<!-- docs-test: parse -->`: each command is only parsed by the real parser (a real provider, a cluster, minutes of
  training, a server that runs until stopped).

A fenced `python` block runs as it is (one fresh interpreter per block).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"(?:^<!-- docs-test: (\w+) -->\n)?^```(\w+)[^\n]*\n(.*?)^```", re.M | re.S)
MODES = ("run", "parse")


@dataclass(frozen=True)
class DocCommand:
    page: str  # relative to the repository
    mode: str  # run | parse
    argv: tuple[str, ...]  # without the leading `strawberry`

    def __str__(self) -> str:
        return f"{self.page}: strawberry {shlex.join(self.argv)}"


def pages() -> list[Path]:
    """The documentation's Markdown: every page of docs/ and the README."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def blocks(page: Path, language: str) -> list[tuple[str, str]]:
    """(mode, code) of the page's fenced blocks in `language`."""
    found = []
    for match in FENCE.finditer(page.read_text(encoding="utf-8")):
        mode, lang, code = match.group(1) or "run", match.group(2), match.group(3)
        if lang == language:
            if mode not in MODES:
                raise ValueError(f"{page}: unknown docs-test mode {mode!r}: use one of {MODES}")
            found.append((mode, code))
    return found


def commands(page: Path) -> list[DocCommand]:
    """The `strawberry ...` commands of a page's bash blocks, in order."""
    found = []
    for mode, code in blocks(page, "bash"):
        for line in code.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if words and Path(words[0]).name == "strawberry":
                found.append(DocCommand(str(page.relative_to(ROOT)), mode, tuple(words[1:])))
    return found


def all_commands() -> list[DocCommand]:
    return [command for page in pages() for command in commands(page)]


def python_blocks() -> list[tuple[str, int, str]]:
    """(page, index, code) of every python block the docs show."""
    return [(str(page.relative_to(ROOT)), i, code) for page in pages()
            for i, (_, code) in enumerate(blocks(page, "python"))]
