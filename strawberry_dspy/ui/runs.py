"""Runs page: two or more run directories side by side — accuracy with intervals, paired differences, agreement."""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st
import yaml

from strawberry_dspy import safe_yaml
from strawberry_dspy.stats import accuracy_of_rows, mcnemar_p, paired, pass_rates
from strawberry_dspy.errors import UserError
from strawberry_dspy.program.trace import Trace
from strawberry_dspy.ui import access, dirs
from strawberry_dspy.ui.widgets import plain, show_turns


@dataclass
class Run:
    """One run directory: its summary, config and per-problem results."""

    path: Path
    name: str
    summary: dict
    config: dict
    results: list[dict]

    @property
    def correct(self) -> dict[str, bool]:
        return {r["problem_id"]: bool(r["correct"]) for r in self.results}


def load_run(path: str | Path) -> Run:
    """Read results.jsonl, summary.json and config.yaml of a run directory; a UserError when it is not one."""
    path = Path(path)
    try:
        results = [json.loads(line) for line in (path / dirs.RESULTS_FILE).read_text().splitlines() if line.strip()]
        summary = json.loads((path / "summary.json").read_text()) if (path / "summary.json").is_file() else {}
        config = safe_yaml.load((path / "config.yaml").read_text()) if (path / "config.yaml").is_file() else {}
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise UserError(f"{path} is not a readable run directory ({exc}): pass one written by `strawberry run`") from None
    return Run(path, path.name, summary, config or {}, results)


def accuracy_table(runs: list[Run]) -> pd.DataFrame:
    """Per run: program, model, correct traces / traces, problems, mean accuracy and its 95% interval over problems."""
    rows = []
    for run in runs:
        acc = accuracy_of_rows(run.results)
        rows.append({"run": run.name, "program": run.config.get("program"), "model": run.config.get("model"),
                     "correct": acc.correct, "traces": acc.samples, "problems": acc.problems, "accuracy": acc.mean,
                     "low": acc.low, "high": acc.high})
    return pd.DataFrame(rows)


def paired_table(runs: list[Run]) -> pd.DataFrame:
    """Each later run minus the first on their shared problems: mean paired difference of pass rates, its 95%
    interval, the permutation p and the smallest difference the comparison could detect (80% power)."""
    reference, rows = pass_rates(runs[0].results)[0], []
    for run in runs[1:]:
        diff = paired(reference, pass_rates(run.results)[0])
        rows.append({"run": run.name, "minus": runs[0].name, "shared problems": diff.problems,
                     "difference": diff.diff, "low": diff.low, "high": diff.high, "p": diff.p,
                     "detectable ±": diff.detectable, "better / worse": f"{diff.only_b} / {diff.only_a}"})
    return pd.DataFrame(rows)


def agreement(runs: list[Run]) -> pd.DataFrame:
    """Every problem any run saw, one column per run: True, False, or None when the run did not see it."""
    ids = list(dict.fromkeys(pid for run in runs for pid in run.correct))
    return pd.DataFrame({run.name: [run.correct.get(pid) for pid in ids] for run in runs}, index=pd.Index(ids, name="problem"))


def pairwise(runs: list[Run]) -> pd.DataFrame:
    """For each pair of runs, on the problems both saw: both right, only one, both wrong, exact McNemar p."""
    rows = []
    for a, b in combinations(runs, 2):
        shared = [pid for pid in a.correct if pid in b.correct]
        only_a = sum(a.correct[p] and not b.correct[p] for p in shared)
        only_b = sum(b.correct[p] and not a.correct[p] for p in shared)
        both = sum(a.correct[p] and b.correct[p] for p in shared)
        rows.append({"A": a.name, "B": b.name, "shared problems": len(shared), "both right": both,
                     "only A": only_a, "only B": only_b, "both wrong": len(shared) - both - only_a - only_b,
                     "McNemar p": round(mcnemar_p(only_a, only_b), 4)})
    return pd.DataFrame(rows)


def accuracy_chart(table: pd.DataFrame) -> alt.Chart:
    """Accuracy bars with their Wilson intervals."""
    base = alt.Chart(table).encode(y=alt.Y("run:N", sort=None, title=None))
    bars = base.mark_bar(color="#e4572e").encode(x=alt.X("accuracy:Q", scale=alt.Scale(domain=[0, 1]), title="accuracy"),
                                                 tooltip=["run", "correct", "problems", "accuracy", "low", "high"])
    return bars + base.mark_errorbar(ticks=True).encode(x=alt.X("low:Q", title="accuracy"), x2="high:Q")


def _pick_runs() -> list[Run]:
    known = [str(p) for p in dirs.given().runs]
    chosen = st.multiselect("run directories", known, default=known[:4], accept_new_options=True,
                            help="`strawberry ui DIR ...` lists them; type another path to add it")
    runs = []
    for path in chosen:
        try:
            runs.append(load_run(access.readable(path, "run directory")))
        except UserError as exc:
            st.error(f"error: {plain(exc)}")
    return runs


def render() -> None:
    """The Runs page."""
    st.title("Runs")
    runs = _pick_runs()
    if not runs:
        st.info("No run directory chosen: start `strawberry ui runs/` or type a run directory's path above.")
        return
    table = accuracy_table(runs)
    st.subheader("Accuracy (mean per-problem pass rate, 95% interval)")
    st.altair_chart(accuracy_chart(table), width="stretch")
    st.dataframe(table, hide_index=True, column_config={c: st.column_config.NumberColumn(format="%.3f")
                                                         for c in ("accuracy", "low", "high")})
    grid = agreement(runs)
    if len(runs) > 1:
        st.subheader(f"Paired difference against {runs[0].name}")
        st.caption("On the problems both runs saw: the mean difference of per-problem pass rates, its 95% interval, "
                   "a paired permutation test's p, and the smallest difference this comparison could detect.")
        st.dataframe(paired_table(runs), hide_index=True,
                     column_config={c: st.column_config.NumberColumn(format="%.3f")
                                    for c in ("difference", "low", "high", "p", "detectable ±")})
        st.subheader("Agreement")
        st.dataframe(pairwise(runs), hide_index=True)
    st.subheader("Per problem")
    questions = {r["problem_id"]: " ".join(str(r.get("question") or r["problem_id"]).split())
                 for run in runs for r in run.results}  # rows are keyed by their question, not its hash
    shown = grid.map(lambda v: "—" if v is None else "✓" if v else "✗")
    st.dataframe(shown.set_axis(pd.Index([questions.get(pid, pid) for pid in grid.index], name="question")))
    problem = st.selectbox("one problem's traces", list(grid.index), format_func=lambda pid: questions.get(pid, pid))
    if problem is None:
        return
    for column, run in zip(st.columns(len(runs)), runs):
        result = next((r for r in run.results if r["problem_id"] == problem), None)
        with column:
            st.markdown(f"**{plain(run.name)}**")
            if result is None:
                st.caption("not in this run")
                continue
            mark = "✓ correct" if result["correct"] else "✗ incorrect"
            st.caption(plain(f"{mark} · answer {result['answer']!r} (gold {result['gold']!r}) · {result['stop_reason']} "
                             f"· {result['steps']} steps · {result['completion_tokens']} completion tokens"))
            show_turns(Trace.from_dict(result["trace"]).turns)
