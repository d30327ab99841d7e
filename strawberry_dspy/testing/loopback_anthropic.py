"""A server on 127.0.0.1 speaking Anthropic's Messages API (stdlib http.server), with its prompt cache and 429s.

`POST /v1/messages` answers with a fixed reply and Anthropic's usage: `input_tokens` (not cached),
`cache_creation_input_tokens` and `cache_read_input_tokens`. The cache follows Anthropic's documented rules:
only a prefix ending at a block marked `cache_control` is written; a request reads the longest cached prefix
ending at a mark or up to LOOKBACK blocks before one. Tokens are words (whitespace-split). With
`requests_per_s`, load beyond a token bucket of that rate (one second of burst) is refused with 429, `retry-after`
(whole seconds, as Anthropic sends it) and `anthropic-ratelimit-requests-*` headers. Every request is recorded
with its headers, body and status. With `thinking`, each reply starts with a thinking block (and its signature), as
Claude's extended thinking returns it; its tokens count in `output_tokens`.

It runs the Message Batches API too: `POST /v1/messages/batches`, `GET /v1/messages/batches` (the list,
`?limit=N`), `GET /v1/messages/batches/{id}` and its `results_url` (`.../results`, JSONL). Each request of a batch is
answered as the live endpoint answers it (the same cache), in the batch's order; a batch ends at its
`batch_polls + 1`-th poll (`batches`, a `BatchQueue`). With `api_key`, a request whose `x-api-key` is another is
refused with 401 (`authentication_error`), as Anthropic refuses a wrong key.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit
from typing import Callable

from strawberry_dspy.testing.loopback_batches import Batch, BatchQueue
from strawberry_dspy.testing.serving import ThreadedServer

REPLY = "<final_answer>4</final_answer>"
LOOKBACK = 20  # blocks before a mark that Anthropic checks for a cached prefix


@dataclass
class Received:
    """One request as the server received it, and the status it answered."""

    path: str
    headers: dict
    body: dict = field(default_factory=dict)
    status: int = 200
    at: float = 0.0


def _tokens(text: str) -> int:
    return len(text.split())


def _blocks(body: dict) -> list[dict]:
    """The request's content blocks in cache order: system, then each message's blocks."""
    system = body.get("system") or []
    blocks = [{"type": "text", "text": system}] if isinstance(system, str) else list(system)
    for message in body.get("messages", []):
        content = message.get("content")
        parts = [{"type": "text", "text": content}] if isinstance(content, str) else list(content or [])
        blocks += [{**part, "role": message.get("role")} for part in parts]
    return blocks


class LoopbackAnthropic(ThreadedServer):
    """The server in a daemon thread: `url` is its api_base (ending in /v1); `requests` what it received."""

    def __init__(self, reply: str | Callable[[dict], str] = REPLY, requests_per_s: float | None = None,
                 latency_s: float = 0.0, thinking: str | None = None, batch_polls: int = 0, api_key: str | None = None):
        self.reply, self.rate, self.latency_s, self.thinking = reply, requests_per_s, latency_s, thinking
        self.api_key = api_key
        self.batches = BatchQueue(lambda body: (200, self.message(body)), "msgbatch_", batch_polls)
        self.requests: list[Received] = []
        self.cache: set[str] = set()
        self._lock = threading.Lock()
        self._level, self._stamp = (requests_per_s or 0.0), time.monotonic()
        self._serve(_handler(self), "/v1")

    def messages(self, status: int | None = None) -> list[Received]:
        """The /messages requests received so far (of one status, or all)."""
        with self._lock:
            return [r for r in self.requests if r.path.endswith("/messages") and status in (None, r.status)]

    def admit(self) -> float:
        """0 when a request may be served now, else the seconds until the bucket has room again."""
        if not self.rate:
            return 0.0
        with self._lock:
            now = time.monotonic()
            self._level = min(self.rate, self._level + (now - self._stamp) * self.rate)
            self._stamp = now
            if self._level >= 1:
                self._level -= 1
                return 0.0
            return (1 - self._level) / self.rate

    def usage(self, body: dict) -> dict:
        """Anthropic's usage for `body`, reading and writing the prefix cache by its marks."""
        blocks = _blocks(body)
        keys, sizes, digest, total = [], [], hashlib.sha256(), 0
        for block in blocks:
            digest.update(json.dumps({k: v for k, v in block.items() if k != "cache_control"}, sort_keys=True).encode())
            keys.append(digest.copy().hexdigest())
            total += _tokens(str(block.get("text", "")))
            sizes.append(total)
        marks = [i for i, block in enumerate(blocks) if block.get("cache_control")]
        with self._lock:
            hits = [j for m in marks for j in range(m, max(-1, m - LOOKBACK - 1), -1) if keys[j] in self.cache]
            read = max((sizes[j] for j in hits), default=0)
            written = sizes[marks[-1]] - read if marks and keys[marks[-1]] not in self.cache else 0
            self.cache.update(keys[m] for m in marks)
        reply = self.reply(body) if callable(self.reply) else self.reply
        return {"input_tokens": total - read - written, "output_tokens": _tokens(reply) + _tokens(self.thinking or ""),
                "cache_creation_input_tokens": written, "cache_read_input_tokens": read}

    def message(self, body: dict) -> dict:
        """The Messages API object answering `body` (`reply` is a text, or a function of the body)."""
        text = self.reply(body) if callable(self.reply) else self.reply
        return {"id": "msg_loopback", "type": "message", "role": "assistant", "model": body.get("model"),
                "content": ([{"type": "thinking", "thinking": self.thinking, "signature": "loopback-signature"}]
                            if self.thinking else []) + [{"type": "text", "text": text}],
                "stop_reason": "end_turn", "stop_sequence": None,
                "usage": self.usage(body)}

    def batch_object(self, batch: Batch) -> dict:
        """A message batch as `GET /v1/messages/batches/{id}` shows it; an ended one has its results_url."""
        total = len(batch.requests)
        counts = {"processing": 0 if batch.ended else total, "succeeded": total if batch.ended else 0,
                  "errored": 0, "canceled": 0, "expired": 0}
        return {"id": batch.id, "type": "message_batch", "processing_status": "ended" if batch.ended else "in_progress",
                "request_counts": counts, "created_at": "2026-01-01T00:00:00Z",
                "results_url": f"{self.url}/messages/batches/{batch.id}/results" if batch.ended else None}

    def batch_results(self, batch: Batch) -> bytes:
        """An ended batch's results, one JSON object a line."""
        return "".join(json.dumps({"custom_id": custom_id, "result": {"type": "succeeded", "message": message}}) + "\n"
                       for custom_id, _, message in batch.answers).encode()


def _handler(server: LoopbackAnthropic) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        wbufsize = 1 << 16
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            seen = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, at=time.monotonic())
            with server._lock:
                server.requests.append(seen)
            if self._refused(seen):
                return
            url = urlsplit(self.path)
            if url.path.rstrip("/").endswith("/messages/batches"):
                limit = int(parse_qs(url.query).get("limit", ["20"])[0])
                data = [server.batch_object(batch) for batch in server.batches.newest(limit + 1)]
                return self._send(200, {"data": data[:limit], "has_more": len(data) > limit,
                                        "first_id": data[0]["id"] if data else None,
                                        "last_id": data[:limit][-1]["id"] if data else None})
            parts = self.path.rstrip("/").split("/")
            results = parts[-1] == "results"
            batch_id = parts[-2] if results else parts[-1]
            batch = server.batches.get(batch_id) if results else server.batches.poll(batch_id)
            if "batches" not in parts or batch is None or (results and not batch.ended):
                seen.status = 404
                return self._send(404, {"type": "error", "error": {"type": "not_found_error", "message": self.path}})
            if results:
                return self._send_raw(200, server.batch_results(batch))
            self._send(200, server.batch_object(batch))

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, json.loads(raw or b"{}"),
                            at=time.monotonic())
            with server._lock:
                server.requests.append(seen)
            if self._refused(seen):
                return
            if self.path.rstrip("/").endswith("/messages/batches"):
                batch = server.batches.create([(r["custom_id"], r["params"]) for r in seen.body.get("requests", [])])
                return self._send(200, server.batch_object(batch))
            if not self.path.rstrip("/").endswith("/messages"):
                seen.status = 404
                return self._send(404, {"type": "error", "error": {"type": "not_found_error", "message": self.path}})
            wait = server.admit()
            if wait:
                seen.status = 429
                reset = datetime.now(timezone.utc) + timedelta(seconds=wait)
                return self._send(429, {"type": "error", "error": {"type": "rate_limit_error",
                                                                   "message": "Number of requests has exceeded your rate limit"}},
                                  {"retry-after": str(math.ceil(wait)),
                                   "anthropic-ratelimit-requests-limit": str(int(server.rate * 60)),
                                   "anthropic-ratelimit-requests-remaining": "0",
                                   "anthropic-ratelimit-requests-reset": reset.isoformat().replace("+00:00", "Z")})
            if server.latency_s:
                time.sleep(server.latency_s)
            self._send(200, server.message(seen.body))

        def _refused(self, seen: Received) -> bool:
            """Answer 401 for a wrong x-api-key (with `api_key` set); True if so."""
            if server.api_key is None or seen.headers.get("x-api-key") == server.api_key:
                return False
            seen.status = 401
            self._send(401, {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}})
            return True

        def _send(self, status: int, payload: dict, headers: dict | None = None) -> None:
            self._send_raw(status, json.dumps(payload).encode(), headers)

        def _send_raw(self, status: int, data: bytes, headers: dict | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args) -> None:
            pass

    return Handler
