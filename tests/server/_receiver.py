"""A webhook receiver on 127.0.0.1 for notification tests: it keeps what it is posted."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import attrs


@attrs.frozen
class Post:
    """One post: its headers (lower-case names) and the events of its envelope."""

    headers: dict[str, str]
    events: list[dict[str, Any]]


class Receiver:
    """A threading HTTP server that answers 200 and records every envelope posted."""

    def __init__(self, port: int = 0) -> None:
        self.posts: list[Post] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                post = Post(
                    headers={k.lower(): v for k, v in self.headers.items()},
                    events=json.loads(body)["events"],
                )
                with receiver._lock:
                    receiver.posts.append(post)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/events"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def events(self) -> list[dict[str, Any]]:
        """Every event received so far, in the order received."""
        with self._lock:
            return [event for post in self.posts for event in post.events]

    def wait_for(self, count: int, timeout: float = 20.0) -> list[dict[str, Any]]:
        """The events once at least ``count`` arrived (fails after ``timeout`` seconds)."""
        events: list[dict[str, Any]] = wait_until(
            lambda: self.events() if len(self.events()) >= count else None, timeout
        )
        return events

    def stop(self) -> None:
        """Stop serving and close the port."""
        self.server.shutdown()
        self.server.server_close()
        self._thread.join()


def wait_until(check: Callable[[], Any], timeout: float = 20.0) -> Any:
    """Poll ``check`` until it returns something other than ``None``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"nothing after {timeout}s")
        time.sleep(0.02)
