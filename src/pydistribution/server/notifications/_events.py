"""Registry events as the Go registry's notifications write them.

An `Event` says that something was pushed, pulled, deleted or mounted: its ``target``
(media type, digest, size, repository, URL, tag), the ``request`` that did it, the
``actor`` (the authenticated user) and the ``source`` (this server). `envelope` puts
events in Go's JSON envelope, ``{"events": [...]}``, with Go's field names; fields
without a value are left out, as Go's ``omitempty`` does.
"""

from __future__ import annotations

import datetime
import json

import attrs

from pydistribution.mediatypes import DOCKER_EVENTS_V1, DOCKER_EVENTS_V2, MediaType
from pydistribution.server.notifications._config import Envelope

__all__ = ["Event", "EventRequest", "EventSource", "EventTarget", "envelope", "envelope_type"]


@attrs.frozen(kw_only=True)
class EventTarget:
    """What an event is about.

    Attributes:
        repository: the repository name.
        media_type: the manifest's or blob's media type ("" when unknown, as for deletes).
        digest: its digest ("" for a tag deleted by name).
        size: its size in bytes, or ``None`` when unknown.
        url: where it can be fetched ("" for deletes).
        tag: the tag the request named, if it named one.
        from_repository: for a mount, the repository the blob came from.
    """

    repository: str
    media_type: str = ""
    digest: str = ""
    size: int | None = None
    url: str = ""
    tag: str = ""
    from_repository: str = ""

    def to_json(self, envelope: Envelope) -> dict[str, object]:
        """Go's target object; v1 repeats the size as ``length``, as Go 2.8 does."""
        fields: dict[str, object] = {
            "mediaType": self.media_type,
            "digest": self.digest,
            "size": self.size,
            "length": self.size if envelope == "v1" else None,
            "repository": self.repository,
            "fromRepository": self.from_repository,
            "url": self.url,
            "tag": self.tag,
        }
        return {key: value for key, value in fields.items() if value not in ("", None)}


@attrs.frozen(kw_only=True)
class EventRequest:
    """The request that caused an event (Go: ``request``)."""

    id: str
    addr: str
    host: str
    method: str
    useragent: str


@attrs.frozen(kw_only=True)
class EventSource:
    """The server that saw the event (Go: ``source``): ``hostname:port`` and an instance id."""

    addr: str
    instance_id: str


@attrs.frozen(kw_only=True)
class Event:
    """One registry event.

    Attributes:
        id: a unique id.
        timestamp: when the request completed (UTC).
        action: ``push``, ``pull``, ``delete`` or ``mount``.
        target: what was acted on.
        request: the request that did it.
        actor: the authenticated user's name ("" when anonymous).
        source: this server.
    """

    id: str
    timestamp: datetime.datetime
    action: str
    target: EventTarget
    request: EventRequest
    actor: str
    source: EventSource

    def to_json(self, envelope: Envelope = "v2") -> dict[str, object]:
        """The event as Go writes it in an envelope."""
        actor = {"name": self.actor} if self.actor else {}
        return {
            "id": self.id,
            "timestamp": self.timestamp.isoformat().replace("+00:00", "Z"),
            "action": self.action,
            "target": self.target.to_json(envelope),
            "request": attrs.asdict(self.request),
            "actor": actor,
            "source": {"addr": self.source.addr, "instanceID": self.source.instance_id},
        }


def envelope_type(envelope: Envelope) -> MediaType:
    """The ``Content-Type`` of an envelope of that version."""
    return DOCKER_EVENTS_V1 if envelope == "v1" else DOCKER_EVENTS_V2


def envelope(events: list[Event], version: Envelope) -> bytes:
    """The JSON body of a post: ``{"events": [...]}``."""
    return json.dumps({"events": [e.to_json(version) for e in events]}).encode()
