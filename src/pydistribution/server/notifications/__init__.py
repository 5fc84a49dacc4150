"""Registry notifications: webhook events as the Go registry sends them.

The server turns every push, pull, mount and delete that succeeded into an `Event`
(`EventLayer`), and a `Notifier` delivers it in Go's envelope to the endpoints of the
``notifications`` section of ``config.yml`` (`NotificationsConfig`), from bounded
queues in background threads, with Go's retries; requests never wait for delivery.
Listeners (callables) see every event too, which is how pull times are recorded.
"""

from __future__ import annotations

from pydistribution._public import claim_exports
from pydistribution.server.notifications._config import (
    EndpointConfig,
    NotificationsConfig,
    parse_notifications,
)
from pydistribution.server.notifications._delivery import EndpointStats, Notifier
from pydistribution.server.notifications._events import (
    Event,
    EventRequest,
    EventSource,
    EventTarget,
    envelope,
)
from pydistribution.server.notifications._layer import EventLayer

__all__ = [
    "EndpointConfig",
    "EndpointStats",
    "Event",
    "EventLayer",
    "EventRequest",
    "EventSource",
    "EventTarget",
    "NotificationsConfig",
    "Notifier",
    "envelope",
    "parse_notifications",
]

claim_exports(globals())
