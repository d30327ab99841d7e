"""Waves (`models/waves.py`), the logic alone: a batch API and a ledger in memory, traces as plain threads.

What a provider does that the loopback servers do not: a batch that ends without running some requests (expired),
a batch id the provider no longer knows (or loses), and answers with transient errors in a scripted order.
"""

from __future__ import annotations

import json
import threading

import pytest

from strawberry_dspy.models.batch_api import Answer, BatchAPIError, BatchState
from strawberry_dspy.models.waves import MAX_SENDS, Waves, WavesClosed

URL = "http://127.0.0.1:9/v1/chat/completions"


class MemoryAPI:
    """A batch API whose batches end at their first poll, answering each request with its own body's text;
    `skip` requests (by text) are left unanswered once each (as an expired batch leaves them); `errors` maps a
    request's text to the HTTP statuses its next answers have (then 200s); `results_errors` are the statuses of the
    next result downloads that fail; with `lose`, the provider knows no batch it was sent. More than `most` batches
    are refused (a Waves that would submit forever fails instead of hanging the test)."""

    def __init__(self, skip=(), unknown=(), errors=None, results_errors=(), lose=False, most=10):
        self.batches: dict[str, list[tuple[str, dict]]] = {}
        self.skip, self.unknown, self.lose, self.most = set(skip), set(unknown), lose, most
        self.errors = {text: list(statuses) for text, statuses in (errors or {}).items()}
        self.results_errors = list(results_errors)

    def submit(self, requests):
        if len(self.batches) >= self.most:
            raise BatchAPIError(f"more than {self.most} batches", 400)
        batch_id = f"b{len(self.batches) + 1}"
        self.batches[batch_id] = requests
        return batch_id

    def status(self, batch_id):
        if batch_id in self.unknown or self.lose:
            raise BatchAPIError(f"GET /batches/{batch_id}: HTTP 404", 404)
        return BatchState(batch_id, True, 0, len(self.batches[batch_id]), {"status": "expired"})

    def results(self, state):
        if self.results_errors:
            status = self.results_errors.pop(0)
            raise BatchAPIError(f"GET /files/{state.id}/content: HTTP {status}", status)
        answers = {}
        for rid, body in self.batches[state.id]:
            if body["text"] in self.skip:
                self.skip.discard(body["text"])
                continue
            if self.errors.get(body["text"]):
                status = self.errors[body["text"]].pop(0)
                answers[rid] = Answer(status, json.dumps({"error": {"message": f"overloaded ({status})"}}).encode())
                continue
            answers[rid] = Answer(200, json.dumps({"reply": body["text"]}).encode())
        return answers


class MemoryLedger:
    def __init__(self, kept=None, open_=None):
        self.kept, self.open = dict(kept or {}), dict(open_ or {})

    def batch_calls(self):
        return dict(self.kept), dict(self.open)

    def batch_submitted(self, batch_id, calls):
        self.open.update((rid, batch_id) for rid, _ in calls)

    def batch_collected(self, kept, dropped):
        self.kept.update(kept)
        for rid in [*kept, *dropped]:
            self.open.pop(rid, None)


def run_traces(waves: Waves, ledger: MemoryLedger, turns: dict[str, int]) -> dict[str, list[str]]:
    """Each trace asks `turns[name]` questions in a row; what each got back (an error as 'STATUS: message')."""
    replies: dict[str, list[str]] = {name: [] for name in turns}

    def trace(name: str) -> None:
        with waves.trace(name):
            for turn in range(turns[name]):
                answer = waves.exchange(URL, [("authorization", "Bearer k")],
                                        json.dumps({"text": f"{name}-{turn}"}).encode())
                body = json.loads(answer.body)
                replies[name].append(body.get("reply") or f"{answer.status}: {body['error']['message']}")

    threads = [threading.Thread(target=trace, args=(name,)) for name in turns]
    waves.start(ledger, list(turns))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    waves.close()
    return replies


def test_one_batch_per_turn_in_trace_order_and_finished_traces_drop_out():
    waves, api, ledger = Waves(poll_s=0), MemoryAPI(), MemoryLedger()
    waves.api = api
    replies = run_traces(waves, ledger, {"a": 3, "b": 1, "c": 2})
    assert replies == {"a": ["a-0", "a-1", "a-2"], "b": ["b-0"], "c": ["c-0", "c-1"]}
    assert [[body["text"] for _, body in batch] for batch in api.batches.values()] == [
        ["a-0", "b-0", "c-0"], ["a-1", "c-1"], ["a-2"]]
    assert waves.counts.submitted == 3 and waves.counts.sent == 6 and not ledger.open


def test_requests_a_batch_did_not_run_go_into_the_next_batch():
    waves, api, ledger = Waves(poll_s=0), MemoryAPI(skip={"b-0"}), MemoryLedger()
    waves.api = api
    assert run_traces(waves, ledger, {"a": 2, "b": 1}) == {"a": ["a-0", "a-1"], "b": ["b-0"]}
    # b-0 expired in the first batch: it went again, with a-1, in the second
    assert [[body["text"] for _, body in batch] for batch in api.batches.values()] == [["a-0", "b-0"], ["a-1", "b-0"]]


def test_a_batch_the_provider_no_longer_knows_is_sent_again():
    first = Waves(poll_s=0)
    first.api = api = MemoryAPI()
    ledger = MemoryLedger()
    run_traces(first, ledger, {"a": 1})  # learn the request id, then pretend its batch is still open but gone
    (rid,) = ledger.kept
    ledger = MemoryLedger(open_={rid: "gone"})
    api.unknown.add("gone")
    waves = Waves(poll_s=0)
    waves.api = api
    assert run_traces(waves, ledger, {"a": 1}) == {"a": ["a-0"]}
    assert waves.counts.attached == 1 and waves.counts.submitted == 1 and ledger.kept[rid].status == 200


def test_a_batch_this_run_submitted_and_the_provider_lost_is_an_error_not_a_new_batch():
    waves, api, ledger = Waves(poll_s=0), MemoryAPI(lose=True), MemoryLedger()
    waves.api = api
    replies = run_traces(waves, ledger, {"a": 1, "b": 1})
    assert len(api.batches) == 1  # not sent again and again, each a new bill
    assert [reply[:4] for reply in replies["a"] + replies["b"]] == ["404:", "404:"]
    assert "submitted by this run, is unknown to the provider" in replies["a"][0] and not ledger.open


def test_an_earlier_runs_batch_the_provider_no_longer_knows_is_sent_again_once_at_most_then_an_error():
    first = Waves(poll_s=0)
    first.api = api = MemoryAPI()
    run_traces(first, ledger := MemoryLedger(), {"a": 1})
    (rid,) = ledger.kept
    api.unknown.add("gone")
    api.lose = True  # the batch it is sent again in is lost too
    waves = Waves(poll_s=0)
    waves.api = api
    replies = run_traces(waves, MemoryLedger(open_={rid: "gone"}), {"a": 1})
    assert replies["a"][0].startswith("404:") and len(api.batches) == 2  # the first run's and one new
    assert waves.counts.attached == 1 and waves.counts.submitted == 1 and waves.sends[rid] == 2


def test_transient_errors_in_a_batch_are_sent_again_in_the_next_wave_up_to_max_sends():
    waves = Waves(poll_s=0)
    waves.api = api = MemoryAPI(errors={"a-0": [500, 429], "b-0": [529] * MAX_SENDS, "c-0": [400]})
    replies = run_traces(waves, MemoryLedger(), {"a": 1, "b": 1, "c": 1})
    assert replies["a"] == ["a-0"]  # the third batch answered it
    assert replies["b"] == ["529: overloaded (529)"]  # answered with a transient error MAX_SENDS times: its own
    assert replies["c"] == ["400: overloaded (400)"]  # not transient: the answer at once
    assert [[body["text"] for _, body in batch] for batch in api.batches.values()] == [
        ["a-0", "b-0", "c-0"], ["a-0", "b-0"], ["a-0", "b-0"]]


def test_a_failed_results_download_is_tried_again():
    waves = Waves(poll_s=0)
    waves.api = api = MemoryAPI(results_errors=[503, 500])
    assert run_traces(waves, MemoryLedger(), {"a": 2}) == {"a": ["a-0", "a-1"]}
    assert len(api.batches) == 2 and not api.results_errors


def test_replies_in_the_ledger_are_replayed_and_close_releases_the_waiting():
    waves, api, ledger = Waves(poll_s=0), MemoryAPI(), MemoryLedger()
    waves.api = api
    run_traces(waves, ledger, {"a": 1})
    again = Waves(poll_s=0)
    again.api = api
    assert run_traces(again, MemoryLedger(kept=ledger.kept), {"a": 1}) == {"a": ["a-0"]}
    assert again.counts.replayed == 1 and again.counts.submitted == 0

    waiting = Waves(poll_s=0)  # two traces, one of which never asks: no wave can form
    waiting.start(MemoryLedger(), ["a", "idle"])
    asked, errors = threading.Event(), []

    def trace():
        with waiting.trace("a"):
            try:
                asked.set()
                waiting.exchange(URL, [], b'{"text": "a-0"}')
            except WavesClosed as closed:
                errors.append(closed)

    thread = threading.Thread(target=trace)
    thread.start()
    asked.wait()
    waiting.close()
    thread.join()
    assert len(errors) == 1
    with pytest.raises(RuntimeError, match="outside Waves.trace"):
        Waves().exchange(URL, [], b"{}")
