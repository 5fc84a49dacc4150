"""The wire rules of the OCI distribution API, without I/O.

Everything here works on strings, bytes and header mappings, so it is tested without a
server: URLs of the API's endpoints, the ``Accept`` list of manifest requests, upload
``Range`` and ``Location`` handling and upload ids, ``Retry-After``, and the decoding of
error bodies through the one wire table (`pydistribution.errcode`) into the exception
classes every backend raises.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Final
from urllib.parse import quote, urlencode, urljoin, urlsplit

from pydistribution import errors
from pydistribution.digest import Digest
from pydistribution.errcode import ErrorCode, error_from_wire
from pydistribution.errors import BlobUploadUnknownError, DistributionError

__all__ = [
    "MAX_ERROR_BODY",
    "accept_header",
    "api_url",
    "check_upload_id",
    "decode_error",
    "error_codes",
    "parse_content_range",
    "parse_upload_range",
    "retry_after",
    "same_origin",
    "split_upload_location",
    "upload_url",
]

MAX_ERROR_BODY: Final = 64 * 1024
"""How much of an error response is read to decode it."""

_UPLOAD_UUID: Final = re.compile(r"[A-Za-z0-9_.~-]+")
_UPLOAD_QUERY: Final = re.compile(r"[A-Za-z0-9_.~%=&+-]*")
_RANGE: Final = re.compile(r"\s*(?:bytes[ =])?\s*(\d+)-(\d+)\s*")
_CONTENT_RANGE: Final = re.compile(r"\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*")


def api_url(
    base: str, path: str, query: Mapping[str, str | int | Iterable[str]] | None = None
) -> str:
    """``base`` + ``/v2/`` + ``path`` (already quoted where needed) + a query string."""
    url = f"{base.rstrip('/')}/v2/{path}"
    if query:
        pairs: list[tuple[str, str]] = []
        for key, value in query.items():
            if isinstance(value, (str, int)):
                pairs.append((key, str(value)))
            else:
                pairs.extend((key, item) for item in value)
        url += "?" + urlencode(pairs)
    return url


def quote_name(name: str) -> str:
    """A repository name as a URL path (its slashes stay separators)."""
    return quote(name, safe="/")


def accept_header(media_types: Iterable[str]) -> str:
    """An ``Accept`` value listing ``media_types`` in order, each once."""
    seen: list[str] = []
    for media_type in media_types:
        if media_type not in seen:
            seen.append(media_type)
    return ", ".join(seen)


def check_upload_id(upload_id: object) -> str:
    """Validate an upload id given to ``resume`` (``UUID`` or ``UUID?_state=...``).

    Raises:
        BlobUploadUnknownError: the id cannot name an upload (wrong type, a path, dots).
    """
    if not isinstance(upload_id, str):
        raise BlobUploadUnknownError(repr(upload_id))
    uuid, _, query = upload_id.partition("?")
    if (
        uuid in {".", ".."}
        or not _UPLOAD_UUID.fullmatch(uuid)
        or not _UPLOAD_QUERY.fullmatch(query)
    ):
        raise BlobUploadUnknownError(upload_id)
    return upload_id


def upload_url(base: str, name: str, upload_id: str) -> str:
    """The URL of upload ``upload_id`` (as returned by `split_upload_location()`)."""
    return api_url(base, f"{quote_name(name)}/blobs/uploads/{check_upload_id(upload_id)}")


def split_upload_location(request_url: str, location: str) -> tuple[str, str]:
    """Resolve an upload ``Location`` and derive the upload id from it.

    Returns the absolute URL and the id: the last path segment, with the query when
    there is one (the Go registry keeps its signed upload state in ``_state``, and a
    later request without it is refused, so the id carries it).

    Raises:
        BlobUploadInvalidError: the location is empty.
    """
    if not location:
        raise errors.BlobUploadInvalidError("the registry sent no upload location")
    url = urljoin(request_url, location)
    parts = urlsplit(url)
    uuid = parts.path.rstrip("/").rsplit("/", 1)[-1]
    return url, f"{uuid}?{parts.query}" if parts.query else uuid


def same_origin(first: str, second: str) -> bool:
    """Whether two absolute URLs have the same scheme, host and port."""
    a, b = urlsplit(first), urlsplit(second)
    return (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port)


def parse_upload_range(value: str | None) -> int:
    """Bytes an upload holds, from its ``Range: 0-N`` header (``N + 1``).

    ``0-0`` is read as empty: the Go registry sends it for an empty upload and for one
    of a single byte alike. A missing or malformed header reads as empty.
    """
    match = _RANGE.fullmatch(value or "")
    if match is None:
        return 0
    start, end = int(match.group(1)), int(match.group(2))
    if start != 0 or end == 0:
        return 0
    return end + 1


def parse_content_range(value: str | None) -> tuple[int, int, int | None] | None:
    """``bytes START-END/TOTAL`` as ``(start, end, total)`` (``None`` total for ``*``)."""
    match = _CONTENT_RANGE.fullmatch(value or "")
    if match is None:
        return None
    start, end, total = match.groups()
    return int(start), int(end), None if total == "*" else int(total)


def retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (seconds or an HTTP date), or ``None``."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    current = now or datetime.now(timezone.utc)
    return max(0.0, (when - current).total_seconds())


def error_codes(body: bytes) -> list[tuple[str, str, object]]:
    """The ``(code, message, detail)`` of each error in an OCI error body."""
    try:
        document = json.loads(body[:MAX_ERROR_BODY])
    except (ValueError, UnicodeDecodeError):
        return []
    found: list[tuple[str, str, object]] = []
    items = document.get("errors") if isinstance(document, dict) else None
    if isinstance(items, list):
        for item in items:
            if isinstance(item, dict) and isinstance(item.get("code"), str):
                message = item.get("message")
                found.append(
                    (item["code"], message if isinstance(message, str) else "", item.get("detail"))
                )
    return found


_NOT_FOUND_CODES: Final = frozenset(
    {ErrorCode.BLOB_UNKNOWN.value, ErrorCode.MANIFEST_UNKNOWN.value}
)


def decode_error(
    status: int,
    body: bytes,
    *,
    name: str = "",
    not_found: Callable[[], DistributionError] | None = None,
) -> DistributionError:
    """The exception for an error response, as local storage would raise it.

    The first wire error of the body decides, through `pydistribution.errcode`. Where the
    request named what was missing (a blob by digest, a manifest by digest, a tag),
    ``not_found`` builds the precise error for a ``404`` whose code is ``BLOB_UNKNOWN``,
    ``MANIFEST_UNKNOWN`` or absent. Without a readable body the HTTP status decides.
    """
    codes = error_codes(body)
    code = codes[0][0] if codes else None
    if not_found is not None and status == 404 and (code is None or code in _NOT_FOUND_CODES):
        return not_found()
    if codes:
        wire, message, detail = codes[0]
        return _typed(error_from_wire(wire, message, detail, name=name))
    if status == 401:
        return errors.AccessDeniedError("authentication required")
    if status == 403:
        return errors.AccessDeniedError("requested access to the resource is denied")
    if status == 405:
        return errors.UnsupportedError("the registry does not support this operation")
    if status == 404:
        return errors.NotFoundError(f"not found: {name}" if name else "not found")
    return DistributionError(f"the registry answered HTTP {status}")


def _typed(error: DistributionError) -> DistributionError:
    """Give digests read from the wire their type, as local storage raises them."""
    if isinstance(error, errors.ManifestVerificationError):
        causes = [_typed(c) if isinstance(c, DistributionError) else c for c in error.causes]
        return errors.ManifestVerificationError(causes)
    if isinstance(error, (errors.BlobUnknownError, errors.ManifestBlobUnknownError)):
        digest = parse_digest_header(error.digest) if isinstance(error.digest, str) else None
        if digest is not None:
            return type(error)(digest)
    return error


def parse_digest_header(value: str | None) -> Digest | None:
    """A ``Docker-Content-Digest`` header as a digest; ``None`` when missing or malformed."""
    if not value:
        return None
    try:
        return Digest.parse(value.strip())
    except (errors.InvalidError, errors.UnsupportedError):
        return None
