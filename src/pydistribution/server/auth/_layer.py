"""The ASGI layer that lets a request through, or answers 401 / 403 with a challenge.

For each request of the API the layer works out what it needs (`required_access`), reads
the ``Authorization`` header and asks the access controller. A request without
credentials passes when the policy lets anonymous users do all it needs; otherwise the
answer is Go's: 401 ``UNAUTHORIZED`` with the needed records in ``detail`` and a
``WWW-Authenticate`` challenge (``Basic realm=...``, or ``Bearer`` naming the exact
scope, with ``error="invalid_token"`` or ``"insufficient_scope"`` when a token was sent).
An htpasswd user the policy refuses gets 403 ``DENIED``. The admin API, when the app
serves it (``admin_prefix``), needs `ADMIN` (``registry:admin:*``), which only a policy's
``admin`` section grants to htpasswd users. Only cheap work runs on the event loop: a
bcrypt check that is not cached runs in a worker thread.
"""

from __future__ import annotations

from collections.abc import Sequence

import anyio.to_thread
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from pydistribution.errcode import ErrorCode
from pydistribution.errors import UnauthorizedError
from pydistribution.server._context import app_path
from pydistribution.server._errors import error_response
from pydistribution.server.auth._access import ADMIN, Access, format_scope, required_access
from pydistribution.server.auth._config import AuthConfig, HtpasswdConfig
from pydistribution.server.auth._header import (
    BasicCredentials,
    BearerToken,
    basic_challenge,
    bearer_challenge,
    parse_authorization,
)
from pydistribution.server.auth.htpasswd import Htpasswd
from pydistribution.server.auth.policy import ANONYMOUS, AccessPolicy
from pydistribution.server.auth.token import TokenVerifier

__all__ = ["AuthLayer", "HtpasswdController", "TokenController", "authenticated_app"]


def _detail(records: Sequence[Access]) -> object:
    return [record.to_json() for record in records] if records else None


def _unauthorized(records: Sequence[Access], challenge: str) -> Response:
    return error_response(
        ErrorCode.UNAUTHORIZED, detail=_detail(records), headers={"WWW-Authenticate": challenge}
    )


class HtpasswdController:
    """Basic auth against an htpasswd file, with an optional access policy."""

    def __init__(self, htpasswd: Htpasswd, realm: str, policy: AccessPolicy | None) -> None:
        self.htpasswd = htpasswd
        self.realm = realm
        self.policy = policy
        self._challenge = basic_challenge(realm)

    async def check(
        self, scope: Scope, credentials: object, records: Sequence[Access]
    ) -> Response | str:
        """The user name to let through, or the answer refusing the request."""
        if not isinstance(credentials, BasicCredentials) or credentials.anonymous:
            return _unauthorized(records, self._challenge)
        name, password = credentials.username, credentials.password
        ok = self.htpasswd.cached(name, password)
        if ok is None:
            ok = await anyio.to_thread.run_sync(self.htpasswd.verify, name, password)
        if not ok:
            return _unauthorized(records, self._challenge)
        policy = self.policy
        # Without a policy any user may do anything (Go's rule) but use the admin API.
        denied = ADMIN in records if policy is None else not policy.allows_all(name, records)
        if denied:
            return error_response(ErrorCode.DENIED, detail=_detail(records))
        return name


class TokenController:
    """Bearer tokens verified against trusted keys, with an optional access policy."""

    def __init__(
        self,
        verifier: TokenVerifier,
        *,
        realm: str,
        service: str,
        policy: AccessPolicy | None,
        autoredirect_path: str | None = None,
    ) -> None:
        self.verifier = verifier
        self.realm = realm
        self.service = service
        self.policy = policy
        self.autoredirect_path = autoredirect_path

    def _realm(self, scope: Scope) -> str:
        if self.autoredirect_path is None:
            return self.realm
        host = Headers(scope=scope).get("host", "")
        return f"{scope.get('scheme', 'http')}://{host}{self.autoredirect_path}"

    def challenge(self, scope: Scope, records: Sequence[Access], error: str = "") -> Response:
        """401 with the ``Bearer`` challenge naming the scope ``records`` need."""
        header = bearer_challenge(self._realm(scope), self.service, format_scope(records), error)
        return _unauthorized(records, header)

    async def check(
        self, scope: Scope, credentials: object, records: Sequence[Access]
    ) -> Response | str:
        """The token's subject to let through, or the answer refusing the request."""
        if not isinstance(credentials, BearerToken):
            return self.challenge(scope, records)
        try:
            verified = self.verifier.verify(credentials.token)
        except UnauthorizedError:
            return self.challenge(scope, records, "invalid_token")
        allowed = verified.grants.allows_all(records) and (
            self.policy is None or self.policy.allows_all(verified.subject, records)
        )
        if not allowed:
            return self.challenge(scope, records, "insufficient_scope")
        return verified.subject


Controller = HtpasswdController | TokenController


class AuthLayer:
    """Lets API requests through to ``app`` only as the access controller allows.

    Paths outside the API (health checks, unknown routes) pass untouched. With
    ``admin_prefix``, the paths below it are the admin API and need `ADMIN`. The user
    name let through is put in the ASGI scope's ``state`` as ``user`` for logs.
    """

    def __init__(
        self, app: ASGIApp, controller: Controller, *, admin_prefix: str | None = None
    ) -> None:
        self.app = app
        self.controller = controller
        self.policy = controller.policy
        self.admin_prefix = admin_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = app_path(scope)
        query = scope.get("query_string", b"").decode("latin-1")
        records = required_access(scope["method"], path, query)
        admin = self.admin_prefix
        if (
            records is None
            and admin is not None
            and (path == admin or path.startswith(admin + "/"))
        ):
            records = (ADMIN,)
        if records is None:
            await self.app(scope, receive, send)
            return
        header = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                header = value.decode("latin-1")
                break
        try:
            credentials: object = parse_authorization(header)
        except UnauthorizedError:
            credentials = "malformed"
        anonymous = credentials is None or (
            isinstance(credentials, BasicCredentials) and credentials.anonymous
        )
        policy = self.policy
        if anonymous and records and policy is not None and policy.allows_all(ANONYMOUS, records):
            await self.app(scope, receive, send)
            return
        outcome = await self.controller.check(scope, credentials, records)
        if isinstance(outcome, Response):
            await outcome(scope, receive, send)
            return
        scope.setdefault("state", {})["user"] = outcome
        await self.app(scope, receive, send)


def authenticated_app(
    app: ASGIApp, config: AuthConfig, *, admin_prefix: str | None = None
) -> AuthLayer:
    """``app`` behind the access controller ``config`` describes (files are read now).

    ``admin_prefix`` is where ``app`` serves the admin API, whose paths need `ADMIN`.

    Raises:
        ConfigurationError: the htpasswd, certificate, JWKS or policy file cannot be used.
    """
    policy = AccessPolicy.load(config.policy) if config.policy else None
    if isinstance(config, HtpasswdConfig):
        controller: Controller = HtpasswdController(Htpasswd(config.path), config.realm, policy)
        return AuthLayer(app, controller, admin_prefix=admin_prefix)
    verifier = TokenVerifier.from_files(
        issuer=config.issuer,
        service=config.service,
        rootcertbundle=config.rootcertbundle,
        jwks=config.jwks,
        algorithms=config.signingalgorithms,
    )
    controller = TokenController(
        verifier,
        realm=config.realm,
        service=config.service,
        policy=policy,
        autoredirect_path=config.autoredirectpath if config.autoredirect else None,
    )
    return AuthLayer(app, controller, admin_prefix=admin_prefix)
