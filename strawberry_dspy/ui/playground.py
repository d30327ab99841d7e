"""Playground: a program answers one problem while you watch each turn being written; stop, continue, save as a run."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import streamlit as st

from strawberry_dspy.benchmarks import SPLIT_FRACTIONS, Problem
from strawberry_dspy.config import ProgramSettings, parse_overrides
from strawberry_dspy.errors import UserError
from strawberry_dspy.program_file import load_program
from strawberry_dspy.recipes import RECIPES_DIR, TRAIN_PREFIX, recipe_names, resolve_recipe
from strawberry_dspy.ui import access, live
from strawberry_dspy.ui.widgets import plain, share, show_partial, show_turns

REFRESH_S = 0.5
LOCAL_RECIPES = Path("programs")  # a folder of the user's own recipes, where the UI is started
DEFAULT_PROGRAM = "strawberry"
_draw = st.cache_data(live.random_problem, show_spinner="loading the benchmark ...")


def recipe_choices() -> list[str]:
    """The packaged programs by name (wherever the UI is started), then recipes of ./programs that are not the
    packaged files themselves (in the repository programs/ is the packaged folder); any other path can be typed."""
    own = [str(p) for p in sorted(LOCAL_RECIPES.glob("*.yaml"))
           if not p.name.startswith(TRAIN_PREFIX) and p.resolve().parent != RECIPES_DIR]
    return [*recipe_names(train=False), *own]


def overrides_of(text: str, model: str, api_base: str) -> dict:
    """The page's model fields and --key=value lines as one override dict (what the CLI builds from its flags)."""
    overrides = parse_overrides([line.strip() for line in text.splitlines() if line.strip()])
    if model.strip():
        overrides["model"] = model.strip()
    if api_base.strip():
        overrides["api_base"] = api_base.strip()
    return overrides


def _problem_inputs() -> tuple[Problem | None, str | None]:
    """The problem to answer and the benchmark it came from (None when typed): that benchmark's scorer grades it."""
    source = st.radio("problem", ["type one", "random from a benchmark"], horizontal=True, key="source")
    if source == "type one":
        question = st.text_area("question", key="question", placeholder="What is 17 + 25?")
        gold = st.text_input("gold answer (optional)", key="gold")
        return (Problem(live.TYPED_ID, question.strip(), gold.strip()) if question.strip() else None), None
    spec_col, split_col, seed_col = st.columns([4, 1, 1])
    spec = spec_col.text_input("benchmark spec", ProgramSettings().benchmark, key="spec")
    split = split_col.selectbox("split", list(SPLIT_FRACTIONS), index=list(SPLIT_FRACTIONS).index("test"), key="split")
    draw = seed_col.number_input("draw", 0, 10**6, 0, key="draw", help="which random draw: change it for another problem")
    try:
        problem = _draw(access.benchmark_readable(spec), split, int(draw))
    except UserError as exc:
        st.error(f"error: {plain(exc)}")
        return None, None
    st.markdown(f"**{plain(problem.id)}** — {plain(problem.question)}")
    st.caption(f"gold answer: {plain(problem.answer)}")
    return problem, spec


def _start(program: str, overrides_text: str, model: str, api_base: str, problem: Problem, benchmark: str | None,
           seed: int) -> None:
    try:
        config, module = load_program(str(access.readable(resolve_recipe(program), "program")),
                                      overrides_of(overrides_text, model, api_base))
        lm = live.make_lm(config)
        run = live.LiveRun(config, module, lm, problem, benchmark, seed)
        run.start()
    except UserError as exc:
        st.session_state.error = f"error: {plain(exc)}"
        return
    st.session_state.live, st.session_state.error = run, None


def _controls(run: live.LiveRun | None) -> None:
    running = run is not None and run.running
    stop, more, go_on = st.columns([1, 1, 2])
    if stop.button("Stop", disabled=not running or run.stopping, key="stop"):
        run.stop()
        st.rerun()  # redrawn at once: Stop greyed out, the page saying it stops after the turn in progress
    turns = more.number_input("more turns", 1, 200, 4, key="more_turns", label_visibility="collapsed")
    if go_on.button(f"Continue for {turns} more turns", disabled=run is None or not run.can_continue, key="continue"):
        run.start(int(turns))
        st.rerun()


def _verdict(run: live.LiveRun) -> None:
    """The outcome above the chat: correct or not, the answer and gold, steps, tokens, stop reason."""
    trace, score = run.trace, run.score
    if trace is None:
        return
    if trace.error:
        st.error(plain(f"the run ended with an error: {trace.error}"))
    answer = "none" if trace.final_answer is None else plain(repr(trace.final_answer))
    gold = plain(repr(run.problem.answer))
    if score is None or not run.problem.answer:
        st.info(f"final answer {answer} (no gold answer to score it against)")
    elif score.correct:
        st.success(f"✓ correct: final answer {answer}, gold {gold}")
    else:
        st.warning(f"✗ incorrect: final answer {answer} (read as {plain(repr(score.extracted))}), gold {gold}")
    cols = st.columns(4)
    cols[0].metric("steps", trace.steps)
    cols[1].metric("turns", len(trace.turns))
    cols[2].metric("completion tokens", trace.total("completion_tokens"))
    cols[3].metric("cached prompt", share(trace.total("cached_tokens"), trace.total("prompt_tokens")))
    st.caption(f"stop reason: {trace.stop_reason} · {trace.latency_s:.1f} s in LM calls")


def _save(run: live.LiveRun) -> None:
    if run.trace is None:
        return
    st.session_state.setdefault("save_dir", f"runs/playground-{datetime.now():%Y%m%d-%H%M%S}")
    out = st.text_input("save the trace as a run directory", key="save_dir")
    if st.button("Save", key="save"):
        try:
            st.success(plain(f"saved: {run.save(access.writable(out))}"))
        except UserError as exc:
            st.error(f"error: {plain(exc)}")


def _turns_view() -> None:
    run: live.LiveRun | None = st.session_state.get("live")
    if run is None:
        return
    partial = run.partial  # first: if its turn is recorded before `turns` is read, the turn shows instead of it
    turns = list(run.turns)
    show_turns(turns)
    if run.running and partial is not None and partial.after == len(turns):
        show_partial(partial.source, partial.text, partial.thinking)
    if run.running:  # once Stop is pressed, the page says so until the turn in flight is finished
        doing = "stopping after the turn in progress" if run.stopping else "running"
        st.caption(f"{doing} … {len(turns)} turns so far")
    elif st.session_state.get("was_running"):
        st.rerun()  # the worker finished between refreshes: redraw the page with the result and the buttons


def render() -> None:
    """The Playground page."""
    st.title("Playground")
    choices = recipe_choices()
    left, right = st.columns([2, 1])
    program = left.selectbox("program: a recipe or a compiled .json", choices, accept_new_options=True, key="program",
                             index=choices.index(DEFAULT_PROGRAM) if DEFAULT_PROGRAM in choices else 0)
    seed = right.number_input("seed", 0, 2**31 - 1, 0, key="seed")
    model_col, base_col = st.columns(2)
    model = model_col.text_input("model spec (empty: the recipe's)", key="model",
                                 placeholder="local, ollama_chat/NAME, openai/NAME, hf:DIR, ...")
    api_base = base_col.text_input("API base (openai/... servers)", key="api_base")
    overrides_text = st.text_area("knob overrides, one --key=value per line", key="overrides",
                                  placeholder="--strawberry.max_turns=6\n--temperature=0.2")
    problem, benchmark = _problem_inputs()
    run: live.LiveRun | None = st.session_state.get("live")
    busy = run is not None and run.running
    if st.button("Run", type="primary", disabled=busy or problem is None or not program, key="run"):
        _start(program, overrides_text, model, api_base, problem, benchmark, int(seed))
        run = st.session_state.get("live")
    if st.session_state.get("error"):
        st.error(st.session_state.error)
    _controls(run)
    running = run is not None and run.running
    st.session_state.was_running = running
    if run is not None and not running:
        _verdict(run)  # at the top, as a chat app shows its answer: the turns below are how it got there
    st.fragment(run_every=REFRESH_S if running else None)(_turns_view)()
    if run is not None and not running:
        _save(run)
