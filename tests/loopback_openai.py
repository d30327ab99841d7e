"""A real OpenAI-compatible server on 127.0.0.1 (stdlib http.server): what the real DSPy client talks to in tests.

It speaks the chat-completions wire format (`GET /v1/models`, `POST /v1/chat/completions`), answers every
request at once with a fixed reply and usage, and records each request's path, `Authorization` header and
body. `eval/lm_overhead.py` and `eval/throughput.py` run it in a child process (`python -m tests.loopback_openai
[REPLY [DELAY_S]]`) so that the benchmark's CPU figures are the client's alone; DELAY_S is a server latency.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REPLY = "<final_answer>4</final_answer>"


@dataclass
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    authorization: str | None
    body: dict = field(default_factory=dict)


class LoopbackOpenAI:
    """The server in a daemon thread: `url` is its api_base (ending in /v1); `requests` what it received."""

    def __init__(self, reply: str = REPLY, model: str = "stub-model", delay_s: float = 0.0, record: bool = True):
        self.reply, self.model, self.delay_s, self.keep = reply, model, delay_s, record
        self.requests: list[Seen] = []
        self._lock = threading.Lock()
        self._httpd = _Server(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> LoopbackOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def record(self, seen: Seen) -> None:
        if not self.keep:  # a long benchmark run would hold every request body
            return
        with self._lock:
            self.requests.append(seen)

    def completions(self) -> list[Seen]:
        """The chat-completion requests received so far."""
        with self._lock:
            return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def completion(self, body: dict) -> dict:
        """The chat.completion object answering `body`."""
        prompt = sum(len(str(m.get("content", "")).split()) for m in body.get("messages", []))
        completion = len(self.reply.split())
        return {"id": "chatcmpl-loopback", "object": "chat.completion", "created": 0,
                "model": body.get("model", self.model),
                "choices": [{"index": 0, "message": {"role": "assistant", "content": self.reply},
                             "finish_reason": "stop"}],
                "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                          "total_tokens": prompt + completion}}


class _Server(ThreadingHTTPServer):
    request_queue_size = 256  # the default backlog of 5 drops connects when 64 clients open at once (1 s SYN retry)


def _handler(server: LoopbackOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real servers do
        # one send per reply and no Nagle: otherwise the headers and the body wait on a delayed ACK (~40 ms)
        wbufsize = 1 << 16
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            server.record(Seen("GET", self.path, self.headers.get("Authorization")))
            if self.path.rstrip("/").endswith("/models"):
                self._send(200, {"object": "list", "data": [{"id": server.model, "object": "model", "owned_by": "loopback"}]})
            else:
                self._send(404, {"error": {"message": f"no route {self.path}"}})

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = json.loads(raw or b"{}")
            server.record(Seen("POST", self.path, self.headers.get("Authorization"), body))
            if self.path.rstrip("/").endswith("/chat/completions"):
                if server.delay_s:  # a server's latency (each request in its own thread, as a real server's)
                    time.sleep(server.delay_s)
                self._send(200, server.completion(body))
            else:
                self._send(404, {"error": {"message": f"no route {self.path}"}})

        def _send(self, status: int, payload: dict) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args) -> None:  # quiet: one line per request would flood the test output
            pass

    return Handler


if __name__ == "__main__":  # [REPLY [DELAY_S]]: serve until stdin closes; the first stdout line is the api_base
    reply, delay = (sys.argv[1:] + [REPLY, "0"][len(sys.argv[1:]):])[:2]
    with LoopbackOpenAI(reply, delay_s=float(delay), record=False) as loopback:
        print(loopback.url, flush=True)
        sys.stdin.read()
