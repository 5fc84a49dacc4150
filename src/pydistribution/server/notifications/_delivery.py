"""Delivery of events: bounded queues drained by background threads, with retries.

`Notifier.submit` never blocks and never fails: it appends the event to a bounded queue
(or counts it as dropped when the queue is full) and returns. One dispatcher thread
completes events (a blob's size, looked up with the ``size_of`` hook, when the request
did not say it), hands them to the listeners (such as the pull-time recorder) and to
each endpoint's own bounded queue. Each endpoint has a thread that posts what is queued
in Go's envelope, oldest first, and tries again after a failure: at once until
``threshold`` posts in a row failed, then every ``backoff``, for as long as it takes;
only new events that find the queue full are lost, counted and logged.
"""

from __future__ import annotations

import collections
import http.client
import logging
import threading
import time
import urllib.parse
from collections.abc import Callable, Sequence
from typing import Final

import attrs

from pydistribution.server.notifications._config import EndpointConfig, Envelope
from pydistribution.server.notifications._events import Event, envelope, envelope_type

__all__ = ["EndpointStats", "Notifier", "SizeOf"]

logger = logging.getLogger("pydistribution.server.notifications")

SizeOf = Callable[[str, str], "int | None"]
"""``size_of(repository, digest)``: a blob's size, or ``None`` when it cannot be told."""

_BATCH: Final = 100
_DROP_LOG_SECONDS: Final = 10.0


@attrs.define
class EndpointStats:
    """Counters of one queue (an endpoint's, or the dispatcher's under the name ``""``).

    Attributes:
        name: the endpoint's name.
        delivered: events posted successfully.
        dropped: events lost because the queue was full.
        failures: posts that failed (each is tried again).
        pending: events waiting now.
    """

    name: str
    delivered: int = 0
    dropped: int = 0
    failures: int = 0
    pending: int = 0


class _Queue:
    """A bounded queue of events drained by one daemon thread."""

    def __init__(self, name: str, size: int, drain: Callable[[list[Event]], bool]) -> None:
        self.stats = EndpointStats(name)
        self._size = size
        self._drain = drain
        self._events: collections.deque[Event] = collections.deque()
        self._cond = threading.Condition()
        self._closed = False
        self._thread: threading.Thread | None = None
        self._last_drop_log = 0.0

    def put(self, event: Event) -> None:
        with self._cond:
            if self._closed:
                return
            if len(self._events) >= self._size:
                self.stats.dropped += 1
                now = time.monotonic()
                if now - self._last_drop_log >= _DROP_LOG_SECONDS:
                    self._last_drop_log = now
                    logger.warning(
                        "notification queue %s is full (%d events): %d events dropped so far",
                        self.stats.name or "dispatch",
                        self._size,
                        self.stats.dropped,
                    )
                return
            self._events.append(event)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run,
                    name=f"pydistribution-notify-{self.stats.name or 'dispatch'}",
                    daemon=True,
                )
                self._thread.start()
            self._cond.notify()

    def pending(self) -> int:
        with self._cond:
            return len(self._events)

    def wait(self, seconds: float) -> bool:
        """Sleep ``seconds`` unless closed first; whether the queue is still open."""
        with self._cond:
            self._cond.wait_for(lambda: self._closed, timeout=seconds)
            return not self._closed

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=1)

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._events or self._closed)
                if self._closed:
                    return
                batch = list(self._events)[:_BATCH]
            if self._drain(batch):
                with self._cond:
                    for _ in batch:
                        self._events.popleft()


class _Endpoint:
    """Posts events to one receiver, retrying as Go's retrying sink does."""

    def __init__(self, config: EndpointConfig, version: Envelope) -> None:
        self.config = config
        self.version = version
        self.queue = _Queue(config.name, config.queue_size, self._post_batch)
        self._failures_in_row = 0
        parts = urllib.parse.urlsplit(config.url)
        self._https = parts.scheme == "https"
        self._netloc = parts.netloc
        self._target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._headers = [(n, v) for n, values in config.headers.items() for v in values]

    def _post_batch(self, batch: list[Event]) -> bool:
        try:
            status = self._post(envelope(batch, self.version))
        except (OSError, http.client.HTTPException) as exc:
            problem = f"{type(exc).__name__}: {exc}"
        else:
            if status < 400:
                self.queue.stats.delivered += len(batch)
                self._failures_in_row = 0
                return True
            problem = f"HTTP {status}"
        self.queue.stats.failures += 1
        self._failures_in_row += 1
        if self._failures_in_row == self.config.threshold:
            logger.warning(
                "notification endpoint %s failed %d times in a row (%s); retrying every %s",
                self.config.name,
                self._failures_in_row,
                problem,
                self.config.backoff,
            )
        if self._failures_in_row >= self.config.threshold:
            self.queue.wait(self.config.backoff.total_seconds())
        return False

    def _post(self, body: bytes) -> int:
        timeout = self.config.timeout.total_seconds()
        connection: http.client.HTTPConnection
        if self._https:
            connection = http.client.HTTPSConnection(self._netloc, timeout=timeout)
        else:
            connection = http.client.HTTPConnection(self._netloc, timeout=timeout)
        try:
            connection.putrequest("POST", self._target)
            connection.putheader("Content-Type", envelope_type(self.version))
            connection.putheader("Content-Length", str(len(body)))
            for name, value in self._headers:
                connection.putheader(name, value)
            connection.endheaders(body)
            response = connection.getresponse()
            response.read()
            return response.status
        finally:
            connection.close()


class Notifier:
    """Sends events to endpoints and listeners in the background; see the module text.

    Args:
        endpoints: the webhook receivers.
        version: the envelope version posted.
        listeners: called with every event in the dispatcher thread; they must be quick
            (an exception is logged and the event goes on).
        size_of: looks up sizes the request did not tell (blob pushes, mounts, redirects).
        queue_size: the most events waiting for the dispatcher.
    """

    def __init__(
        self,
        endpoints: Sequence[EndpointConfig] = (),
        *,
        version: Envelope = "v2",
        listeners: Sequence[Callable[[Event], object]] = (),
        size_of: SizeOf | None = None,
        queue_size: int = 10_000,
    ) -> None:
        self._endpoints = [_Endpoint(config, version) for config in endpoints]
        self._listeners = tuple(listeners)
        self._size_of = size_of
        self._dispatch = _Queue("", queue_size, self._fan_out)

    def submit(self, event: Event) -> None:
        """Queue ``event``; returns at once (a full queue drops it, counted)."""
        self._dispatch.put(event)

    def stats(self) -> list[EndpointStats]:
        """The counters of the dispatcher (name ``""``) and of every endpoint, now."""
        queues = [self._dispatch, *(e.queue for e in self._endpoints)]
        return [attrs.evolve(q.stats, pending=q.pending()) for q in queues]

    def close(self) -> None:
        """Stop the threads; events still queued are not sent."""
        self._dispatch.close()
        for endpoint in self._endpoints:
            endpoint.queue.close()

    def _fan_out(self, batch: list[Event]) -> bool:
        for event in batch:
            event = self._complete(event)
            for listener in self._listeners:
                try:
                    listener(event)
                except Exception:  # a listener's failure must not stop delivery
                    logger.exception("notification listener %r failed", listener)
            for endpoint in self._endpoints:
                if endpoint.config.wants(event.action, event.target.media_type):
                    endpoint.queue.put(event)
        self._dispatch.stats.delivered += len(batch)
        return True

    def _complete(self, event: Event) -> Event:
        target = event.target
        if target.size is not None or not target.digest or self._size_of is None:
            return event
        try:
            size = self._size_of(target.repository, target.digest)
        except Exception:  # noqa: BLE001 - an event without a size is still an event
            logger.debug("size of %s in %s unknown", target.digest, target.repository)
            return event
        return attrs.evolve(event, target=attrs.evolve(target, size=size))
