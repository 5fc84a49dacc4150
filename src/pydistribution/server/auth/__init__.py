"""Who may do what: authentication and access control for the server (Go: ``auth``).

The Go registry's two access controllers, configured by the same ``auth`` section of
``config.yml``: ``htpasswd`` (basic auth against bcrypt hashes, `htpasswd`) and ``token``
(bearer JWTs from a token server, `token`), plus an access policy per repository pattern
(`policy`) applied the same way to both, and a small token issuer (`issuer`) for those
without a token server. `authenticated_app` puts an app behind the configured controller;
`configured_app` does so when the config has an ``auth`` section.
"""

from __future__ import annotations

from pydistribution.server.auth._access import (
    ACTIONS,
    ADMIN,
    CATALOG,
    Access,
    Grants,
    format_scope,
    parse_scope,
    required_access,
)
from pydistribution.server.auth._config import AuthConfig, HtpasswdConfig, TokenConfig, parse_auth
from pydistribution.server.auth._header import (
    BasicCredentials,
    BearerToken,
    basic_challenge,
    bearer_challenge,
    parse_authorization,
)
from pydistribution.server.auth._layer import (
    AuthLayer,
    HtpasswdController,
    TokenController,
    authenticated_app,
)
from pydistribution.server.auth.htpasswd import Htpasswd, hash_password
from pydistribution.server.auth.policy import ANONYMOUS, AccessPolicy
from pydistribution.server.auth.token import TokenVerifier, VerifiedToken

__all__ = [
    "ACTIONS",
    "ADMIN",
    "ANONYMOUS",
    "CATALOG",
    "Access",
    "AccessPolicy",
    "AuthConfig",
    "AuthLayer",
    "BasicCredentials",
    "BearerToken",
    "Grants",
    "Htpasswd",
    "HtpasswdConfig",
    "HtpasswdController",
    "TokenConfig",
    "TokenController",
    "TokenVerifier",
    "VerifiedToken",
    "authenticated_app",
    "basic_challenge",
    "bearer_challenge",
    "format_scope",
    "hash_password",
    "parse_auth",
    "parse_authorization",
    "parse_scope",
    "required_access",
]

# Users import these from here: the private modules they live in say so too.
for _name in __all__:
    _obj = globals()[_name]
    if callable(_obj) and getattr(_obj, "__module__", "").startswith(f"{__name__}._"):
        _obj.__module__ = __name__
del _name, _obj
