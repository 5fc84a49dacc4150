"""What every repository of one proxy shares: fetches in flight, the tag cache, expiry."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Final

from pydistribution.descriptor import Descriptor
from pydistribution.proxy._expiry import ExpirySchedule
from pydistribution.proxy._fetch import Fetches

__all__ = ["ProxyContext", "logger"]

logger: Final = logging.getLogger("pydistribution.proxy")


class ProxyContext:
    """The state shared by the repositories of one `ProxyNamespace`.

    Args:
        tag_ttl: seconds an upstream's answer for a tag is reused without asking again.
        expiry: the schedule fetched content is entered in, if any.
        clock: monotonic seconds, for tests.
    """

    def __init__(
        self,
        *,
        tag_ttl: float,
        expiry: ExpirySchedule | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.fetches = Fetches()
        self.tag_ttl = tag_ttl
        self.expiry = expiry
        self._clock = clock
        self._lock = threading.Lock()
        self._tags: dict[tuple[str, str], tuple[float, Descriptor]] = {}

    def cached_tag(self, repository: str, tag: str) -> Descriptor | None:
        """The upstream's recent answer for ``tag``, if it is fresh."""
        with self._lock:
            found = self._tags.get((repository, tag))
            if found is None:
                return None
            if self._clock() >= found[0]:
                del self._tags[(repository, tag)]
                return None
            return found[1]

    def remember_tag(self, repository: str, tag: str, descriptor: Descriptor) -> None:
        """Keep the upstream's answer for ``tag`` for ``tag_ttl`` seconds."""
        if self.tag_ttl <= 0:
            return
        with self._lock:
            if len(self._tags) > 10_000:
                now = self._clock()
                self._tags = {k: v for k, v in self._tags.items() if v[0] > now}
            self._tags[(repository, tag)] = (self._clock() + self.tag_ttl, descriptor)
