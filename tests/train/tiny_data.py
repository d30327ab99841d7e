"""Tiny hand-made datasets in TRL's conversational formats, for the train tests."""

from __future__ import annotations

import json
from pathlib import Path


def _chat(role: str, text: str) -> list[dict]:
    return [{"role": role, "content": text}]


def dpo_rows() -> list[dict]:
    """Hand-made DPO pairs in TRL's conversational format (+ the export's extra columns)."""
    rows = []
    for a, b in [(2, 3), (4, 1), (3, 3), (5, 2), (1, 6), (2, 2)]:
        rows.append({"prompt": _chat("user", f"What is {a} + {b}?"),
                     "chosen": _chat("assistant", f"{a} plus {b} is {a + b}. <final_answer>{a + b}</final_answer>"),
                     "rejected": _chat("assistant", f"<final_answer>{a + b + 1}</final_answer>"),
                     "weight": 1.0, "problem_id": f"p{a}{b}"})
    return rows


def kto_rows() -> list[dict]:
    """Hand-made KTO rows in TRL's conversational format."""
    rows = []
    for row in dpo_rows():
        rows.append({"prompt": row["prompt"], "completion": row["chosen"], "label": True})
        rows.append({"prompt": row["prompt"], "completion": row["rejected"], "label": False})
    return rows


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path
