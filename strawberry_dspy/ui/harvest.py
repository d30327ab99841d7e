"""Harvest browser: problems, pass rates and band of a harvest (refreshing while it is written), one problem's traces."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st

from strawberry_dspy.errors import UserError
from strawberry_dspy.export.config import WEIGHTINGS, ExportSettings
from strawberry_dspy.harvest.following import FINISHED, RUNNING, describe_progress, is_writing, progress_of
from strawberry_dspy.harvest.signals import NO_NUDGE_EFFECTS, verdict_names
from strawberry_dspy.ui import access, data, dirs
from strawberry_dspy.ui.widgets import plain, share, show_turns

REFRESH_S = 2.0


@st.cache_data(max_entries=32, show_spinner=False)
def _view(path: str, version: tuple) -> data.HarvestView:
    return data.harvest_view(path)


@st.cache_data(max_entries=8, show_spinner="computing verifier and nudge tables ...")
def _stats(path: str, version: tuple):
    return data.stats_of(path)


@st.cache_data(max_entries=32, show_spinner=False)
def _traces(path: str, problem_id: str, version: tuple):
    return data.problem_traces(path, problem_id)


@st.cache_data(max_entries=16, show_spinner=False)
def _pairs(path: str, version: tuple, band: tuple, max_pairs: int, weighting: str, alpha: float) -> list[dict]:
    return data.dpo_pairs(path, ExportSettings(band=band, max_pairs=max_pairs, weighting=weighting, alpha=alpha))


def problems_frame(view: data.HarvestView) -> pd.DataFrame:
    """The problems table: pass rate, samples, band membership, tokens, a reviewer's flags."""
    traces = Counter(f.problem_id for f in view.flags if f.trace_id is not None)
    problems = {f.problem_id for f in view.flags if f.trace_id is None}
    return pd.DataFrame([{
        "problem": p.id, "question": p.question, "gold": p.answer, "split": p.split, "samples": p.samples,
        "failed": p.failed, "correct": p.correct, "pass rate": p.pass_rate, "in band": p.in_band,
        "completion tokens": p.completion_tokens, "cached": share(p.cached_tokens, p.prompt_tokens),
        "flagged": "problem" if p.id in problems else f"{traces[p.id]} traces" if traces[p.id] else "",
    } for p in view.problems])


def histogram(view: data.HarvestView) -> alt.Chart:
    """How many problems have each pass rate, the band's bars coloured."""
    counts = Counter((round(p.pass_rate, 3), p.in_band) for p in view.problems if p.pass_rate is not None)
    frame = pd.DataFrame([{"pass rate": rate, "problems": n, "in band": band} for (rate, band), n in counts.items()])
    return alt.Chart(frame).mark_bar(size=14).encode(
        x=alt.X("pass rate:Q", scale=alt.Scale(domain=[0, 1])), y=alt.Y("problems:Q", axis=alt.Axis(tickMinStep=1, format="d")),
        color=alt.Color("in band:N", scale=alt.Scale(domain=[True, False], range=["#e4572e", "#9aa5b1"])),
        tooltip=["pass rate", "problems", "in band"])


def _filtered(view: data.HarvestView) -> list[data.ProblemSummary]:
    band, solved = st.columns(2)
    which = band.segmented_control("band", ["all", "in band", "outside"], default="all", key="band_filter")
    outcome = solved.segmented_control("correct", ["any", "solved at least once", "never solved"], default="any",
                                       key="correct_filter")
    splits = sorted({p.split for p in view.problems})
    chosen = st.multiselect("split", splits, default=splits, key="split_filter") if len(splits) > 1 else splits
    keep = []
    for p in view.problems:
        if (which == "in band" and not p.in_band) or (which == "outside" and p.in_band) or p.split not in chosen:
            continue
        if (outcome == "solved at least once" and not p.correct) or (outcome == "never solved" and p.correct):
            continue
        keep.append(p)
    return keep


def _default_problem(problems: list[data.ProblemSummary]) -> int:
    """The first problem with both correct and incorrect traces (the interesting kind), else the first."""
    return next((i for i, p in enumerate(problems) if p.pass_rate is not None and 0 < p.pass_rate < 1), 0)


def _changed() -> None:
    """After a flag is written: drop the cached reads (a quick second write may leave the file's size and time as
    they were) and draw the page again."""
    for cached in (_view, _traces, _pairs):
        cached.clear()
    st.rerun()


def _flag_controls(path: str, key: str, flag, what: str, **target) -> None:
    """A flag's note and a button to flag (or unflag) a trace or a whole problem."""
    if flag is not None:
        st.text(f"flagged {flag.created_at}" + (f": {flag.note}" if flag.note else "") + " (left out of exports)")
        if st.button(f"Unflag {what}", key=f"unflag_{key}"):
            _write(lambda: data.unflag(path, **target))
        return
    note = st.text_input(f"note on the {what} (optional)", key=f"note_{key}",
                         placeholder="e.g. right answer, wrong reasoning")
    if st.button(f"Flag {what}", key=f"flag_{key}", help="keep it out of exports (strawberry review, export)"):
        _write(lambda: data.flag(path, note, **target))


def _write(change) -> None:
    """Write a flag change; its error is shown on the page, then the page is drawn again from the store."""
    try:
        change()
    except UserError as exc:
        st.error(f"error: {exc}")
        return
    _changed()


def _trace_column(path: str, title: str, traces: list, flags: dict) -> None:
    st.markdown(f"**{title} ({len(traces)})**")
    for number, (row, turns) in enumerate(traces):
        rule = f" (read as {plain(repr(row.extracted))}, rule {plain(row.rule)})" if row.rule else ""
        flagged = " · flagged" if row.id in flags else ""
        label = (f"sample {row.sample} · answer {plain(repr(row.final_answer))}{rule} · {plain(row.stop_reason)} · "
                 f"{row.steps} steps · {row.completion_tokens} tokens · trace {row.id}{flagged}")
        with st.expander(label, expanded=number == 0):
            if row.error:
                st.error(plain(row.error))
            elif not row.failed:  # a failed trace is never exported: nothing to flag
                _flag_controls(path, f"trace_{row.id}", flags.get(row.id), "trace", trace_id=row.id)
            show_turns(turns)


def _problem(path: str, version: tuple, view: data.HarvestView, problem: data.ProblemSummary) -> None:
    rate = "no sample yet" if problem.pass_rate is None else f"pass rate {problem.pass_rate:.2f}"
    st.markdown(f"**{plain(problem.id)}** — {plain(problem.question)}")
    st.caption(f"gold {plain(repr(problem.answer))} · {rate} ({problem.correct}/{problem.samples - problem.failed}) · "
               f"{'in' if problem.in_band else 'outside'} the band {view.band.lo:g}–{view.band.hi:g} · split {plain(problem.split)}")
    with st.expander("review: flag this problem" + (" · flagged" if view.problem_flag(problem.id) else "")):
        _flag_controls(path, f"problem_{problem.id}", view.problem_flag(problem.id), "problem", problem_id=problem.id)
    traces = _traces(path, problem.id, version)
    right, wrong = st.columns(2)
    with right:
        _trace_column(path, "correct", [t for t in traces if t[0].correct], view.trace_flags())
    with wrong:
        _trace_column(path, "incorrect", [t for t in traces if not t[0].correct], view.trace_flags())
    st.subheader(f"DPO pairs `strawberry export --format dpo --band {view.band.lo:g} {view.band.hi:g}` would build")
    a, b, c = st.columns(3)
    max_pairs = a.number_input("max pairs per problem", 1, 64, 4, key="max_pairs")
    weighting = b.selectbox("weighting", WEIGHTINGS, key="weighting")
    alpha = c.number_input("alpha", -5.0, 5.0, 1.0, 0.5, key="alpha")
    rows = [r for r in _pairs(path, version, view.band, int(max_pairs), weighting, float(alpha))
            if r["problem_id"] == problem.id]
    if not rows:
        st.caption("no pairs: a pair needs a correct and an incorrect trace of a problem in the band, outside "
                   "the evaluation split (export's decontamination)")
        return
    sample_of = {row.id: row.sample for row, _ in traces}
    st.dataframe(pd.DataFrame([{"chosen sample": sample_of.get(r["chosen_trace_id"]), "rejected sample":
                                sample_of.get(r["rejected_trace_id"]), "chosen steps": r["chosen_steps"],
                                "rejected steps": r["rejected_steps"], "weight": r["weight"]} for r in rows]),
                 hide_index=True)
    st.caption("weights are scaled to average 1 over the whole export (every problem in the band)")
    for i, r in enumerate(rows, 1):  # the texts a trainer sees: chosen against rejected
        with st.expander(f"pair {i} · weight {r['weight']:.3f} · chosen sample {sample_of.get(r['chosen_trace_id'])} "
                         f"({r['chosen_steps']} steps) vs rejected sample {sample_of.get(r['rejected_trace_id'])} "
                         f"({r['rejected_steps']} steps)", expanded=i == 1):
            chosen, rejected = st.columns(2)
            chosen.markdown("**chosen**")
            chosen.text(_completion_text(r["chosen"]))
            rejected.markdown("**rejected**")
            rejected.text(_completion_text(r["rejected"]))


def _completion_text(messages: list[dict] | str) -> str:
    """A DPO completion as text: one message's content, or each message of a multi-turn one under its role."""
    if isinstance(messages, str):
        return messages
    if len(messages) == 1:
        return messages[0].get("content", "")
    return "\n\n".join(f"[{m.get('role')}] {m.get('content', '')}" for m in messages)


def _stats_tables(path: str, version: tuple) -> None:
    # off by default: these tables read and score every turn, again on each refresh of a running harvest
    if not st.toggle("compute the verifier and nudge tables (reads every turn)", key="show_stats"):
        return
    stats = _stats(path, version)
    v = stats.verifier
    st.markdown("**Verifier verdicts against the gold outcome**")
    if not v.traces:
        st.caption("no verdicts (the verifier was off: strawberry.verifier_every=0)")
    else:
        st.dataframe(pd.DataFrame([{"verdict": name, "on correct traces": v.verdicts[name][0],
                                    "on incorrect traces": v.verdicts[name][1]} for name in verdict_names(v)]),
                     hide_index=True)
        st.caption(f"AUROC of 'incorrect' verdicts for an incorrect trace: "
                   f"{'n/a' if v.auroc is None else f'{v.auroc:.3f}'} (0.5 = chance), {v.traces} traces")
    st.markdown("**User prompts that preceded a change of the stated answer**")
    if not stats.nudges:
        st.caption(NO_NUDGE_EFFECTS)
    else:
        st.dataframe(pd.DataFrame([{"prompt": label, "sent after an answer": e.sent, "answer changed": e.changed,
                                    "wrong→right": e.corrections, "right→wrong": e.regressions}
                                   for label, e in stats.nudges.items()]), hide_index=True)
        st.caption("#i: the recipe's nudge i, as the recipe words it (without the re-anchored problem)")
    st.dataframe(pd.DataFrame(stats.stop_reasons, columns=["stop reason", "traces", "correct"]), hide_index=True)


def _following(view: data.HarvestView) -> None:
    """The harvest run's state: running or finished, done / total, traces/s, ETA, failures, 429s and retries."""
    record = progress_of(view.meta, is_writing(view.path))
    if record is None:
        st.caption("no progress record (harvested before this version kept one)")
        return
    show = {RUNNING: st.info, FINISHED: st.success}.get(record["state"], st.warning)
    show(plain(describe_progress(record)), icon=None)  # the record is read from a file: its text stays text
    if record["state"] == RUNNING and record.get("total"):
        st.progress(min(record["done"] / record["total"], 1.0))


def _browse(path: str) -> None:
    version = data.store_version(path)
    try:
        view = _view(path, version)
    except UserError as exc:
        st.error(f"error: {plain(exc)}")
        return
    meta = view.meta
    st.caption(plain(f"{meta.get('program')} on {meta.get('benchmark')} ({meta.get('split')} split) · model "
                     f"{meta.get('model')} · temperature {meta.get('temperature')}"))
    _following(view)
    rated = [p for p in view.problems if p.pass_rate is not None]
    cols = st.columns(5)
    cols[0].metric("problems", len(view.problems))
    cols[1].metric("traces", view.traces)
    cols[2].metric("pass rate", share(sum(p.correct for p in view.problems),
                                      sum(p.samples - p.failed for p in view.problems)))
    cols[3].metric(f"in band {view.band.lo:g}–{view.band.hi:g}", sum(p.in_band for p in view.problems))
    cols[4].metric("completion tokens", sum(p.completion_tokens for p in view.problems))
    problems_tab, stats_tab = st.tabs(["Problems", "Verifier and nudges"])
    with problems_tab:
        if rated:
            st.altair_chart(histogram(view), width="stretch")
        shown = _filtered(view)
        st.dataframe(problems_frame(data.HarvestView(view.path, meta, view.band, shown, view.flags)), hide_index=True,
                     column_config={"pass rate": st.column_config.NumberColumn(format="%.2f")})
        if shown:
            by_id = {p.id: p for p in shown}
            chosen = st.selectbox("problem", list(by_id), index=_default_problem(shown), key="problem",
                                  format_func=lambda pid: f"{pid} · {by_id[pid].question[:80]}")
            _problem(path, version, view, by_id[chosen])
    with stats_tab:
        _stats_tables(path, version)


def render() -> None:
    """The Harvest browser page."""
    st.title("Harvest browser")
    known = [str(p) for p in dirs.given().harvests]
    path = st.selectbox("harvest directory", known, index=0 if known else None, accept_new_options=True,
                        placeholder="a directory holding traces.sqlite", key="harvest_dir")
    follow = st.toggle(f"follow a running harvest (refresh every {REFRESH_S:g} s)", value=True, key="follow")
    if not path:
        st.info("No harvest chosen: start `strawberry ui DIR` on a harvest directory or type its path above.")
        return
    try:
        access.readable(path, "harvest directory")
    except UserError as exc:
        st.error(f"error: {plain(exc)}")
        return
    if not data.is_harvest_dir(Path(path)) and not Path(path).is_file():
        st.error(f"error: no trace store at {plain(repr(path))}: pass a directory written by "
                 "`strawberry harvest --out DIR`")
        return
    st.fragment(run_every=REFRESH_S if follow else None)(_browse)(path)
