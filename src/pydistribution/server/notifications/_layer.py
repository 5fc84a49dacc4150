"""The ASGI layer that turns completed API requests into events.

`EventLayer` watches each request go by: the route (from the path), the status, the
response's ``Docker-Content-Digest``, ``Content-Type`` and ``Content-Length``, and for a
manifest push the request's own media type and the bytes it sent. When the answer says
the action happened it hands one `Event` to the `Notifier` and returns; nothing waits
for delivery. As in the Go registry, pushes are manifest puts and completed blob
uploads, pulls are manifest and blob ``GET``s (a ``HEAD`` is a check, not a pull), a
mount is a cross-repository mount that succeeded, and deletes are manifest, tag and blob
deletes.
"""

from __future__ import annotations

import datetime
import re
import socket
import urllib.parse
import uuid
from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pydistribution.mediatypes import OCTET_STREAM
from pydistribution.server.notifications._delivery import Notifier
from pydistribution.server.notifications._events import (
    Event,
    EventRequest,
    EventSource,
    EventTarget,
)

__all__ = ["EventLayer"]

_UPLOAD: Final = re.compile(r"/v2/(?P<name>.+)/blobs/uploads/(?P<id>[^/]*)")
_BLOB: Final = re.compile(r"/v2/(?P<name>.+)/blobs/(?P<digest>[^/]+)")
_MANIFEST: Final = re.compile(r"/v2/(?P<name>.+)/manifests/(?P<reference>[^/]+)")
_LOCATION_BLOB: Final = re.compile(r"/blobs/(?P<digest>[^/?]+:[^/?]+)$")


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


def _base_type(value: str) -> str:
    return value.split(";", 1)[0].strip()


class EventLayer:
    """ASGI middleware: an event for every push, pull, mount and delete that succeeded.

    Args:
        app: the app to wrap (an ``http.prefix`` is stripped from paths here).
        notifier: where events go.
        addr: the server's ``host:port`` (``http.addr``); the source is this machine's
            host name and that port, as in Go.
        host: the external base URL (``http.host``) for targets' URLs; without it the
            request's scheme and ``Host`` are used.
        prefix: the ``http.prefix`` the API is served under.
    """

    def __init__(
        self,
        app: ASGIApp,
        notifier: Notifier,
        *,
        addr: str,
        host: str | None = None,
        prefix: str = "",
    ) -> None:
        self.app = app
        self.notifier = notifier
        self.host = host.rstrip("/") if host else None
        self.prefix = prefix
        port = addr.rpartition(":")[2]
        self.source = EventSource(
            addr=f"{socket.gethostname()}:{port}", instance_id=str(uuid.uuid4())
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in {"GET", "PUT", "POST", "DELETE"}:
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if self.prefix:
            if not path.startswith(self.prefix + "/"):
                await self.app(scope, receive, send)
                return
            path = path[len(self.prefix) :]
        if not path.startswith("/v2/") or path.endswith("/_catalog"):
            await self.app(scope, receive, send)
            return
        status = 0
        response: list[tuple[bytes, bytes]] = []
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
            return message

        async def watching_send(message: Message) -> None:
            nonlocal status, response
            if message["type"] == "http.response.start":
                status = message["status"]
                response = list(message.get("headers", []))
            await send(message)

        await self.app(scope, counting_receive, watching_send)
        if 200 <= status < 400:
            target = self._target(scope, path, status, response, received)
            if target is not None:
                self.notifier.submit(self._event(scope, *target))

    def _target(
        self,
        scope: Scope,
        path: str,
        status: int,
        response: list[tuple[bytes, bytes]],
        received: int,
    ) -> tuple[str, EventTarget] | None:
        method = scope["method"]
        digest = _header(response, b"docker-content-digest")
        if match := _UPLOAD.fullmatch(path):
            name = match["name"]
            if status != 201 or method not in {"PUT", "POST"}:
                return None
            query = urllib.parse.parse_qs(scope.get("query_string", b"").decode("latin-1"))
            located = _LOCATION_BLOB.search(_header(response, b"location"))
            digest = digest or (located["digest"] if located else "")
            if not digest:
                return None
            url = self._url(scope, name, "blobs", digest)
            if method == "POST" and "mount" in query:
                source = query.get("from", [""])[0]
                return "mount", EventTarget(
                    repository=name,
                    media_type=OCTET_STREAM,
                    digest=digest,
                    url=url,
                    from_repository=source,
                )
            return "push", EventTarget(
                repository=name, media_type=OCTET_STREAM, digest=digest, url=url
            )
        if match := _MANIFEST.fullmatch(path):
            name, reference = match["name"], match["reference"]
            tag = "" if ":" in reference else reference
            digest = digest or ("" if tag else reference)
            if method == "DELETE":
                return "delete", EventTarget(repository=name, digest="" if tag else digest, tag=tag)
            if method == "PUT" and status == 201:
                media_type = _base_type(_header(scope.get("headers", []), b"content-type"))
                return "push", EventTarget(
                    repository=name,
                    media_type=media_type,
                    digest=digest,
                    size=received,
                    url=self._url(scope, name, "manifests", digest),
                    tag=tag,
                )
            if method == "GET" and status == 200:
                return "pull", EventTarget(
                    repository=name,
                    media_type=_base_type(_header(response, b"content-type")),
                    digest=digest,
                    size=_length(response),
                    url=self._url(scope, name, "manifests", digest),
                    tag=tag,
                )
            return None
        if match := _BLOB.fullmatch(path):
            name, digest = match["name"], match["digest"]
            if method == "DELETE":
                return "delete", EventTarget(repository=name, digest=digest)
            if method == "GET":
                media_type = _base_type(_header(response, b"content-type")) if status == 200 else ""
                return "pull", EventTarget(
                    repository=name,
                    media_type=media_type or OCTET_STREAM,
                    digest=digest,
                    size=_length(response) if status == 200 else None,
                    url=self._url(scope, name, "blobs", digest),
                )
        return None

    def _url(self, scope: Scope, name: str, kind: str, digest: str) -> str:
        base = self.host
        if base is None:
            host = _header(scope.get("headers", []), b"host") or "localhost"
            base = f"{scope.get('scheme', 'http')}://{host}"
        return f"{base}{self.prefix}/v2/{name}/{kind}/{digest}"

    def _event(self, scope: Scope, action: str, target: EventTarget) -> Event:
        state = scope.get("state") or {}
        headers = scope.get("headers", [])
        client = scope.get("client")
        user = state.get("user")
        return Event(
            id=str(uuid.uuid4()),
            timestamp=datetime.datetime.now(datetime.timezone.utc),
            action=action,
            target=target,
            request=EventRequest(
                id=str(state.get("request_id", "")),
                addr=f"{client[0]}:{client[1]}" if client else "",
                host=_header(headers, b"host"),
                method=scope["method"],
                useragent=_header(headers, b"user-agent"),
            ),
            actor="" if user is None else str(user),
            source=self.source,
        )


def _length(headers: list[tuple[bytes, bytes]]) -> int | None:
    value = _header(headers, b"content-length")
    return int(value) if value.isdigit() else None
