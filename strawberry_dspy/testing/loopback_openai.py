"""A real OpenAI-compatible server on 127.0.0.1 (stdlib http.server): what the real DSPy client talks to in tests.

It speaks the chat-completions wire format (`GET /v1/models`, `POST /v1/chat/completions`), answers every
request at once with a fixed reply (or `reply(body)` when `reply` is a function) and usage, and records each
request's path, `Authorization` header and body. `eval/lm_overhead/lm_overhead.py` and `eval/throughput/throughput.py` run it in a child
process (`python -m strawberry_dspy.testing.loopback_openai [REPLY [LATENCY_S]]`) so that the benchmark's CPU figures are the client's
alone; LATENCY_S is a server latency.

With `reasoning` (text, or a function of the request body) it answers as a reasoning model behind an
OpenAI-compatible server does (vLLM's and ollama's reasoning parsers, DeepSeek): the thinking in the message's
`reasoning_content`, its tokens counted in `completion_tokens` and reported in
`completion_tokens_details.reasoning_tokens`.

A request with `"stream": true` is answered as server-sent events, as OpenAI and llama.cpp do: the thinking, then
the reply, one word (with the whitespace after it) a chunk, the finish reason, the usage when `stream_options` asks
for it, and `[DONE]`. `hold(n)` makes the next streamed reply stop after its first n reply chunks until `release()`
(`held` is set meanwhile), so a test can look at a half-streamed turn without racing the clock; `streams=False` is a
server that cannot stream and answers every request whole.

It also injects faults into chat completions (`FAULTS`): scheduled ones (`inject`), an outage (`outage`)
and a seeded random share of requests (`fault_rate`); `faults_served` counts what it sent.

It runs OpenAI's Batch API too: `POST /v1/files` (a multipart JSONL upload, purpose batch), `POST /v1/batches`,
`GET /v1/batches` (the list, `?limit=N`), `GET /v1/batches/{id}` and `GET /v1/files/{id}/content` (the output and
error files). Each line of a batch is answered by the same reply function as a live chat completion, or with the
next scheduled fault when that is an HTTP status (`inject("500")`): such a line goes into the error file, as OpenAI
writes a failed request. A batch ends at its `batch_polls + 1`-th poll (`batches`, a `BatchQueue`: `hold`,
`release`, `submitted`, `wait_polled`, `refuse`). `batch_api=False` is a server without it (vLLM's: 404).

With `api_key`, every request but `GET /v1/models` must carry `Authorization: Bearer <api_key>`; another is
refused with 401, as OpenAI refuses a wrong key.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import random
import re
import socket
import struct
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from strawberry_dspy.testing.loopback_batches import Batch, BatchQueue
from strawberry_dspy.testing.serving import ThreadedServer

REPLY = "<final_answer>4</final_answer>"
# what a faulty provider or the network in front of it does to a chat completion; any other HTTP status can be
# injected by its number ("500", "401", ...)
FAULTS = ("429", "503", "reset", "hang", "cut", "truncated", "empty", "garbage")


@dataclass
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    authorization: str | None
    body: dict = field(default_factory=dict)


class LoopbackOpenAI(ThreadedServer):
    """The server in a daemon thread: `url` is its api_base (ending in /v1); `requests` what it received.

    Faults: 429 (with `Retry-After: retry_after_s`), 503, reset (connection reset, no reply), hang (silence for
    `hang_s`, then the connection closes), cut (the connection drops mid-body), truncated / empty / garbage
    (a complete HTTP 200 whose body is half a JSON object, nothing, or an HTML page).
    """

    def __init__(self, reply: str | Callable[[dict], str] = REPLY, model: str = "stub-model", *,
                 fault_rate: float = 0.0, fault_kinds: tuple[str, ...] = FAULTS, seed: int = 0,
                 retry_after_s: float = 1.0, hang_s: float = 30.0, latency_s: float = 0.0, record: bool = True,
                 reasoning: str | Callable[[dict], str] | None = None, streams: bool = True, batch_polls: int = 0,
                 batch_api: bool = True, api_key: str | None = None):
        self.reply, self.model, self.latency_s, self.keep = reply, model, latency_s, record
        self.reasoning, self.streams, self.batch_api, self.api_key = reasoning, streams, batch_api, api_key
        self.held, self._released, self._hold_after = threading.Event(), threading.Event(), None
        self.batches = BatchQueue(self.batch_line, "batch_", batch_polls)
        self.files: dict[str, bytes] = {}  # uploaded and output files by id
        self.fault_rate, self.fault_kinds, self._rng = fault_rate, fault_kinds, random.Random(seed)
        self.retry_after_s, self.hang_s = retry_after_s, hang_s
        self.faults_served: Counter = Counter()
        self._plan: deque[str] = deque()
        self._outage: tuple[float, str] | None = None  # (until, kind)
        self._closing = threading.Event()
        self.requests: list[Seen] = []
        self._lock = threading.Lock()
        self._serve(_handler(self), "/v1", backlog=256)  # 64 clients opening at once fit in the backlog

    def __exit__(self, *exc) -> None:
        self._closing.set()  # hanging handlers return at once
        self._released.set()
        super().__exit__(*exc)

    def record(self, seen: Seen) -> None:
        if not self.keep:  # a long benchmark run would hold every request body
            return
        with self._lock:
            self.requests.append(seen)

    def completions(self) -> list[Seen]:
        """The chat-completion requests received so far."""
        with self._lock:
            return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def inject(self, *kinds: str | None) -> None:
        """The next chat completions get these faults, in order (None: a normal reply in that place; then normal
        replies again)."""
        with self._lock:
            self._plan.extend(kinds)

    def outage(self, seconds: float, kind: str = "503") -> None:
        """Every chat completion gets `kind` for the next `seconds`."""
        with self._lock:
            self._outage = (time.monotonic() + seconds, kind)

    def next_fault(self) -> str | None:
        """The fault for the chat completion now arriving (counted; outage ones as "KIND (outage)"), or None."""
        with self._lock:
            if self._outage and time.monotonic() < self._outage[0]:
                self.faults_served[f"{self._outage[1]} (outage)"] += 1
                return self._outage[1]
            if self._plan:
                kind = self._plan.popleft()
                if kind is None:
                    return None
            elif self.fault_rate and self._rng.random() < self.fault_rate:
                kind = self._rng.choice(self.fault_kinds)
            else:
                return None
            self.faults_served[kind] += 1
            return kind

    def hold(self, chunks: int) -> None:
        """The next streamed reply stops after its first `chunks` reply chunks until release() (`held` is set then)."""
        with self._lock:
            self._hold_after = chunks
        self.held.clear()
        self._released.clear()

    def release(self) -> None:
        """Let a held reply go on to its end."""
        self._released.set()

    def _take_hold(self) -> int | None:
        with self._lock:
            chunks, self._hold_after = self._hold_after, None
            return chunks

    def completion(self, body: dict) -> dict:
        """The chat.completion object answering `body`."""
        text, thinking, usage = self._answer(body)
        message = {"role": "assistant", "content": text, **({"reasoning_content": thinking} if thinking else {})}
        return {"id": "chatcmpl-loopback", "object": "chat.completion", "created": 0,
                "model": body.get("model", self.model),
                "choices": [{"index": 0, "message": message, "finish_reason": "stop"}], "usage": usage}

    def chunks(self, body: dict) -> list[dict]:
        """The chat.completion.chunk objects of the same answer, streamed: thinking, then reply, a word a chunk."""
        text, thinking, usage = self._answer(body)
        head = {"id": "chatcmpl-loopback", "object": "chat.completion.chunk", "created": 0,
                "model": body.get("model", self.model)}

        def chunk(delta: dict, finish: str | None = None) -> dict:
            return {**head, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

        out = [chunk({"role": "assistant", "content": ""})]
        out += [chunk({"reasoning_content": piece}) for piece in words(thinking or "")]
        out += [chunk({"content": piece}) for piece in words(text)]
        out.append(chunk({}, "stop"))
        if (body.get("stream_options") or {}).get("include_usage"):
            out.append({**head, "choices": [], "usage": usage})
        return out

    def _answer(self, body: dict) -> tuple[str, str | None, dict]:
        text = self.reply(body) if callable(self.reply) else self.reply
        thinking = self.reasoning(body) if callable(self.reasoning) else self.reasoning
        prompt = sum(len(str(m.get("content", "")).split()) for m in body.get("messages", []))
        reasoning = len(thinking.split()) if thinking else 0
        completion = len(text.split()) + reasoning
        usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
        if thinking:
            usage["completion_tokens_details"] = {"reasoning_tokens": reasoning}
        return text, thinking, usage


    def batch_line(self, body: dict) -> tuple[int, dict]:
        """(HTTP status, body) of one line of a batch: the next scheduled fault when it is an HTTP status, else the
        live reply (a transport fault a batch line cannot have answers normally)."""
        fault = self.next_fault()
        if fault is not None and fault.isdigit():
            return int(fault), {"error": {"message": "injected by the loopback server", "type": "loopback_fault"}}
        return 200, self.completion(body)

    def refuses(self, authorization: str | None) -> bool:
        """Whether a request with this Authorization header is refused (401): `api_key` is set and not in it."""
        return self.api_key is not None and authorization != f"Bearer {self.api_key}"

    def upload(self, content_type: str, raw: bytes) -> dict:
        """`POST /v1/files`: keep the multipart upload's file; its file object."""
        form = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + raw)
        data = next(part.get_payload(decode=True) for part in form.iter_parts()
                    if part.get_param("name", header="content-disposition") == "file")
        with self._lock:
            file_id = f"file-{len(self.files) + 1:04d}"
            self.files[file_id] = data
        return {"id": file_id, "object": "file", "bytes": len(data), "purpose": "batch", "filename": "batch.jsonl"}

    def create_batch(self, body: dict) -> tuple[int, dict]:
        """`POST /v1/batches`: a batch of the uploaded file's chat completions."""
        data = self.files.get(body.get("input_file_id", ""))
        if data is None or body.get("endpoint") != "/v1/chat/completions":
            return 400, {"error": {"message": "unknown input_file_id or endpoint", "type": "invalid_request_error"}}
        lines = [json.loads(line) for line in data.decode().splitlines() if line.strip()]
        if any(line.get("url") != "/v1/chat/completions" for line in lines):
            return 400, {"error": {"message": "every line must POST /v1/chat/completions"}}
        batch = self.batches.create([(line["custom_id"], line["body"]) for line in lines],
                                    input_file_id=body["input_file_id"])
        return 200, self.batch_object(batch)

    def batch_object(self, batch: Batch) -> dict:
        """The batch as `GET /v1/batches/{id}` shows it; an ended one names its output file."""
        total = len(batch.requests)
        done = {"status": "in_progress", "output_file_id": None, "error_file_id": None,
                "request_counts": {"total": total, "completed": 0, "failed": 0}}
        if batch.ended:
            failed = sum(status != 200 for _, status, _ in batch.answers)
            if "output_file_id" not in batch.extra:  # answered lines in the output file, failed ones in the error file
                for name, in_it in (("output_file_id", lambda s: s == 200), ("error_file_id", lambda s: s != 200)):
                    lines = "".join(json.dumps({"id": f"batch_req_{i}", "custom_id": custom_id, "error": None,
                                                "response": {"status_code": status, "request_id": f"req_{i}",
                                                             "body": reply}}) + "\n"
                                    for i, (custom_id, status, reply) in enumerate(batch.answers) if in_it(status))
                    with self._lock:
                        batch.extra[name] = file_id = f"file-{len(self.files) + 1:04d}" if lines else None
                        if file_id:
                            self.files[file_id] = lines.encode()
            done = {"status": "completed", "output_file_id": batch.extra["output_file_id"],
                    "error_file_id": batch.extra["error_file_id"],
                    "request_counts": {"total": total, "completed": total - failed, "failed": failed}}
        return {"id": batch.id, "object": "batch", "endpoint": "/v1/chat/completions",
                "input_file_id": batch.extra["input_file_id"], "completion_window": "24h", "created_at": 0, **done}


def _reply_piece(chunk: dict | str) -> bool:
    choices = chunk.get("choices") if isinstance(chunk, dict) else None
    return bool(choices and choices[0]["delta"].get("content"))


def words(text: str) -> list[str]:
    """Text cut into chunks of a word and the whitespace after it: joined, they are the text again."""
    return re.findall(r"\S+\s*|\s+", text)


def _handler(server: LoopbackOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real servers do
        # one send per reply and no Nagle: otherwise the headers and the body wait on a delayed ACK (~40 ms)
        wbufsize = 1 << 16
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            server.record(Seen("GET", self.path, self.headers.get("Authorization")))
            url = urlsplit(self.path)
            path = url.path.rstrip("/")
            if path.endswith("/models"):
                self._send(200, {"object": "list", "data": [{"id": server.model, "object": "model", "owned_by": "loopback"}]})
            elif self._refused(path):
                return
            elif path.endswith("/batches"):
                limit = int(parse_qs(url.query).get("limit", ["20"])[0])
                data = [server.batch_object(batch) for batch in server.batches.newest(limit + 1)]
                self._send(200, {"object": "list", "data": data[:limit], "has_more": len(data) > limit,
                                 "first_id": data[0]["id"] if data else None,
                                 "last_id": data[:limit][-1]["id"] if data else None})
            elif "/batches/" in path and (status := server.batches.refusal("poll")):
                self._send(status, {"error": {"message": "refused by the loopback server", "type": "loopback_fault"}})
            elif "/batches/" in path and (batch := server.batches.poll(path.rsplit("/", 1)[1])) is not None:
                self._send(200, server.batch_object(batch))
            elif path.endswith("/content") and (status := server.batches.refusal("results")):
                self._send(status, {"error": {"message": "refused by the loopback server", "type": "loopback_fault"}})
            elif path.endswith("/content") and (data := server.files.get(path.split("/")[-2])) is not None:
                self._send_raw(200, data)
            else:
                self._send(404, {"error": {"message": f"no route {self.path}"}})

        def _refused(self, path: str) -> bool:
            """Answer 401 for a wrong key, 404 for a batch route of a server without the Batch API; True if so."""
            if server.refuses(self.headers.get("Authorization")):
                self._send(401, {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error",
                                           "code": "invalid_api_key"}})
                return True
            if not server.batch_api and ("/batches" in path or "/files" in path):
                self._send(404, {"detail": "Not Found"})
                return True
            return False

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self._refused(self.path.rstrip("/")):
                return
            if self.path.rstrip("/").endswith("/files"):
                server.record(Seen("POST", self.path, self.headers.get("Authorization")))
                return self._send(200, server.upload(self.headers.get("Content-Type", ""), raw))
            body = json.loads(raw or b"{}")
            server.record(Seen("POST", self.path, self.headers.get("Authorization"), body))
            if self.path.rstrip("/").endswith("/batches"):
                self._send(*server.create_batch(body))
            elif not self.path.rstrip("/").endswith("/chat/completions"):
                self._send(404, {"error": {"message": f"no route {self.path}"}})
            elif (fault := server.next_fault()) is None:
                if server.latency_s:  # a model takes a while (each request in its own thread, as a real server's)
                    time.sleep(server.latency_s)
                if body.get("stream") and server.streams:
                    self._stream(server.chunks(body))
                else:
                    self._send(200, server.completion(body))
            else:
                self._fault(fault, body)

        def _fault(self, kind: str, body: dict) -> None:
            data = json.dumps(server.completion(body)).encode()
            if kind.isdigit():
                headers = {"Retry-After": f"{server.retry_after_s:g}"} if kind == "429" else {}
                self._send(int(kind), {"error": {"message": "injected by the loopback server", "type": "loopback_fault"}},
                           headers)
            elif kind == "reset":  # RST instead of a reply: linger on, timeout zero
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self._drop(reset=True)
            elif kind == "hang":
                server._closing.wait(server.hang_s)
                self._drop()
            elif kind == "cut":  # the promised length, half of it sent, then the connection drops
                self._send_raw(200, data[: len(data) // 2], length=len(data))
                self._drop()
            elif kind in ("truncated", "empty", "garbage"):
                raw = {"truncated": data[: len(data) // 2], "empty": b"",
                       "garbage": b"<html><body>502 Bad Gateway</body></html>"}[kind]
                self._send_raw(200, raw)
            else:
                raise ValueError(f"unknown fault {kind!r}: use one of {FAULTS} or an HTTP status")

        def _stream(self, chunks: list[dict]) -> None:
            """Server-sent events, HTTP/1.1 chunked (a reply of unknown length on a kept-alive connection)."""
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            hold, sent = server._take_hold(), 0
            for chunk in [*chunks, "[DONE]"]:
                if sent == hold:
                    server.held.set()
                    server._released.wait()
                    hold = None
                event = f"data: {chunk if isinstance(chunk, str) else json.dumps(chunk)}\n\n".encode()
                self.wfile.write(b"%X\r\n%s\r\n" % (len(event), event))
                self.wfile.flush()  # each event leaves at once, as a token does
                sent += _reply_piece(chunk)
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

        def _drop(self, reset: bool = False) -> None:
            self.close_connection = True
            if not reset:  # an orderly close (FIN) after what was sent; a reset closes at once
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.connection.close()

        def _send(self, status: int, payload: dict, headers: dict | None = None) -> None:
            self._send_raw(status, json.dumps(payload).encode(), headers=headers)

        def _send_raw(self, status: int, data: bytes, length: int | None = None, headers: dict | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data) if length is None else length))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()

        def finish(self) -> None:  # a dropped connection has nothing left to flush
            try:
                super().finish()
            except (OSError, ValueError):
                pass

        def log_message(self, *args) -> None:  # quiet: one line per request would flood the test output
            pass

    return Handler


if __name__ == "__main__":  # [REPLY [LATENCY_S]]: serve until stdin closes; the first stdout line is the api_base
    with LoopbackOpenAI(*sys.argv[1:2], latency_s=float(sys.argv[2]) if len(sys.argv) > 2 else 0.0,
                        record=False) as loopback:
        print(loopback.url, flush=True)
        sys.stdin.read()
