"""MkDocs hook: the reference parts of the pages are generated from the code at build time, so they cannot drift.

A page asks for a generated block with an HTML comment on a line of its own:

- `<!-- fields: strawberry_dspy.config.ProgramSettings [PREFIX] -->`: a table of a recipe dataclass's keys (type,
  default, and the comment written beside the field, which is where recipe keys keep their help);
- `<!-- options: strawberry_dspy.compile.stage.CompileSettings -->`: a command's options (flag, `--key=value` /
  YAML key, default, help) from its options dataclass, as `strawberry_dspy/options.py` builds the flags;
- `<!-- help: run -->`: `strawberry run --help`, exactly as the parser prints it;
- `<!-- recipes -->`: the packaged recipes; `<!-- recipe: strawberry -->`: one recipe's file;
- `<!-- studies -->`: each study of eval/ (its question, result, command and date, from its README).

tests/test_docs.py builds the site with `mkdocs build --strict` and checks these blocks.
"""

from __future__ import annotations

import dataclasses
import html
import importlib
import io
import json
import os
import re
import tokenize
import typing
from dataclasses import MISSING
from pathlib import Path

MARKER = re.compile(r"^<!-- (fields|options|help|recipes|recipe|studies)(?::\s*(.*?))? -->$", re.M)
ROOT = Path(__file__).resolve().parents[1]
STUDY_FIELDS = ("Question", "Result", "Command", "Date")
HELP_COLUMNS = "100"


def _import(dotted: str):
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _cell(text: str) -> str:
    """Plain text for a table cell: no markup from the text itself, no cell breaks."""
    return html.escape(text, quote=False).replace("|", "\\|").replace("\n", " ")


def _code(value: str) -> str:
    """A code span for a table cell (a pipe inside a code span does not split the cell)."""
    return f"`` {value} ``" if "`" in value else f"`{value}`"


def field_comments(cls: type) -> dict[str, str]:
    """The help of each field of a dataclass: the comment on its line, else the comment lines just above it."""
    import inspect

    source = inspect.getsource(cls)
    comments: dict[int, str] = {}
    code_lines: set[int] = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            comments[token.start[0]] = token.string.lstrip("#").strip()
        elif token.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER):
            code_lines.add(token.start[0])
    result = {}
    lines = source.splitlines()
    for number, line in enumerate(lines, start=1):
        match = re.match(r"^    (\w+)\s*:", line)
        if not match:
            continue
        if number in comments:
            result[match.group(1)] = comments[number]
            continue
        above, n = [], number - 1
        while n in comments and n not in code_lines:
            above.insert(0, comments[n])
            n -= 1
        if above:
            result[match.group(1)] = " ".join(above)
    return result


def _default(f: dataclasses.Field):
    if f.default is not MISSING:
        return f.default
    if f.default_factory is not MISSING:
        return f.default_factory()
    return MISSING


def _shown(value) -> str:
    if value is MISSING:
        return "required"
    if dataclasses.is_dataclass(value) and hasattr(value, "lo"):  # the band
        return f"`{value.lo:g} {value.hi:g}`"
    if isinstance(value, str) and value and value.isprintable() and value.strip() == value:
        return _code(value)
    return _code(json.dumps(value, ensure_ascii=False))  # JSON is YAML: what a recipe would write


def fields_table(dotted: str, prefix: str = "") -> str:
    """A recipe dataclass's keys: key, type, default, what it means."""
    cls = _import(dotted)
    hints = typing.get_type_hints(cls)
    comments = field_comments(cls)
    rows = ["| key | type | default | meaning |", "| --- | --- | --- | --- |"]
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        nested = dataclasses.is_dataclass(hint) or any(dataclasses.is_dataclass(a) for a in typing.get_args(hint))
        default = "a section (below)" if nested and _default(f) is not None else _shown(_default(f))
        help = f.metadata.get("help") or comments.get(f.name, "")
        rows.append(f"| `{prefix}{f.name}` | {_code(str(f.type))} | {default} | {_cell(help)} |")
    return "\n".join(rows)


def options_table(dotted: str) -> str:
    """A command's options, as strawberry_dspy.options turns the dataclass into flags."""
    from strawberry_dspy import options as opts

    cls = _import(dotted)
    rows = ["| flag | `--key=value` / YAML key | default | meaning |", "| --- | --- | --- | --- |"]
    for path, f, hint in opts._fields(cls):
        flags = ", ".join(f"`{name}`" for name in (opts._flag(f), *f.metadata.get("aliases", ())))
        default = f.metadata.get("shown") or _default(f)
        default = _cell(default) if "shown" in f.metadata else "" if default in (None, "") else _shown(default)
        help = f.metadata["help"]
        if "choices" in f.metadata:
            help += " (" + ", ".join(map(str, f.metadata["choices"])) + ")"
        rows.append(f"| {flags} | `{opts._key(path, f)}` | {default} | {_cell(help)} |")
    return "\n".join(rows)


def command_help(command: str) -> str:
    """`strawberry COMMAND --help` as the parser prints it."""
    from strawberry_dspy.cli import build_parser

    os.environ["COLUMNS"] = HELP_COLUMNS  # argparse wraps to the terminal's width
    if command == "strawberry":  # the command list
        return f"```text\n{build_parser().format_help().rstrip()}\n```"
    parser = build_parser([command])
    sub = next(a for a in parser._actions if a.dest == "command").choices[command]
    return f"```text\n{sub.format_help().rstrip()}\n```"


def recipes_table() -> str:
    from strawberry_dspy.recipes import describe, recipe_names

    rows = ["| name | what it is |", "| --- | --- |"]
    rows += [f"| `{name}` | {_cell(describe(name))} |" for name in recipe_names()]
    return "\n".join(rows)


def recipe_file(name: str) -> str:
    from strawberry_dspy.recipes import RECIPES_DIR

    text = (RECIPES_DIR / f"{name.strip()}.yaml").read_text(encoding="utf-8").rstrip()
    return f'```yaml title="{name.strip()}.yaml"\n{text}\n```'


def study_fields(readme: Path) -> dict[str, str]:
    """A study README's fields: `- **Question:** ...` bullets or `**Question.** ...` paragraphs, each running on
    until a blank line or the next field or bullet."""
    fields: dict[str, str] = {}
    name = None
    for line in readme.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^(?:- )?\*\*(\w+)[.:]\*\*\s*(.*)", line)
        if match:
            name = match.group(1)
            fields[name] = match.group(2)
        elif name and line.strip() and not line.startswith("- "):
            fields[name] += " " + line.strip()
        else:
            name = None
    return {k: " ".join(re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", v).split())  # links point into eval/, not the site
            for k, v in fields.items() if k in STUDY_FIELDS}


def studies() -> str:
    """One section per study of eval/: its question, result, command and date, from its README."""
    parts = []
    for folder in sorted(p for p in (ROOT / "eval").iterdir() if p.is_dir()):
        readme = folder / "README.md"
        title = folder.name
        fields = study_fields(readme) if readme.is_file() else {}
        if readme.is_file():
            title = readme.read_text(encoding="utf-8").splitlines()[0].lstrip("# ").strip()
        parts.append(f"### {title}\n\nIn `eval/{folder.name}/`.\n")
        for name in STUDY_FIELDS:
            if name in fields:
                parts.append(f"- **{name}:** {fields[name]}")
        if not fields:
            parts.append("- Its folder holds the scripts, the committed rows and the report.")
        parts.append("")
    return "\n".join(parts)


def render(kind: str, argument: str | None) -> str:
    """The generated block a marker asks for."""
    words = (argument or "").split()
    if kind == "fields":
        return fields_table(*words)
    if kind == "options":
        return options_table(words[0])
    if kind == "help":
        return command_help(words[0])
    if kind == "recipes":
        return recipes_table()
    if kind == "studies":
        return studies()
    return recipe_file(words[0])


def on_page_markdown(markdown: str, **_) -> str:
    return MARKER.sub(lambda m: render(m.group(1), m.group(2)), markdown)
