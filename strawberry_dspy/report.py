"""Plain-text tables for the terminal and the run directory."""

from __future__ import annotations


def format_table(rows: list[tuple[str, str]], title: str | None = None) -> str:
    """Two aligned columns, with an optional title line."""
    width = max((len(k) for k, _ in rows), default=0)
    lines = [title, "-" * max(len(title or ""), width + 2 + max((len(v) for _, v in rows), default=0))] if title else []
    lines += [f"{k.ljust(width)}  {v}" for k, v in rows]
    return "\n".join(lines)


def format_grid(header: list[str], body: list[list[str]]) -> str:
    """A table with a header row; columns aligned to their widest cell."""
    widths = [max(len(str(row[i])) for row in [header, *body]) for i in range(len(header))]
    def line(row):
        return "  ".join(str(cell).ljust(w) for cell, w in zip(row, widths))
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, body)])
