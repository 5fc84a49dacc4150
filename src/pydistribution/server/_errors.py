"""Error answers: the spec's JSON body, with codes and statuses from ``errcode``.

Every error the app sends goes through `error_response`. A handler wrapped by
`endpoint` turns a ``DistributionError`` into its wire code, a client that went
away into a quiet log line, and anything unexpected into ``UNKNOWN`` (500) with a
request id that is also in the log, never a traceback.
"""

from __future__ import annotations

import functools
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Final

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from pydistribution import errors
from pydistribution.errcode import ErrorCode, error_code_for
from pydistribution.mediatypes import APPLICATION_JSON

__all__ = [
    "Handler",
    "endpoint",
    "error_response",
    "http_exception_handler",
    "response_for",
]

logger: Final = logging.getLogger("pydistribution.server")

Handler = Callable[[Request], Awaitable[Response]]

# The attributes of error classes that a client reads back from ``detail`` (see
# ``errcode.error_from_wire``), under their wire names.
_DETAIL_FIELDS: Final = (("digest", "digest"), ("name", "name"), ("tag", "tag"))
_DETAIL_RENAMED: Final = (("upload_id", "uuid"),)

# HTTP statuses that differ from the code's own: the spec answers an oversized manifest
# with 413 (Payload Too Large) while its code stays MANIFEST_INVALID.
_STATUS_OVERRIDES: Final[Mapping[type[errors.DistributionError], int]] = {
    errors.ManifestTooLargeError: 413,
}


def error_response(
    code: ErrorCode,
    message: str = "",
    detail: object = None,
    *,
    status: int | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The spec's error answer: ``{"errors": [{"code", "message", "detail"}]}``.

    ``status`` defaults to the code's own HTTP status.
    """
    body = {"errors": [{"code": code.value, "message": message or code.message, "detail": detail}]}
    return Response(
        json.dumps(body).encode(),
        status_code=status or code.http_status,
        headers=dict(headers or {}),
        media_type=APPLICATION_JSON,
    )


def _detail(exc: errors.DistributionError) -> dict[str, str]:
    detail: dict[str, str] = {}
    for attribute, key in _DETAIL_FIELDS + _DETAIL_RENAMED:
        value = getattr(exc, attribute, None)
        if value:
            detail[key] = str(value)
    if isinstance(exc, errors.ManifestVerificationError):
        for cause in exc.causes:
            value = getattr(cause, "digest", None)
            if value and "digest" not in detail:
                detail["digest"] = str(value)
    return detail


def response_for(exc: errors.DistributionError) -> Response:
    """The error answer for ``exc``, with the code ``errcode`` maps it to."""
    code = error_code_for(exc)
    status = next(
        (s for cls, s in _STATUS_OVERRIDES.items() if isinstance(exc, cls)), code.http_status
    )
    return error_response(code, str(exc), _detail(exc) or None, status=status)


def endpoint(handler: Handler) -> Handler:
    """Wrap ``handler`` so that every failure becomes a spec error answer."""

    @functools.wraps(handler)
    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except errors.DistributionError as exc:
            if error_code_for(exc) is ErrorCode.UNKNOWN:
                return _unexpected(request, exc)
            return response_for(exc)
        except ClientDisconnect:
            logger.info("client went away during %s %s", request.method, request.url.path)
            return error_response(ErrorCode.BLOB_UPLOAD_INVALID, "client disconnected", status=400)
        except Exception as exc:  # noqa: BLE001 - the one place that answers UNKNOWN
            return _unexpected(request, exc)

    return wrapped


def _unexpected(request: Request, exc: Exception) -> Response:
    # The request log's id when the app runs under it, so both lines name one request.
    request_id = str(request.scope.get("state", {}).get("request_id") or uuid.uuid4().hex)
    logger.error(
        "request %s: %s %s failed",
        request_id,
        request.method,
        request.url.path,
        exc_info=exc,
    )
    return error_response(ErrorCode.UNKNOWN, detail={"request_id": request_id})


async def http_exception_handler(request: Request, exc: Exception) -> Response:
    """Routing failures (no such route, method not allowed) as spec error bodies."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    headers = dict(exc.headers or {}) if isinstance(exc, HTTPException) else {}
    if status == 405:
        return error_response(ErrorCode.UNSUPPORTED, "method not allowed", headers=headers)
    # No route: the request names nothing this registry serves. UNSUPPORTED is the code
    # closest in meaning; the status stays 404 so clients treat it as absent.
    return error_response(ErrorCode.UNSUPPORTED, "no such route", status=status, headers=headers)
