"""A cheap OpenAI-compatible loopback server for throughput runs: one asyncio event loop, HTTP/1.1 keep-alive.

`strawberry_dspy/testing/loopback_openai.py` (http.server, a thread per connection, every body parsed and recorded, faults) is
the server the behaviour tests talk to. Timing a client against it also times its threads and its JSON parsing
on the same two cores, so a throughput figure would be partly the server's. This one costs what a fast real
server's front end does: no thread per connection (LATENCY_S is a timer on the loop, not a sleeping thread), no
parsing of the request body (the reply is fixed; its usage counts the body's bytes / 4 as prompt tokens), one
write per reply. It counts the connections open and the requests in flight (now and at their peak), which is
what a test of the client's connection pool asserts on.

    python -m strawberry_dspy.testing.loopback_fast [REPLY [LATENCY_S]]   # the first stdout line is the api_base; then one JSON
                                                       # line of `stats()` per line read on stdin (a line "reset"
                                                       # first restarts the peaks); EOF stops it
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time
from collections import deque

REPLY = "<final_answer>4</final_answer>"
MAX_HEAD = 64 * 1024  # a request head larger than this is refused (431) and the connection closed


class Counters:
    """Connections and requests, now and at their peak (read and written on the event loop only)."""

    def __init__(self) -> None:
        self.connections = self.peak_connections = self.in_flight = self.peak_in_flight = self.served = 0

    def stats(self) -> dict:
        return {"connections": self.connections, "peak_connections": self.peak_connections,
                "in_flight": self.in_flight, "peak_in_flight": self.peak_in_flight, "served": self.served,
                "cpu_s": time.process_time()}


class _Connection(asyncio.Protocol):
    """One client connection: parse request heads, reply in order after the server's latency."""

    def __init__(self, server: FastLoopback):
        self.server, self.counters = server, server.counters
        self.buffer = bytearray()
        self.pending: deque[tuple[str, int]] = deque()  # parsed requests not yet answered: (target, body bytes)
        self.busy = False  # a reply is scheduled: requests pipelined behind it wait their turn
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.counters.connections += 1
        self.counters.peak_connections = max(self.counters.peak_connections, self.counters.connections)

    def connection_lost(self, exc) -> None:
        self.counters.connections -= 1
        self.counters.in_flight -= len(self.pending)
        self.pending.clear()
        self.transport = None

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > MAX_HEAD:
                    self._reply(431, b'{"error": {"message": "request head too large"}}', close=True)
                return
            head = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
            length = 0
            for line in head[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            if len(self.buffer) < end + 4 + length:
                return  # the rest of the body is still on its way
            del self.buffer[: end + 4 + length]
            method, target = (head[0].split(" ") + ["", ""])[:2]
            self.pending.append((f"{method} {target}", length))
            self.counters.in_flight += 1
            self.counters.peak_in_flight = max(self.counters.peak_in_flight, self.counters.in_flight)
            if not self.busy:
                self._next()

    def _next(self) -> None:
        if not self.pending:
            self.busy = False
            return
        self.busy = True
        route, length = self.pending[0]
        delay = self.server.latency_s if route.startswith("POST") else 0.0
        if delay:
            self.server.loop.call_later(delay, self._answer, route, length)
        else:
            self._answer(route, length)

    def _answer(self, route: str, length: int) -> None:
        if self.transport is None or not self.pending:  # the client went away while we "thought"
            return
        self.pending.popleft()
        self.counters.in_flight -= 1
        self.counters.served += 1
        path = route.partition(" ")[2].partition("?")[0].rstrip("/")
        if route.startswith("POST") and path.endswith("/chat/completions"):
            self._reply(200, self.server.completion(length // 4))
        elif route.startswith("GET") and path.endswith("/models"):
            self._reply(200, self.server.models)
        else:
            self._reply(404, json.dumps({"error": {"message": f"no route {route}"}}).encode())
        self._next()

    def _reply(self, status: int, body: bytes, close: bool = False) -> None:
        reason = {200: "OK", 404: "Not Found", 431: "Request Header Fields Too Large"}[status]
        head = (f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                f"{'Connection: close' if close else 'Connection: keep-alive'}\r\n\r\n")
        self.transport.write(head.encode("latin-1") + body)
        if close:
            self.transport.close()


class FastLoopback:
    """The server on its own event loop in a daemon thread: `url` is its api_base (ending in /v1)."""

    def __init__(self, reply: str = REPLY, latency_s: float = 0.0, model: str = "stub-model"):
        self.latency_s, self.counters = latency_s, Counters()
        self.models = json.dumps({"object": "list", "data": [{"id": model, "object": "model",
                                                              "owned_by": "loopback"}]}).encode()
        # the reply cut around its token counts: one join per request, no JSON encoding
        completion = len(reply.split())
        text = json.dumps({"id": "chatcmpl-loopback", "object": "chat.completion", "created": 0, "model": model,
                           "choices": [{"index": 0, "message": {"role": "assistant", "content": reply},
                                        "finish_reason": "stop"}]})
        head, middle, tail = (text[:-1] + ', "usage": {"prompt_tokens": ', f', "completion_tokens": {completion}, '
                              '"total_tokens": ', "}}")
        self._parts = (head.encode(), middle.encode(), tail.encode())
        self._completion = completion
        self.loop = asyncio.new_event_loop()
        self._server = self.loop.run_until_complete(
            self.loop.create_server(lambda: _Connection(self), "127.0.0.1", 0, backlog=1024))
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}/v1"
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def completion(self, prompt_tokens: int) -> bytes:
        """The chat.completion body for a request of `prompt_tokens` tokens."""
        head, middle, tail = self._parts
        return b"%s%d%s%d%s" % (head, prompt_tokens, middle, prompt_tokens + self._completion, tail)

    def stats(self) -> dict:
        """Connections open, requests in flight, their peaks, requests served and this process's CPU seconds."""
        return asyncio.run_coroutine_threadsafe(self._stats(), self.loop).result(timeout=10)

    async def _stats(self) -> dict:
        return self.counters.stats()

    def reset_peaks(self) -> None:
        """Start counting the peaks afresh (e.g. between two measured phases)."""
        def reset() -> None:
            self.counters.peak_connections = self.counters.connections
            self.counters.peak_in_flight = self.counters.in_flight
        self.loop.call_soon_threadsafe(reset)

    def __enter__(self) -> FastLoopback:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        async def stop() -> None:
            self._server.close()
            await self._server.wait_closed()
        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(stop(), self.loop).result(timeout=10)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout=10)
        self.loop.close()


if __name__ == "__main__":
    with FastLoopback(*sys.argv[1:2], latency_s=float(sys.argv[2]) if len(sys.argv) > 2 else 0.0) as served:
        print(served.url, flush=True)
        for line in sys.stdin:
            if line.strip() == "reset":
                served.reset_peaks()
            print(json.dumps(served.stats()), flush=True)
