"""Small HTTP servers on 127.0.0.1 for the client tests: a token server and a fault proxy.

`TokenServer` issues JWTs the Go registry's ``token`` auth accepts (RS256, the signing
certificate in ``x5c``, the certificate as the registry's ``rootcertbundle``), granting
what it is told to and recording every request. `FaultProxy` forwards to a registry and
lets a test answer, cut or rewrite chosen requests. `StaticServer` plays the object
storage a blob download is redirected to. Each runs in a thread of the test process and
is stopped by the fixture that started it.
"""

from __future__ import annotations

import base64
import datetime
import http.client
import http.server
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.pki import issue

LOOPBACK = "127.0.0.1"

# Go 2.8 accepts a token up to 60 s after its exp (clock-skew leeway): a token meant to
# live `ttl` seconds is given exp = now + ttl - GO_LEEWAY.
GO_LEEWAY = 60


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class _Threaded:
    """Runs an HTTP server on a free loopback port in a thread; ``stop`` ends it."""

    def _serve(self, handler: type[http.server.BaseHTTPRequestHandler]) -> None:
        self.httpd = _Server((LOOPBACK, 0), handler)
        self.port = int(self.httpd.server_address[1])
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(5)


@dataclass
class TokenRequest:
    account: str
    scopes: list[str]
    authorized: bool


class TokenServer(_Threaded):
    """A token server for the Go registry's ``token`` auth.

    Args:
        directory: where the certificate bundle is written.
        users: accounts and passwords; a wrong password is answered ``401``.
        anonymous_actions: what a request without credentials is granted.
        ttl: the lifetime the token really has at the registry, in seconds.
        advertised_ttl: the ``expires_in`` told to the client (default ``ttl``); a longer
            one makes the client keep a token the registry already refuses.
    """

    service = "pydistribution-test"
    issuer = "pydistribution-test-issuer"

    def __init__(
        self,
        directory: Path,
        *,
        users: dict[str, str] | None = None,
        anonymous_actions: tuple[str, ...] = ("pull",),
        ttl: int = 300,
        advertised_ttl: int | None = None,
    ) -> None:
        self.users = users if users is not None else {"alice": "wonderland"}
        self.anonymous_actions = anonymous_actions
        self.ttl = ttl
        self.advertised_ttl = advertised_ttl if advertised_ttl is not None else ttl
        self.requests: list[TokenRequest] = []
        self.refresh_tokens: dict[str, str] = {}
        """OAuth2 refresh tokens (docker's identity tokens) and the account of each."""
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._cert = issue("pydistribution test token", key=self._key).certificate
        self.bundle = directory / "token-ca.pem"
        self.bundle.write_bytes(self._cert.public_bytes(serialization.Encoding.PEM))
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                server._answer(self)

            def do_POST(self) -> None:
                server._answer_oauth(self)

        self._serve(Handler)

    @property
    def realm(self) -> str:
        return f"{self.url}/token"

    def registry_auth(self) -> dict[str, object]:
        """The registry's ``auth`` section for this server."""
        return {
            "token": {
                "realm": self.realm,
                "service": self.service,
                "issuer": self.issuer,
                "rootcertbundle": str(self.bundle),
            }
        }

    def _account(self, header: str | None) -> tuple[str, bool] | None:
        """(account, authenticated), or None for wrong credentials."""
        if not header:
            return "", False
        if not header.startswith("Basic "):
            return None
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        if self.users.get(user) != password:
            return None
        return user, True

    def _answer(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        query = parse_qs(urlsplit(handler.path).query)
        scopes = [s for value in query.get("scope", []) for s in value.split(" ") if s]
        who = self._account(handler.headers.get("Authorization"))
        self._grant(handler, who, scopes, "token")

    def _answer_oauth(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        form = parse_qs(handler.rfile.read(length).decode())
        scopes = [s for value in form.get("scope", []) for s in value.split(" ") if s]
        account = None
        if form.get("grant_type") == ["refresh_token"]:
            account = self.refresh_tokens.get(form.get("refresh_token", [""])[0])
        self._grant(handler, None if account is None else (account, True), scopes, "access_token")

    def _grant(
        self,
        handler: http.server.BaseHTTPRequestHandler,
        who: tuple[str, bool] | None,
        scopes: list[str],
        field_name: str,
    ) -> None:
        if who is None:
            self.requests.append(TokenRequest("?", scopes, False))
            handler.send_response(401)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        account, authenticated = who
        self.requests.append(TokenRequest(account, scopes, authenticated))
        access = []
        for scope in scopes:
            kind, name, actions = _split_scope(scope)
            granted = (
                actions if authenticated else [a for a in actions if a in self.anonymous_actions]
            )
            access.append({"type": kind, "name": name, "actions": granted})
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": account,
            "aud": self.service,
            "exp": now + self.ttl - GO_LEEWAY,
            "nbf": now - 10,
            "iat": now,
            "jti": secrets.token_hex(8),
            "access": access,
        }
        der = self._cert.public_bytes(serialization.Encoding.DER)
        token = jwt.encode(
            claims,
            self._key,
            algorithm="RS256",
            headers={"x5c": [base64.b64encode(der).decode()]},
        )
        body = json.dumps(
            {field_name: token, "expires_in": self.advertised_ttl, "issued_at": _now_text()}
        ).encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)


def _split_scope(scope: str) -> tuple[str, str, list[str]]:
    kind, rest = scope.split(":", 1)
    name, _, actions = rest.rpartition(":")
    return kind, name, [a for a in actions.split(",") if a]


def _now_text() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Seen:
    """One request the proxy received."""

    method: str
    path: str
    headers: dict[str, str]


@dataclass
class Reply:
    """What a fault hook answers instead of forwarding (or how it cuts a forwarded body)."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


Hook = Callable[[Seen, int], "Reply | str | dict[str, str] | None"]
"""Called per request with its number (from 1): a `Reply` answers it; ``"cut"`` forwards
it but sends only half the response body and drops the connection; ``"corrupt"`` flips
a byte of the response body; ``"chunked"`` sends the body without ``Content-Length``, in
chunks; a dict forwards it and adds those response headers;
``None`` forwards it."""


class FaultProxy(_Threaded):
    """Forwards every request to ``upstream`` unless ``hook`` says otherwise."""

    def __init__(self, upstream: str, hook: Hook | None = None) -> None:
        self.upstream = urlsplit(upstream)
        self.hook: Hook = hook or (lambda seen, n: None)
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _any(self) -> None:
                proxy._handle(self)

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _any

        self._serve(Handler)

    def _handle(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        seen = Seen(handler.command, handler.path, {k: v for k, v in handler.headers.items()})
        with self._lock:
            self.seen.append(seen)
            number = len(self.seen)
        body = _read_request_body(handler)
        action = self.hook(seen, number)
        if isinstance(action, Reply):
            handler.send_response(action.status)
            for name, value in action.headers.items():
                handler.send_header(name, value)
            handler.send_header("Content-Length", str(len(action.body)))
            handler.end_headers()
            if handler.command != "HEAD":
                handler.wfile.write(action.body)
            return
        conn = http.client.HTTPConnection(
            self.upstream.hostname or "127.0.0.1", self.upstream.port, timeout=30
        )
        headers = {k: v for k, v in handler.headers.items() if k.lower() != "transfer-encoding"}
        headers["Content-Length"] = str(len(body))
        conn.request(handler.command, handler.path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        conn.close()
        if action == "corrupt" and data:
            data = data[:-1] + bytes([data[-1] ^ 0x20])
        handler.send_response(response.status)
        for name, value in response.getheaders():
            if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                handler.send_header(name, value)
        if isinstance(action, dict):
            for name, value in action.items():
                handler.send_header(name, value)
        if action == "chunked" and handler.command != "HEAD":
            handler.send_header("Transfer-Encoding", "chunked")
            handler.end_headers()
            for start in range(0, len(data), 65536):
                piece = data[start : start + 65536]
                handler.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            handler.wfile.write(b"0\r\n\r\n")
            return
        length = response.getheader("Content-Length") if handler.command == "HEAD" else None
        handler.send_header("Content-Length", length or str(len(data)))
        handler.end_headers()
        if handler.command == "HEAD":
            return
        if action == "cut":
            handler.wfile.write(data[: len(data) // 2])
            handler.wfile.flush()
            handler.close_connection = True
            handler.connection.shutdown(2)
            return
        handler.wfile.write(data)


def _read_request_body(handler: http.server.BaseHTTPRequestHandler) -> bytes:
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        parts = []
        while True:
            size = int(handler.rfile.readline().strip().split(b";")[0], 16)
            if size == 0:
                while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                break
            parts.append(handler.rfile.read(size))
            handler.rfile.readline()
        return b"".join(parts)
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length else b""


class StaticServer(_Threaded):
    """Serves fixed bytes at any path and records the headers of every request."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.seen: list[Seen] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                server.seen.append(Seen("GET", self.path, dict(self.headers.items())))
                data = server.body
                status = 200
                extra: dict[str, str] = {}
                wanted = self.headers.get("Range")
                if wanted and wanted.startswith("bytes="):
                    start = int(wanted[6:].split("-")[0])
                    extra["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
                    data, status = data[start:], 206
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._serve(Handler)
