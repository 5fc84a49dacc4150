"""``Link`` headers (RFC 8288) of paginated listings, parsed without I/O.

The tag list and the catalog answer a page at a time; when more follow, the response
carries ``Link: </v2/_catalog?last=x&n=100>; rel="next"``.
[`parse_links()`][pydistribution.client.parse_links] reads
every link of a header value and never raises (the value comes from the network);
[`next_page_url()`][pydistribution.client.next_page_url] resolves the ``next`` link against the URL
of the request.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urljoin

import attrs

from pydistribution.client._challenge import (
    _quoted,
    _skip_space,
    _skip_to_comma,
    _string_map,
    _token,
)

__all__ = ["Link", "format_link", "next_page_url", "parse_links"]


@attrs.frozen
class Link:
    """One link: its target as written (maybe relative) and its parameters (lower-case names)."""

    target: str
    params: Mapping[str, str] = attrs.field(factory=dict, converter=_string_map)

    @property
    def rels(self) -> tuple[str, ...]:
        """The relation types of the link (``rel`` may hold several, space-separated)."""
        return tuple(self.params.get("rel", "").lower().split())


def parse_links(header: str) -> list[Link]:
    """Every link of a ``Link`` header value, in order; unreadable pieces are skipped."""
    text = header if isinstance(header, str) else ""
    links: list[Link] = []
    i = 0
    while i < len(text):
        i = _skip_space(text, i)
        if i >= len(text):
            break
        if text[i] != "<":
            i = _skip_to_comma(text, i) + 1
            continue
        end = text.find(">", i + 1)
        if end < 0:
            break
        target = text[i + 1 : end].strip()
        i = end + 1
        params: dict[str, str] = {}
        while True:
            i = _skip_space(text, i)
            if i >= len(text) or text[i] != ";":
                break
            i = _skip_space(text, i + 1)
            name, i = _token(text, i)
            i = _skip_space(text, i)
            value = ""
            if i < len(text) and text[i] == "=":
                i = _skip_space(text, i + 1)
                if i < len(text) and text[i] == '"':
                    value, i = _quoted(text, i)
                else:
                    value, i = _token(text, i)
            if name:
                params.setdefault(name.lower(), value)
            elif i < len(text) and text[i] not in ";,":
                break
        i = _skip_to_comma(text, i) + 1
        links.append(Link(target, params))
    return links


def format_link(link: Link) -> str:
    """The header text of ``link`` with quoted parameters."""
    params = "".join(
        f'; {name}="{value.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for name, value in link.params.items()
    )
    return f"<{link.target}>{params}"


def next_page_url(headers: Mapping[str, str] | None, request_url: str) -> str | None:
    """The absolute URL of the ``next`` page named by the response's ``Link``, if any."""
    if headers is None:
        return None
    for link in parse_links(headers.get("Link", "") or ""):
        if "next" in link.rels and link.target:
            return urljoin(request_url, link.target)
    return None
