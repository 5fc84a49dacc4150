"""The debug listener (Go: ``http.debug.addr``): metrics, health and the admin API.

A small threaded HTTP server of the standard library, on its own address, in the
serving process: what it answers (a metrics scrape, a health check, a maintenance run
started by the admin API) blocks nothing on the API's event loop. `DebugServer` takes a
handler per path.
"""

from __future__ import annotations

import logging
import threading
import urllib.parse
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["DebugAnswer", "DebugHandler", "DebugServer"]

logger = logging.getLogger("pydistribution.server.debug")

DebugAnswer = tuple[int, str, bytes]
"""A status, a content type and a body."""
DebugHandler = Callable[[str, Mapping[str, str]], DebugAnswer]
"""``handler(method, query)``: the answer to a request on its path."""


class DebugServer:
    """Serves ``routes`` (path to handler) on ``host:port`` from a daemon thread.

    Unknown paths answer 404; methods other than GET, HEAD and POST answer 405.
    """

    def __init__(self, host: str, port: int, routes: Mapping[str, DebugHandler]) -> None:
        self.host = host
        self.port = port
        self.routes = dict(routes)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Listen and serve in a thread.

        Raises:
            OSError: the address cannot be bound.
        """
        routes = self.routes

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, method: str) -> None:
                parts = urllib.parse.urlsplit(self.path)
                handler = routes.get(parts.path)
                if handler is None:
                    status, kind, body = 404, "text/plain", b"not found\n"
                else:
                    query = dict(urllib.parse.parse_qsl(parts.query))
                    try:
                        status, kind, body = handler(method, query)
                    except Exception:
                        logger.exception("debug handler of %s failed", parts.path)
                        status, kind, body = 500, "text/plain", b"internal error\n"
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                if method != "HEAD":
                    self.wfile.write(body)

            def do_GET(self) -> None:
                self._answer("GET")

            def do_HEAD(self) -> None:
                self._answer("HEAD")

            def do_POST(self) -> None:
                length = self.headers.get("Content-Length", "0")
                if length.isdigit() and int(length) <= 1 << 16:
                    self.rfile.read(int(length))
                self._answer("POST")

            def log_message(self, format: str, *args: object) -> None:
                logger.debug("debug listener: " + format, *args)

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="pydistribution-debug", daemon=True
        )
        self._thread.start()
        logger.info("debug listener on %s:%d", self.host, self.port)

    def stop(self) -> None:
        """Stop serving and close the port."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._server = None
