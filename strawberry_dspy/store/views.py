"""The store's read views: every query a reader makes (harvest resume, selection, stats, signals, export, the UI).

Views that may cover the whole store stream (iterate a cursor, or go problem by problem) instead of loading every
turn into memory.
"""

from __future__ import annotations

import json
from itertools import groupby
from operator import itemgetter
from typing import Iterable, Iterator

from strawberry_dspy.band import DEFAULT_BAND, Band, pass_rate
from strawberry_dspy.program.trace import Trace, Turn
from strawberry_dspy.store.rows import Flag, ProblemRow, StoredTrace, StoredTurn, TraceRow, stored_turn
from strawberry_dspy.store.schema import CACHE_WRITE_KEY, FAILED, REASONING_TOKENS_KEY, STATED_KINDS, WHOLE_PROBLEM

VERDICT, NUDGE, CHECK, ANSWER = range(4)  # the events of `signal_events`
PROBLEM_COLUMNS = "id, question, answer, split, qhash, metadata_json, pass_rate, in_band"
STORED_TRACE_COLUMNS = "t.id, t.problem_id, t.sample, t.correct, t.steps, t.completion_tokens, t.stop_reason, t.final_answer"


def _problem(row: tuple) -> ProblemRow:
    return ProblemRow(*row[:5], json.loads(row[5] or "{}"), row[6], None if row[7] is None else bool(row[7]))


class StoreViews:
    """Read queries of a `TraceStore` (mixed into it; `self.conn` and `self.path` come from the store)."""

    # -- meta and problems -------------------------------------------------------------------------------------
    def meta(self) -> dict[str, str]:
        """All meta rows as a dict."""
        return dict(self.conn.execute("SELECT key, value FROM meta"))

    def band(self) -> Band | None:
        """The band the harvest's last selection used (None before one ran)."""
        stored = self.meta().get("band")
        return Band.of(stored.split(",")) if stored else None

    def selection_band(self, band: Band | None = None) -> Band:
        """The band a selection uses: `band` when given, else the one the harvest used, else the default."""
        return band or self.band() or DEFAULT_BAND

    def in_band(self, band: Band | None = None) -> dict[str, float]:
        """problem id -> pass rate of the problems whose pass rate lies in the band (None: `selection_band()`), in
        store order: the one membership test of harvest, stats, export and the UI."""
        band = self.selection_band(band)
        return {pid: rate for pid, rate in self.pass_rates().items() if band.contains(rate)}

    def meta_json(self, key: str) -> dict:
        """A JSON-valued meta entry (versions_json, config_json) as a dict; {} when absent or unreadable."""
        try:
            return json.loads(self.meta().get(key) or "{}")
        except json.JSONDecodeError:
            return {}

    def problems(self) -> Iterator[ProblemRow]:
        """Every problem, in insertion order."""
        for row in self.conn.execute(f"SELECT {PROBLEM_COLUMNS} FROM problems ORDER BY rowid").fetchall():
            yield _problem(row)

    def problem(self, problem_id: str) -> ProblemRow | None:
        """One problem by id, or None."""
        row = self.conn.execute(f"SELECT {PROBLEM_COLUMNS} FROM problems WHERE id = ?", (problem_id,)).fetchone()
        return None if row is None else _problem(row)

    # -- review flags ------------------------------------------------------------------------------------------
    def flags(self) -> list[Flag]:
        """Every review flag (problem flags and trace flags), oldest first; none in a store of a version before 4."""
        if not self.has_flags:
            return []
        rows = self.conn.execute("SELECT problem_id, trace_id, note, created_at FROM flags ORDER BY created_at, "
                                 "problem_id, trace_id").fetchall()
        return [Flag(pid, None if tid == WHOLE_PROBLEM else tid, note, at) for pid, tid, note, at in rows]

    def flagged(self) -> tuple[set[str], set[int]]:
        """(ids of flagged problems, ids of flagged traces): what an export leaves out."""
        flags = self.flags()
        return ({f.problem_id for f in flags if f.trace_id is None},
                {f.trace_id for f in flags if f.trace_id is not None})

    # -- traces and turns --------------------------------------------------------------------------------------
    def traces(self, problem_id: str | None = None, include_failed: bool = True) -> Iterator[TraceRow]:
        """Stored traces (optionally of one problem), ordered by problem then sample."""
        where, args = [], []
        if problem_id is not None:
            where.append("problem_id = ?")
            args.append(problem_id)
        if not include_failed:
            where.append(f"NOT {FAILED}")
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        query = f"SELECT {', '.join(self.trace_columns)} FROM traces{clause} ORDER BY problem_id, sample"
        for row in self.conn.execute(query, args).fetchall():
            values = dict(zip(self.trace_columns, row))
            values["correct"] = bool(values["correct"])
            yield TraceRow(**values)

    def turns(self, trace_id: int) -> list[Turn]:
        """The turns of one trace, in order."""
        thinking, join = self._thinking()
        rows = self.conn.execute("SELECT u.role, u.kind, u.content, u.prompt_tokens, u.completion_tokens, "
                                 f"u.cached_tokens, u.latency_s, u.meta_json, {thinking} FROM turns u {join}"
                                 "WHERE u.trace_id = ? ORDER BY u.idx", (trace_id,)).fetchall()
        turns = []
        for role, kind, content, prompt, completion, cached, latency, meta_json, thought in rows:
            meta = json.loads(meta_json or "{}")
            turns.append(Turn(role, kind, content, prompt or 0, completion or 0, cached or 0, latency or 0.0, meta,
                              cache_write_tokens=int(meta.pop(CACHE_WRITE_KEY, 0)), thinking=thought or "",
                              reasoning_tokens=int(meta.pop(REASONING_TOKENS_KEY, 0))))
        return turns

    def _thinking(self) -> tuple[str, str]:
        """(SQL of a turn `u`'s thinking, the join it needs); '' in a store of a version before 5."""
        return ("''", "") if not self.has_thinking else (
            "COALESCE(h.text, '')", "LEFT JOIN thinking h ON h.trace_id = u.trace_id AND h.idx = u.idx ")

    def thinking_totals(self) -> tuple[int, int]:
        """(turns whose thinking was kept, completion tokens providers reported as reasoning) over the store."""
        kept = self.conn.execute("SELECT COUNT(*) FROM thinking").fetchone()[0] if self.has_thinking else 0
        tokens = self.conn.execute(f"SELECT COALESCE(SUM(json_extract(meta_json, '$.{REASONING_TOKENS_KEY}')), 0) "
                                   "FROM turns WHERE meta_json LIKE ?", (f'%"{REASONING_TOKENS_KEY}"%',)).fetchone()[0]
        return int(kept), int(tokens)

    def trace_of(self, trace_id: int) -> Trace:
        """The stored trace rebuilt as a program Trace (turns, final answer, status, stop reason, error)."""
        row = self.conn.execute("SELECT final_answer, answer_status, stop_reason, error FROM traces WHERE id = ?",
                                (trace_id,)).fetchone()
        if row is None:
            raise KeyError(f"no trace with id {trace_id} in {self.path}")
        return Trace(self.turns(trace_id), final_answer=row[0], answer_status=row[1] or "missing", stop_reason=row[2],
                     error=row[3])

    def by_problem(self, meta_kinds: tuple[str, ...] | None = None, problem_ids: Iterable[str] | None = None,
                   thinking: bool = False) -> Iterator[tuple[ProblemRow, list[StoredTrace]]]:
        """Each problem with finished traces (by id), with those traces and their turns, one problem at a time.

        meta_kinds: the turn kinds whose meta is read (the others get {}); None reads every turn's. Parsing the
        meta of every turn was a third of an export's time, and export reads that of one to three kinds.
        problem_ids: read only these problems (None: all), so that an export never reads the turns of a problem
        it leaves out.
        thinking: read each turn's thinking too (an export that includes it); else every turn's is ''.
        """
        only, args = ("", ()) if problem_ids is None else (
            " AND t.problem_id IN (SELECT value FROM json_each(?))", (json.dumps(list(problem_ids)),))
        meta = "u.meta_json" if meta_kinds is None else "NULL" if not meta_kinds else (
            f"CASE WHEN u.kind IN ({', '.join('?' * len(meta_kinds))}) THEN u.meta_json END")
        # Two cursors in the same order, that of the (problem_id, sample) index, so SQLite streams both without
        # sorting the store: the traces, and their turns. A joined row per turn would repeat the trace's columns
        # on each of its turns (twice the values to build).
        order = f"WHERE NOT t.{FAILED}{only} ORDER BY t.problem_id, t.sample"
        traces = self.conn.execute(f"SELECT {STORED_TRACE_COLUMNS} FROM traces t {order}", args)
        thought, join = self._thinking() if thinking else ("''", "")
        turns = groupby(self.conn.execute(f"SELECT u.trace_id, u.role, u.kind, u.content, {meta}, {thought} "
                                          f"FROM traces t JOIN turns u ON u.trace_id = t.id {join}{order}, u.idx",
                                          tuple(meta_kinds or ()) + args), key=itemgetter(0))
        # read while both cursors are open: one snapshot, even of a store a harvest is writing
        problems = {row[0]: _problem(row) for row in self.conn.execute(
            f"SELECT {PROBLEM_COLUMNS} FROM problems WHERE id IN "
            f"(SELECT problem_id FROM traces t WHERE NOT {FAILED}{only})", args)}
        pending = next(turns, None)
        loads = json.loads
        for problem_id, rows in groupby(traces, key=itemgetter(1)):
            group = []
            for i, p, s, c, steps, tokens, stop, final in rows:
                read: list[StoredTurn] = []
                if pending is not None and pending[0] == i:  # a trace may have no turns
                    read = [stored_turn(role, kind, content, loads(meta_json) if meta_json else {}, thought)
                            for _, role, kind, content, meta_json, thought in pending[1]]
                    pending = next(turns, None)
                group.append(StoredTrace(i, p, s, bool(c), steps, tokens, stop, final, read))
            yield problems[problem_id], group

    def finished(self) -> set[tuple[str, int]]:
        """The (problem_id, sample) pairs already stored."""
        return set(self.conn.execute("SELECT problem_id, sample FROM traces"))

    # -- counts and aggregates (selection, stats) --------------------------------------------------------------
    def count(self, *, problem_id: str | None = None) -> int:
        """Number of stored traces (of one problem, or all), failed ones included."""
        if problem_id is None:
            return self.conn.execute("SELECT COUNT(*) FROM traces").fetchone()[0]
        return self.conn.execute("SELECT COUNT(*) FROM traces WHERE problem_id = ?", (problem_id,)).fetchone()[0]

    def outcomes(self) -> tuple[int, int, int]:
        """(traces, failed traces, correct non-failed traces) over the whole store."""
        traces, failed, correct = self.conn.execute(
            f"SELECT COUNT(*), COALESCE(SUM({FAILED}), 0), COALESCE(SUM(correct AND NOT {FAILED}), 0) "
            "FROM traces").fetchone()
        return traces, int(failed), int(correct)

    def tallies(self) -> dict[str, tuple[int, int]]:
        """problem id -> (correct, non-failed samples), for every problem of the store ((0, 0) when none)."""
        counts = {pid: (0, 0) for (pid,) in self.conn.execute("SELECT id FROM problems ORDER BY rowid")}
        query = f"SELECT problem_id, SUM(correct), COUNT(*) FROM traces WHERE NOT {FAILED} GROUP BY problem_id"
        for pid, correct, total in self.conn.execute(query):
            counts[pid] = (int(correct), int(total))
        return counts

    def pass_rates(self) -> dict[str, float | None]:
        """problem id -> pass rate (None for a problem with no non-failed sample yet)."""
        return {pid: pass_rate(correct, total) for pid, (correct, total) in self.tallies().items()}

    def max_samples(self) -> int:
        """The most samples (failed included) any problem has."""
        return self.conn.execute("SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM traces GROUP BY problem_id)").fetchone()[0] or 0

    def token_totals(self) -> tuple[int, int, int]:
        """(prompt, cached, completion) tokens over every trace."""
        return self.conn.execute(
            "SELECT COALESCE(SUM(prompt_tokens), 0), COALESCE(SUM(cached_tokens), 0), COALESCE(SUM(completion_tokens), 0) "
            "FROM traces").fetchone()

    def cache_write_total(self) -> int:
        """Prompt tokens written to the provider's prompt cache, over every turn (kept in the turns' meta)."""
        return int(self.conn.execute(f"SELECT COALESCE(SUM(json_extract(meta_json, '$.{CACHE_WRITE_KEY}')), 0) "
                                     "FROM turns WHERE meta_json LIKE ?", (f'%"{CACHE_WRITE_KEY}"%',)).fetchone()[0])

    def stop_reasons(self) -> list[tuple[str, int, int]]:
        """(stop reason, traces, correct) by decreasing count."""
        rows = self.conn.execute("SELECT stop_reason, COUNT(*), SUM(correct) FROM traces GROUP BY stop_reason").fetchall()
        return sorted(((r, n, int(c or 0)) for r, n, c in rows), key=lambda row: -row[1])

    # -- per-turn streams (signals) ----------------------------------------------------------------------------
    def turn_stream(self) -> Iterator[tuple[int, str, str, str, str, str | None]]:
        """(trace id, problem id, role, kind, content, meta JSON) for every turn of a non-failed trace, trace by trace.

        The meta stays JSON text: a stats pass reads millions of turns and needs the meta of a few.
        """
        yield from self.conn.execute(
            "SELECT u.trace_id, t.problem_id, u.role, u.kind, u.content, u.meta_json FROM turns u "
            f"JOIN traces t ON u.trace_id = t.id WHERE NOT t.{FAILED} ORDER BY u.trace_id, u.idx")

    def _stated_answer(self) -> tuple[str, str]:
        """(SQL of an answering turn `u`'s stated answer, the join it needs): the answer stored at harvest time, else
        computed here (a store, or a trace, from before version 3; `p` names the trace's problem)."""
        return ("NULL", "") if self.legacy else (
            "a.answer", "LEFT JOIN stated_answers a ON a.trace_id = u.trace_id AND a.idx = u.idx ")

    def answer_stream(self) -> Iterator[tuple[int, str, str, str, str | None, int | None, str | None]]:
        """(trace id, problem id, role, kind, prompt, forced, stated answer) for the turns of non-failed traces that
        a nudge analysis reads (verdicts, user prompts, answering turns), trace by trace.

        Only what is used is read: the text of user prompts (not of replies), whether a check was forced, and the
        answer each answering turn states, as stored at harvest time (computed here where the store has none).
        `signal_events` reads them in a form that is cheaper to read.
        """
        stored, join = self._stated_answer()
        kinds = ", ".join(f"'{kind}'" for kind in STATED_KINDS)
        yield from self.conn.execute(
            "SELECT u.trace_id, t.problem_id, u.role, u.kind, CASE WHEN u.role = 'user' THEN u.content END, "
            "CASE WHEN u.role = 'user' THEN json_extract(u.meta_json, '$.forced') END, "
            f"CASE WHEN u.role = 'assistant' AND u.kind IN ({kinds}) "
            f"THEN COALESCE({stored}, stated_answer(u.content, p.answer)) END "
            f"FROM turns u JOIN traces t ON u.trace_id = t.id JOIN problems p ON p.id = t.problem_id {join}"
            f"WHERE NOT t.{FAILED} AND u.kind IN ('verify', 'nudge', {kinds}) ORDER BY u.trace_id, u.idx")

    def signal_events(self) -> Iterator[tuple[str, bool, Iterator[tuple[int, int | None, str | int | None]]]]:
        """Per non-failed trace, in id order: its problem id, whether it is correct, and its (trace id, event, value)
        rows in turn order, for the verifier and nudge analyses (`harvest/signals.py`).

        The turns `answer_stream` reads, in a form cheaper to read (millions of rows in a large store, three values
        each): VERDICT (a verifier turn, value: its meta's verdict), NUDGE (a user nudge, value: its recipe index, 'c'
        for the continue prompt or '' when not recorded, char 31, then its text), CHECK
        (a user check, value: its meta's `forced`), ANSWER (an answering turn, value: its stated answer), None.
        """
        stored, join = self._stated_answer()
        kinds = ", ".join(f"'{kind}'" for kind in STATED_KINDS)
        answering = f"u.role = 'assistant' AND u.kind IN ({kinds})"
        event = (f"CASE WHEN u.kind = 'verify' THEN {VERDICT} WHEN u.role = 'user' THEN CASE u.kind "
                 f"WHEN 'nudge' THEN {NUDGE} WHEN 'check' THEN {CHECK} END WHEN {answering} THEN {ANSWER} END")
        # the problem's gold answer is looked up only where a stated answer must be computed (COALESCE stops early)
        value = ("CASE WHEN u.kind = 'verify' THEN json_extract(NULLIF(u.meta_json, ''), '$.verdict') "
                 "WHEN u.role = 'user' THEN CASE u.kind WHEN 'nudge' THEN "
                 "CASE json_type(NULLIF(u.meta_json, ''), '$.nudge') WHEN 'integer' THEN "
                 "json_extract(u.meta_json, '$.nudge') WHEN 'null' THEN 'c' ELSE '' END || char(31) || u.content "
                 "ELSE json_extract(u.meta_json, '$.forced') END "
                 f"WHEN {answering} THEN COALESCE({stored}, stated_answer(u.content, "
                 "(SELECT p.answer FROM problems p WHERE p.id = t.problem_id))) END")
        traces = self.conn.execute(f"SELECT id, problem_id, correct FROM traces WHERE NOT {FAILED} ORDER BY id")
        rows = self.conn.execute(f"SELECT u.trace_id, {event}, {value} FROM traces t JOIN turns u ON u.trace_id = t.id "
                                 f"{join}WHERE NOT t.{FAILED} AND u.kind IN ('verify', 'nudge', {kinds}) "
                                 "ORDER BY t.id, u.idx")
        for trace_id, events in groupby(rows, key=itemgetter(0)):
            for tid, problem_id, correct in traces:  # both in id order: move on to this trace
                if tid == trace_id:
                    yield problem_id, bool(correct), events
                    break
