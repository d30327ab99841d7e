"""The ledger of a `--batch` harvest (`models/waves.Ledger`): the requests sent in provider batches, and the answers
kept so that a rerun replays them instead of paying again. Rows of a trace stored whole are forgotten with it; a run
that finishes leaves only the rows of its failed traces, which their rerun replays."""

from __future__ import annotations

from typing import Hashable

from strawberry_dspy.models.batch_api import Answer
from strawberry_dspy.store.schema import FAILED

_AFTER_HEX = "g"  # sorts after every hex digit: rid >= prefix AND rid < prefix || 'g' is one trace's requests


class BatchCalls:
    """The batch ledger's queries, mixed into TraceStore (its connection and lock)."""

    def batch_calls(self) -> tuple[dict[str, Answer], dict[str, str]]:
        """(the answers kept by request id, the batch id of each request sent and not yet answered)."""
        with self.lock:
            rows = self.conn.execute("SELECT rid, batch_id, status, body FROM batch_calls").fetchall()
        kept = {rid: Answer(status, body.encode()) for rid, _, status, body in rows if status is not None}
        return kept, {rid: batch_id for rid, batch_id, status, _ in rows if status is None}

    def batch_submitted(self, batch_id: str, calls: list[tuple[str, Hashable]]) -> None:
        """Remember each request (id, trace (problem id, sample)) of a batch just submitted (one transaction)."""
        with self.lock, self.conn:
            self.conn.executemany("INSERT OR REPLACE INTO batch_calls (rid, problem_id, sample, batch_id) "
                                  "VALUES (?, ?, ?, ?)", [(rid, *trace, batch_id) for rid, trace in calls])

    def batch_collected(self, kept: dict[str, Answer], dropped: list[str]) -> None:
        """Keep the answers to replay and forget the requests answered otherwise (or never run), in one transaction."""
        with self.lock, self.conn:
            self.conn.executemany("UPDATE batch_calls SET status = ?, body = ? WHERE rid = ?",
                                  [(a.status, a.body.decode("utf-8"), rid) for rid, a in kept.items()])
            self.conn.executemany("DELETE FROM batch_calls WHERE rid = ?", [(rid,) for rid in dropped])

    def forget_batch_calls(self, prefix: str) -> None:
        """Forget one trace's requests (`waves.trace_prefix`): it is stored, nothing will ask them again."""
        with self.lock, self.conn:
            self.conn.execute("DELETE FROM batch_calls WHERE rid >= ? AND rid < ?", (prefix, prefix + _AFTER_HEX))

    def clear_batch_calls(self) -> int:
        """Forget every request but those of a failed trace (its rerun replays them), at the end of a harvest that
        stored every trace; how many were forgotten."""
        with self.lock, self.conn:
            return self.conn.execute(
                "DELETE FROM batch_calls WHERE NOT EXISTS (SELECT 1 FROM traces WHERE traces.problem_id = "
                f"batch_calls.problem_id AND traces.sample = batch_calls.sample AND {FAILED})").rowcount
