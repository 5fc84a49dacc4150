"""The one place the client touches the network: a urllib3 pool, retries, redirects, auth.

Every request of the client goes through `Transport.request()`. It adds the
``Authorization`` the registry asked for (through the `Authenticator`), answers a ``401``
challenge once and replays the request, follows redirects itself so that the registry's
``Authorization`` never goes to another host (blob downloads are often redirected to
object storage), and retries connection errors, ``408``, ``429`` and ``5xx`` with
exponential backoff and jitter, honouring ``Retry-After``, within a total time budget.
A request that may have changed state on the server (``POST``, ``PATCH``) is retried
only when the server refused it before acting (``429``, ``503``) or the connection
failed before anything was sent; its caller checks the state otherwise.

Streaming upload bodies, whose bytes arrive through ``BlobWriter.write`` calls, use
`Transport.open_stream()`: one connection of the standard library sending a chunked
request body as it is written.
"""

from __future__ import annotations

import http.client
import ipaddress
import random
import ssl
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Final
from urllib.parse import urljoin, urlsplit

import attrs

try:
    import urllib3
    from urllib3.exceptions import (
        ConnectTimeoutError,
        HTTPError,
        NewConnectionError,
        SSLError,
    )
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ImportError(
        "the registry client needs urllib3 2: pip install 'pydistribution[client]'"
    ) from exc

from pydistribution.client._auth import Authenticator
from pydistribution.client._challenge import Scope
from pydistribution.client._protocol import MAX_ERROR_BODY, retry_after, same_origin
from pydistribution.client.credentials import Credentials
from pydistribution.errors import AccessDeniedError, DistributionError

__all__ = ["Response", "RetryPolicy", "TLSOptions", "Transport", "UploadStream", "is_loopback"]

_REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})
_RETRY_STATUSES: Final = frozenset({408, 429, 500, 502, 503, 504})
_NOT_APPLIED: Final = frozenset({429, 503})
"""Statuses after which even a non-idempotent request was certainly not applied."""
_MAX_REDIRECTS: Final = 5
_API_VERSION_HEADER: Final = "Docker-Distribution-Api-Version"


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """How failed requests are retried.

    Attributes:
        attempts: the most tries of one request (1 disables retries).
        initial_delay: the first wait, in seconds; each later one doubles it.
        max_delay: the longest single wait (a longer ``Retry-After`` is still honoured
            while it fits the budget).
        budget: seconds of waiting allowed for one request in total; a resumed download
            counts its resumptions against it too.
    """

    attempts: int = attrs.field(default=5, validator=attrs.validators.ge(1))
    initial_delay: float = attrs.field(default=0.5, validator=attrs.validators.ge(0))
    max_delay: float = attrs.field(default=10.0, validator=attrs.validators.ge(0))
    budget: float = attrs.field(default=60.0, validator=attrs.validators.ge(0))

    def delay(self, attempt: int, rng: Callable[[], float] = random.random) -> float:
        """The wait before try ``attempt + 1`` (``attempt`` counts from 1): full jitter."""
        ceiling = min(self.max_delay, self.initial_delay * (2 ** (attempt - 1)))
        return float(ceiling * (0.5 + rng() / 2))


@attrs.frozen(kw_only=True)
class TLSOptions:
    """TLS settings of one registry.

    Attributes:
        ca_bundle: a PEM file of CA certificates to trust instead of the system's.
        client_cert: a PEM client certificate (with its key, or see ``client_key``).
        client_key: the client certificate's key, when in a separate file.
        verify: check the server's certificate; turn off only for a registry you
            trust on a network you trust.
    """

    ca_bundle: str | None = None
    client_cert: str | None = None
    client_key: str | None = None
    verify: bool = True

    def context(self) -> ssl.SSLContext:
        """The SSL context these options describe."""
        context = ssl.create_default_context(cafile=self.ca_bundle)
        if not self.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if self.client_cert:
            context.load_cert_chain(self.client_cert, self.client_key)
        return context


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine (``localhost``, ``127.0.0.0/8``, ``::1``)."""
    name = host.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@attrs.define
class Response:
    """A response whose body is still on the wire (read it, or ``close`` it).

    Attributes:
        status: the HTTP status.
        headers: the response headers (case-insensitive).
        url: the URL that answered (after redirects).
    """

    status: int
    headers: Mapping[str, str]
    url: str
    _raw: urllib3.BaseHTTPResponse | http.client.HTTPResponse

    def read(self, amount: int | None = None) -> bytes:
        """Up to ``amount`` bytes of the body (all of it for ``None``)."""
        return self._raw.read(amount)

    def readinto(self, buffer: memoryview) -> int:
        """Read into ``buffer``; 0 at the end of the body."""
        return self._raw.readinto(buffer)

    def body(self, limit: int) -> bytes:
        """The whole body, refusing more than ``limit`` bytes, then release the connection.

        Raises:
            DistributionError: the body is longer than ``limit``.
        """
        try:
            data = self._raw.read(limit + 1)
        finally:
            self.close()
        if len(data) > limit:
            raise DistributionError(f"the registry's answer is longer than {limit} bytes")
        return data

    def error_body(self) -> bytes:
        """The start of an error body (enough to decode it); the rest is discarded."""
        try:
            return self._raw.read(MAX_ERROR_BODY)
        except (HTTPError, OSError, http.client.HTTPException):
            return b""
        finally:
            self.close()

    def close(self) -> None:
        """Release the connection: kept for reuse when little or nothing is left unread."""
        raw = self._raw
        if isinstance(raw, urllib3.BaseHTTPResponse):
            remaining = raw.length_remaining
            if remaining is not None and remaining <= MAX_ERROR_BODY:
                try:
                    raw.drain_conn()
                except (HTTPError, OSError):
                    raw.close()
            else:
                raw.close()
            raw.release_conn()
        else:
            raw.close()


class UploadStream:
    """A request whose body is sent as it is written (chunked transfer encoding)."""

    def __init__(self, connection: http.client.HTTPConnection, url: str) -> None:
        self._connection = connection
        self._url = url
        self._finished = False

    def send(self, data: bytes | memoryview) -> None:
        """Send ``data`` as one chunk of the body.

        Raises:
            OSError: the connection broke (the server may have answered already).
        """
        if len(data) == 0:
            return
        self._connection.send(b"%x\r\n" % len(data))
        self._connection.send(data)
        self._connection.send(b"\r\n")

    def finish(self) -> Response:
        """End the body and read the response (its body is read and kept).

        Raises:
            OSError, http.client.HTTPException: the connection broke.
        """
        self._finished = True
        self._connection.send(b"0\r\n\r\n")
        raw = self._connection.getresponse()
        return Response(raw.status, _Headers(raw.getheaders()), self._url, raw)

    def abort(self) -> None:
        """Drop the connection without finishing the body."""
        self._connection.close()


class _Headers(dict[str, str]):
    """Case-insensitive read access to the headers of a standard-library response."""

    def __init__(self, items: Sequence[tuple[str, str]]) -> None:
        super().__init__((k.lower(), v) for k, v in items)

    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        return super().get(key.lower(), default)

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())


class Transport:
    """HTTP for one registry: pooled connections, authentication, redirects, retries.

    Args:
        base_url: ``https://host[:port]`` (or ``http://`` for a loopback registry, or
            when ``plain_http`` allows it).
        credentials: returns the credentials to present (explicit ones, or those of
            the docker configuration); called when the registry first asks.
        tls: certificate options.
        retry: the retry policy.
        timeout: seconds to connect, and to wait for each read.
        max_connections: connections kept per host.
        user_agent: the ``User-Agent`` header.
        sleep: waits between retries (tests pass a recorder).
    """

    def __init__(
        self,
        base_url: str,
        *,
        credentials: Callable[[], Credentials | None],
        tls: TLSOptions,
        retry: RetryPolicy,
        timeout: float = 60.0,
        max_connections: int = 10,
        user_agent: str = "pydistribution",
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.retry = retry
        self.timeout = timeout
        self._user_agent = user_agent
        self.sleep = sleep
        self._clock = clock
        self._tls = tls
        self._ssl: ssl.SSLContext | None = None
        self._pool = urllib3.PoolManager(
            num_pools=8,
            maxsize=max_connections,
            block=False,
            retries=False,
            timeout=urllib3.Timeout(connect=timeout, read=timeout),
        )
        if urlsplit(self.base_url).scheme == "https":
            self._ssl_context()
        self.auth = Authenticator(credentials, self._fetch_token, clock=clock)

    def close(self) -> None:
        """Close every pooled connection."""
        self._pool.clear()

    def _ssl_context(self) -> ssl.SSLContext:
        """The TLS context, made at the first ``https`` request (loading CAs takes time a
        plain-HTTP registry on loopback need not pay)."""
        if self._ssl is None:
            self._ssl = self._tls.context()
            self._pool.connection_pool_kw["ssl_context"] = self._ssl
        return self._ssl

    # -- requests ---------------------------------------------------------------------

    def request(
        self,
        method: str,
        url: str,
        *,
        scopes: Sequence[Scope],
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        idempotent: bool | None = None,
        follow_redirects: bool = True,
    ) -> Response:
        """Send a request and return the response, its body unread.

        ``idempotent`` defaults by method (``GET``, ``HEAD``, ``PUT``, ``DELETE`` are).
        Error statuses are returned, not raised (the caller decodes them), except after
        the retry budget is spent on retryable ones, when the last response is returned.

        Raises:
            DistributionError: the registry could not be reached within the retry budget.
            AccessDeniedError: the token server refused the credentials.
        """
        if idempotent is None:
            idempotent = method in ("GET", "HEAD", "PUT", "DELETE", "OPTIONS")
        attempt = 0
        waited = 0.0
        auth_rounds = 0
        while True:
            attempt += 1
            try:
                response, sent = self._send_following(
                    method, url, scopes, headers or {}, body, follow_redirects
                )
            except SSLError as exc:
                raise DistributionError(f"TLS with {_host(url)} failed: {exc}") from exc
            except DistributionError:
                # AccessDeniedError is also a PermissionError (an OSError): not a network fault.
                raise
            except (HTTPError, OSError, http.client.HTTPException) as exc:
                before_send = isinstance(exc, (NewConnectionError, ConnectTimeoutError))
                delay = self.retry.delay(attempt)
                if (
                    (idempotent or before_send)
                    and attempt < self.retry.attempts
                    and waited + delay <= self.retry.budget
                ):
                    self.sleep(delay)
                    waited += delay
                    continue
                raise DistributionError(
                    f"{method} {_host(url)}: the registry could not be reached: {exc}"
                ) from exc
            if response.status == 401 and auth_rounds < 2:
                header = response.headers.get("WWW-Authenticate") or ""
                auth_rounds += 1
                if self.auth.challenged(header, sent, scopes):
                    response.close()
                    attempt -= 1
                    continue
                return response
            if response.status in _RETRY_STATUSES and (
                idempotent or response.status in _NOT_APPLIED
            ):
                hinted = retry_after(response.headers.get("Retry-After"))
                delay = hinted if hinted is not None else self.retry.delay(attempt)
                if attempt < self.retry.attempts and waited + delay <= self.retry.budget:
                    response.close()
                    self.sleep(delay)
                    waited += delay
                    continue
            return response

    def _send_following(
        self,
        method: str,
        url: str,
        scopes: Sequence[Scope],
        headers: Mapping[str, str],
        body: bytes | None,
        follow: bool,
    ) -> tuple[Response, str | None]:
        """Send, following redirects; return the response and the registry auth sent."""
        current_method, current_url, current_body = method, url, body
        sent_auth: str | None = None
        for _ in range(_MAX_REDIRECTS + 1):
            sent = dict(headers)
            sent.setdefault("User-Agent", self._user_agent)
            # The registry's credentials go to the registry only, never to the storage
            # a download is redirected to.
            if same_origin(current_url, self.base_url):
                authorization = self.auth.authorization(scopes)
                if authorization is not None:
                    sent["Authorization"] = authorization
                    sent_auth = authorization
            else:
                sent.pop("Authorization", None)
            if current_body is not None:
                sent.setdefault("Content-Length", str(len(current_body)))
            if self._ssl is None and current_url.startswith("https:"):
                self._ssl_context()
            raw = self._pool.urlopen(
                current_method,
                current_url,
                body=current_body,
                headers=sent,
                redirect=False,
                retries=False,
                preload_content=False,
                decode_content=False,
                assert_same_host=False,
            )
            response = Response(raw.status, raw.headers, current_url, raw)
            if not follow or response.status not in _REDIRECTS:
                return response, sent_auth
            location = response.headers.get("Location")
            if not location:
                return response, sent_auth
            response.close()
            current_url = urljoin(current_url, location)
            if response.status == 303 or (
                response.status in (301, 302) and current_method not in ("GET", "HEAD")
            ):
                current_method, current_body = "GET", None
        raise DistributionError(f"{method} {_host(url)}: more than {_MAX_REDIRECTS} redirects")

    def _fetch_token(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None
    ) -> tuple[int, bytes]:
        sent = dict(headers)
        sent.setdefault("User-Agent", self._user_agent)
        if self._ssl is None and url.startswith("https:"):
            self._ssl_context()
        attempt = 0
        while True:
            attempt += 1
            try:
                raw = self._pool.urlopen(
                    method,
                    url,
                    body=body,
                    headers=sent,
                    redirect=True,
                    retries=False,
                    preload_content=False,
                    assert_same_host=False,
                )
                try:
                    data = raw.read(1024 * 1024 + 1)
                finally:
                    raw.release_conn()
            except (HTTPError, OSError) as exc:
                if attempt < self.retry.attempts:
                    self.sleep(self.retry.delay(attempt))
                    continue
                raise AccessDeniedError(f"the token server could not be reached: {exc}") from exc
            if raw.status in _RETRY_STATUSES and attempt < self.retry.attempts:
                self.sleep(retry_after(raw.headers.get("Retry-After")) or self.retry.delay(attempt))
                continue
            return raw.status, data

    # -- streamed request bodies --------------------------------------------------------

    def open_stream(
        self, method: str, url: str, *, scopes: Sequence[Scope], headers: Mapping[str, str]
    ) -> UploadStream:
        """Start a request whose body is sent piece by piece with `UploadStream.send()`.

        Authorization is the one the registry asked for last (the caller makes a small
        request first, so the challenge is known). No redirect is followed.

        Raises:
            DistributionError: the connection could not be made.
        """
        parts = urlsplit(url)
        host = parts.hostname or ""
        connection: http.client.HTTPConnection
        if parts.scheme == "https":
            connection = http.client.HTTPSConnection(
                host,
                parts.port,
                timeout=self.timeout,
                context=self._ssl_context(),
            )
        else:
            connection = http.client.HTTPConnection(host, parts.port, timeout=self.timeout)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        try:
            connection.putrequest(method, target, skip_accept_encoding=True)
            sent = {"User-Agent": self._user_agent, "Transfer-Encoding": "chunked", **headers}
            authorization = self.auth.authorization(scopes)
            if authorization is not None:
                sent["Authorization"] = authorization
            for name, value in sent.items():
                connection.putheader(name, value)
            connection.endheaders()
        except OSError as exc:
            connection.close()
            raise DistributionError(f"{method} {_host(url)}: could not connect: {exc}") from exc
        return UploadStream(connection, url)


def _host(url: str) -> str:
    return urlsplit(url).netloc or url


def iter_body(response: Response, chunk_size: int) -> Iterator[bytes]:
    """The body of ``response`` in pieces of at most ``chunk_size`` bytes."""
    while chunk := response.read(chunk_size):
        yield chunk
