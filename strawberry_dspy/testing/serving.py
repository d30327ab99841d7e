"""A loopback HTTP server in a daemon thread: what every stand-in server of this package shares.

    with SomeServer(...) as server:   # serving on 127.0.0.1 at a free port until the block ends
        client(server.url)
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class ThreadedServer:
    """Subclasses call `_serve(handler_class, path)` in their __init__; `url` is then the server's address + path."""

    url: str

    def _serve(self, handler: type[BaseHTTPRequestHandler], path: str = "", backlog: int = 128,
               server_class: type[ThreadingHTTPServer] = ThreadingHTTPServer) -> None:
        self._httpd = server_class(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._httpd.request_queue_size = backlog  # the default of 5 drops connects when many clients open at once
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}{path}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
