"""Prometheus metrics of the server, served on the debug listener (Go: ``http.debug``).

`Metrics` holds the collectors in a registry of its own (two apps in one process do not
mix their counts); `MetricsLayer` counts every HTTP request by method, route and status,
its latency and the bytes it read and wrote, and the upload sessions it opened and
ended. The notification queues and the maintenance tasks are read when scraped.
Prometheus' client is the ``server`` extra's ``prometheus-client``: the exposition
format, histograms and the registry are its job, not ours to rewrite.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pydistribution.server.notifications import Notifier

__all__ = ["Metrics", "MetricsLayer", "route_of"]

_ROUTES: Final = (
    ("base", re.compile(r"/v2/?")),
    ("catalog", re.compile(r"/v2/_catalog")),
    ("tags", re.compile(r"/v2/.+/tags/list")),
    ("uploads", re.compile(r"/v2/.+/blobs/uploads/[^/]*")),
    ("blobs", re.compile(r"/v2/.+/blobs/[^/]+")),
    ("manifests", re.compile(r"/v2/.+/manifests/[^/]+")),
    ("referrers", re.compile(r"/v2/.+/referrers/[^/]+")),
    ("health", re.compile(r"/debug/health|/livez|/readyz")),
    ("admin", re.compile(r"/admin(?:/.*)?")),
)
_UPLOAD_SESSION: Final = re.compile(r"/v2/.+/blobs/uploads/[^/]+")
_NAMESPACE: Final = "pydistribution"


def route_of(path: str) -> str:
    """The route group of a path (without prefix): ``manifests``, ``blobs``, ..., ``other``."""
    for name, pattern in _ROUTES:
        if pattern.fullmatch(path):
            return name
    return "other"


class _QueueCollector(Collector):
    """The notification queues' lengths and counters, read when scraped."""

    def __init__(self) -> None:
        self.notifier: Notifier | None = None

    def collect(self) -> Iterator[Metric]:
        pending = GaugeMetricFamily(
            f"{_NAMESPACE}_notification_queue_length",
            "Events waiting in a notification queue ('' is the dispatcher).",
            labels=["endpoint"],
        )
        dropped = CounterMetricFamily(
            f"{_NAMESPACE}_notification_dropped",
            "Events dropped because a notification queue was full.",
            labels=["endpoint"],
        )
        delivered = CounterMetricFamily(
            f"{_NAMESPACE}_notification_delivered",
            "Events delivered to an endpoint (handed on, for the dispatcher).",
            labels=["endpoint"],
        )
        failures = CounterMetricFamily(
            f"{_NAMESPACE}_notification_failures",
            "Posts to an endpoint that failed and are tried again.",
            labels=["endpoint"],
        )
        if self.notifier is not None:
            for stats in self.notifier.stats():
                pending.add_metric([stats.name], stats.pending)
                dropped.add_metric([stats.name], stats.dropped)
                delivered.add_metric([stats.name], stats.delivered)
                failures.add_metric([stats.name], stats.failures)
        yield from (pending, dropped, delivered, failures)


class Metrics:
    """The server's collectors, in a registry of their own.

    Attributes:
        registry: the Prometheus registry `exposition` writes.
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        labels = ["method", "route"]
        self.requests = Counter(
            f"{_NAMESPACE}_http_requests",
            "HTTP requests answered, by method, route group and status.",
            [*labels, "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            f"{_NAMESPACE}_http_request_duration_seconds",
            "Time from a request's arrival to the end of its answer.",
            labels,
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
        )
        self.bytes_in = Counter(
            f"{_NAMESPACE}_http_request_bytes",
            "Bytes of request bodies read.",
            ["route"],
            registry=self.registry,
        )
        self.bytes_out = Counter(
            f"{_NAMESPACE}_http_response_bytes",
            "Bytes of response bodies written.",
            ["route"],
            registry=self.registry,
        )
        self.uploads_open = Gauge(
            f"{_NAMESPACE}_upload_sessions_open",
            "Upload sessions this process started and has not seen end (completed or "
            "cancelled); sessions abandoned by clients stay counted until purged elsewhere.",
            registry=self.registry,
        )
        self.maintenance_runs = Counter(
            f"{_NAMESPACE}_maintenance_runs",
            "Runs of a maintenance task (gc, retention), by outcome.",
            ["task", "outcome"],
            registry=self.registry,
        )
        self.maintenance_deleted = Counter(
            f"{_NAMESPACE}_maintenance_deleted",
            "What maintenance runs deleted: blobs, manifests, tags, bytes.",
            ["task", "kind"],
            registry=self.registry,
        )
        self.maintenance_seconds = Histogram(
            f"{_NAMESPACE}_maintenance_duration_seconds",
            "How long a maintenance run took.",
            ["task"],
            registry=self.registry,
            buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 1800, 3600),
        )
        self._queues = _QueueCollector()
        self.registry.register(self._queues)

    def watch_notifier(self, notifier: Notifier) -> None:
        """Export ``notifier``'s queue lengths, drops, deliveries and failures."""
        self._queues.notifier = notifier

    def record_maintenance(
        self, task: str, seconds: float, deleted: dict[str, int] | None, *, busy: bool = False
    ) -> None:
        """Count a maintenance run: ``deleted`` by kind, or ``None`` when it failed.

        ``busy``: it did not run, another collection held the storage's lease.
        """
        outcome = "busy" if busy else "failed" if deleted is None else "ok"
        self.maintenance_runs.labels(task, outcome).inc()
        self.maintenance_seconds.labels(task).observe(seconds)
        for kind, count in (deleted or {}).items():
            self.maintenance_deleted.labels(task, kind).inc(count)

    def exposition(self) -> bytes:
        """The metrics in Prometheus' text format."""
        return generate_latest(self.registry)


class MetricsLayer:
    """ASGI middleware counting requests into a `Metrics`.

    Args:
        app: the app to wrap.
        metrics: where the counts go.
        prefix: the ``http.prefix`` to strip before finding the route group.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics, *, prefix: str = "") -> None:
        self.app = app
        self.metrics = metrics
        self.prefix = prefix
        self._clock: Callable[[], float] = time.perf_counter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = self._clock()
        path: str = scope["path"]
        if self.prefix and path.startswith(self.prefix + "/"):
            path = path[len(self.prefix) :]
        route = route_of(path)
        status = 500
        read = 0
        written = 0
        headers: list[tuple[bytes, bytes]] = []

        async def counting_receive() -> Message:
            nonlocal read
            message = await receive()
            if message["type"] == "http.request":
                read += len(message.get("body", b""))
            return message

        async def counting_send(message: Message) -> None:
            nonlocal status, written, headers
            kind = message["type"]
            if kind == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
            elif kind == "http.response.body":
                written += len(message.get("body", b""))
            elif kind == "http.response.pathsend":
                for name, value in headers:
                    if name.lower() == b"content-length" and value.isdigit():
                        written += int(value)
            await send(message)

        try:
            await self.app(scope, counting_receive, counting_send)
        finally:
            method = scope["method"]
            metrics = self.metrics
            metrics.requests.labels(method, route, str(status)).inc()
            metrics.latency.labels(method, route).observe(self._clock() - started)
            if read:
                metrics.bytes_in.labels(route).inc(read)
            if written:
                metrics.bytes_out.labels(route).inc(written)
            if route == "uploads":
                self._count_session(method, path, status)

    def _count_session(self, method: str, path: str, status: int) -> None:
        if method == "POST" and status == 202:
            self.metrics.uploads_open.inc()
        elif _UPLOAD_SESSION.fullmatch(path) and (
            (method == "PUT" and status == 201) or (method == "DELETE" and status == 204)
        ):
            self.metrics.uploads_open.dec()
