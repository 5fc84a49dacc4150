"""The app as a registry deployment runs it: ``create_app`` plus what ``config.yml`` adds.

`configured_app` wraps the app of `create_app` in small ASGI layers, outermost first:
background jobs on the ASGI lifespan (the upload purger), the request and access logs,
extra headers and absolute ``Location`` URLs (``http.headers``, ``http.host``), the
health check, the path prefix (``http.prefix``), authentication (``auth``), the admin
API (``http.admin``) and read-only mode; with ``notifications`` (or listeners), events of
every request that pushed, pulled, mounted or deleted, just inside the request log. Each
is a few lines of raw ASGI rather than Starlette middleware: they run on every request,
and a plain wrapper costs a function call where ``BaseHTTPMiddleware`` costs a task per
request.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

import anyio
import anyio.to_thread
import attrs
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pydistribution.digest import Digest
from pydistribution.errcode import ErrorCode
from pydistribution.protocols import Namespace
from pydistribution.reference import Reference
from pydistribution.server._admin import AdminRoutes
from pydistribution.server._app import create_app
from pydistribution.server._debug import DebugHandler, DebugServer
from pydistribution.server._errors import error_response, logger
from pydistribution.server._health import (
    HEALTH_PATH,
    LIVENESS_PATH,
    READINESS_PATH,
    HealthCheck,
    storage_status,
)
from pydistribution.server._logging import RequestLog
from pydistribution.server._maintenance import ADMIN_PREFIX, Maintenance, MaintenanceTask
from pydistribution.server._options import ServerOptions
from pydistribution.server.config import DebugConfig, ServerConfig, split_addr
from pydistribution.server.notifications import Event, EventLayer, NotificationsConfig, Notifier

if TYPE_CHECKING:
    from pydistribution.server._metrics import Metrics

__all__ = ["BackgroundJob", "configured_app"]

_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@attrs.frozen(kw_only=True)
class BackgroundJob:
    """A synchronous job the server runs in a worker thread, again and again.

    Attributes:
        name: what the log calls it.
        run: the job; an exception is logged and the next run happens on schedule.
        interval: the time between the end of one run and the start of the next.
        first_delay: the wait before the first run (Go's purger waits a random time
            of up to an hour, so that several registries do not purge together).
    """

    name: str
    run: Callable[[], object]
    interval: timedelta
    first_delay: timedelta = timedelta(0)


def upload_purger_delay() -> timedelta:
    """Go's jitter before the first upload purge: a random whole number of minutes < 60."""
    return timedelta(minutes=random.randrange(60))


def configured_app(
    namespace: Namespace,
    config: ServerConfig,
    *,
    options: ServerOptions | None = None,
    jobs: Sequence[BackgroundJob] = (),
    listeners: Sequence[Callable[[Event], object]] = (),
    maintenance: Sequence[MaintenanceTask] = (),
) -> ASGIApp:
    """The app over ``namespace`` as a Go ``config.yml`` describes the server.

    Adds to `create_app`: the access log and one log line per request (see
    `configure_logging` for where they go), ``GET /debug/health``, ``http.headers``,
    absolute ``Location`` headers on ``http.host``, the ``http.prefix`` path, the ``auth``
    access controller, read-only mode (every write answered 405 ``UNSUPPORTED``), and
    ``jobs`` run in the background while the ASGI server runs the app (its lifespan).

    Args:
        namespace: the repositories to serve.
        config: the server settings (`ServerConfig.parse` of a ``config.yml``).
        options: the HTTP layer's options; ``catalog_max_entries`` comes from ``config``.
        jobs: background jobs, such as the upload purger.
        listeners: called in a background thread with every event (push, pull,
            mount, delete), as the ``notifications`` endpoints are posted them.
        maintenance: tasks (garbage collection, retention) run on their schedules and
            by the admin API, on the debug listener (``http.debug.admin``) and under
            ``/admin`` on this one (``http.admin``, behind the admin scope with ``auth``).

    Raises:
        ConfigurationError: a file the ``auth`` section names (htpasswd, certificates,
            JWKS, policy) cannot be used.
    """
    options = attrs.evolve(
        options or ServerOptions(), catalog_max_entries=config.catalog_max_entries
    )
    app: ASGIApp = create_app(namespace, options=options)
    if config.read_only:
        app = _ReadOnly(app)
    debug = config.debug
    metrics: Metrics | None = None
    if debug is not None and debug.prometheus:
        # Imported only when configured, as auth below: each is megabytes of memory in
        # every worker process (prometheus_client; PyJWT, cryptography and bcrypt).
        from pydistribution.server._metrics import Metrics

        metrics = Metrics()
    tasks = Maintenance(maintenance, metrics)
    if config.admin:
        app = AdminRoutes(app, tasks.admin_routes())
    if config.auth is not None:
        # Outside read-only mode, as in Go: who asks is known before what is refused.
        from pydistribution.server.auth import authenticated_app

        admin_prefix = ADMIN_PREFIX if config.admin else None
        app = authenticated_app(app, config.auth, admin_prefix=admin_prefix)
    if config.prefix:
        app = _Prefix(app, config.prefix)
    if config.health_check:
        app = HealthCheck(app, namespace)
    host = None if config.relative_urls else config.host
    if config.headers or host:
        app = _Headers(app, config.headers, host)
    closers: list[Callable[[], object]] = []
    starters: list[Callable[[], object]] = []
    if metrics is not None:
        from pydistribution.server._metrics import MetricsLayer

        app = MetricsLayer(app, metrics, prefix=config.prefix)
    if config.notifications is not None or listeners:
        notifications = config.notifications or NotificationsConfig()
        notifier = Notifier(
            notifications.endpoints,
            version=notifications.envelope,
            listeners=listeners,
            size_of=_blob_size(namespace),
        )
        app = EventLayer(app, notifier, addr=config.addr, host=host, prefix=config.prefix)
        closers.append(notifier.close)
        if metrics is not None:
            metrics.watch_notifier(notifier)
    jobs = [*jobs, *_scheduled(tasks)]
    if debug is not None:
        server = _debug_server(debug, namespace, metrics, tasks)
        starters.append(server.start)
        closers.append(server.stop)
    app = RequestLog(app, access_log=config.log.access_log)
    return _Lifespan(app, jobs, closers, starters)


def _scheduled(maintenance: Maintenance) -> list[BackgroundJob]:
    jobs = []
    for task in maintenance.tasks.values():
        if task.interval is None:
            continue

        def run(name: str = task.name) -> None:
            maintenance.run(name)

        jobs.append(
            BackgroundJob(
                name=f"maintenance {task.name}",
                run=run,
                interval=task.interval,
                first_delay=task.first_delay,
            )
        )
    return jobs


def _debug_server(
    debug: DebugConfig, namespace: Namespace, metrics: Metrics | None, tasks: Maintenance
) -> DebugServer:
    def health(method: str, query: Mapping[str, str]) -> tuple[int, str, bytes]:
        status, body = storage_status(namespace)
        return status, "application/json", body

    def alive(method: str, query: Mapping[str, str]) -> tuple[int, str, bytes]:
        return 200, "application/json", b"{}"

    routes: dict[str, DebugHandler] = {
        HEALTH_PATH: health,
        READINESS_PATH: health,
        LIVENESS_PATH: alive,
    }
    if metrics is not None:

        def scrape(method: str, query: Mapping[str, str]) -> tuple[int, str, bytes]:
            return 200, "text/plain; version=0.0.4; charset=utf-8", metrics.exposition()

        routes[debug.prometheus_path] = scrape
    if debug.admin:
        routes.update(tasks.admin_routes())
    host, port = split_addr(debug.addr, "http.debug.addr")
    return DebugServer(host, port, routes)


def _blob_size(namespace: Namespace) -> Callable[[str, str], int | None]:
    def size_of(repository: str, digest: str) -> int | None:
        blobs = namespace.repository(Reference(path=repository)).blobs()
        return blobs.stat(Digest.parse(digest)).size

    return size_of


class _ReadOnly:
    """Answers every write 405 ``UNSUPPORTED`` with ``Allow: GET, HEAD`` (Go: ``readonly``).

    Go answers the 405 with a plain-text body; this one is the spec's JSON error body.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in _READ_METHODS:
            response = error_response(
                ErrorCode.UNSUPPORTED,
                "the registry is in read-only mode",
                status=405,
                headers={"Allow": "GET, HEAD"},
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


class _Prefix:
    """Serves the app under a path prefix (Go: ``http.prefix``), 404 elsewhere."""

    def __init__(self, app: ASGIApp, prefix: str) -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith(self.prefix + "/"):
            # As Starlette's Mount does: the path stays whole, root_path says where the
            # app is mounted, and the app builds its Location headers with it.
            root = scope.get("root_path", "") + self.prefix
            await self.app({**scope, "root_path": root}, receive, send)
            return
        response = error_response(ErrorCode.UNSUPPORTED, "no such route", status=404)
        await response(scope, receive, send)


class _Headers:
    """Adds ``http.headers`` to every answer and makes ``Location`` absolute on ``host``."""

    def __init__(
        self, app: ASGIApp, headers: Mapping[str, tuple[str, ...]], host: str | None
    ) -> None:
        self.app = app
        self.headers = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, values in headers.items()
            for value in values
        ]
        self.host = host.encode("latin-1") if host else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                if self.host is not None:
                    headers = [
                        (name, self.host + value)
                        if name.lower() == b"location" and value.startswith(b"/")
                        else (name, value)
                        for name, value in headers
                    ]
                headers.extend((n, v) for n, v in self.headers if n not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class _Lifespan:
    """Runs background jobs for as long as the ASGI server runs the app."""

    def __init__(
        self,
        app: ASGIApp,
        jobs: Sequence[BackgroundJob],
        closers: Sequence[Callable[[], object]] = (),
        starters: Sequence[Callable[[], object]] = (),
    ) -> None:
        self.app = app
        self.jobs = tuple(jobs)
        self.closers = tuple(closers)
        self.starters = tuple(starters)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        async with anyio.create_task_group() as group:
            for job in self.jobs:
                group.start_soon(_repeat, job)
            message = await receive()
            if message["type"] == "lifespan.startup":
                for start in self.starters:
                    try:
                        await anyio.to_thread.run_sync(start)
                    except OSError:
                        logger.exception("the debug listener cannot start; serving without it")
                await send({"type": "lifespan.startup.complete"})
                message = await receive()
            group.cancel_scope.cancel()
        for close in self.closers:
            await anyio.to_thread.run_sync(close)
        if message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})


async def _repeat(job: BackgroundJob) -> None:
    await anyio.sleep(job.first_delay.total_seconds())
    while True:
        logger.info("background job %s starts", job.name)
        try:
            await anyio.to_thread.run_sync(job.run, abandon_on_cancel=True)
        except Exception:  # noqa: BLE001 - a failed run is logged; the schedule goes on
            logger.exception("background job %s failed", job.name)
        await anyio.sleep(job.interval.total_seconds())
