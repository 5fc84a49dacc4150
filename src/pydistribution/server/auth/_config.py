"""The ``auth`` section of a Go ``config.yml``: ``htpasswd`` or ``token``, as Go reads it.

Go 2.8's keys are read unchanged; Go 3's ``jwks``, ``autoredirect``, ``autoredirectpath``
and ``signingalgorithms`` too; ``policy`` (a path to an access policy file) is this
server's own and Go ignores it. ``silly`` (Go's test-only controller) is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Union

import attrs

from pydistribution.errors import ConfigurationError

__all__ = ["AuthConfig", "HtpasswdConfig", "TokenConfig", "parse_auth"]

_HTPASSWD_KEYS: Final = frozenset({"realm", "path", "policy"})
_TOKEN_KEYS: Final = frozenset(
    {
        "realm",
        "service",
        "issuer",
        "rootcertbundle",
        "jwks",
        "autoredirect",
        "autoredirectpath",
        "signingalgorithms",
        "policy",
    }
)


@attrs.frozen(kw_only=True)
class HtpasswdConfig:
    """``auth.htpasswd``: basic auth against a bcrypt htpasswd file.

    Attributes:
        realm: the realm of the ``Basic`` challenge.
        path: the htpasswd file.
        policy: an access policy file; without one every user may do everything.
    """

    realm: str
    path: str
    policy: str | None = None


@attrs.frozen(kw_only=True)
class TokenConfig:
    """``auth.token``: bearer tokens from a token server.

    Attributes:
        realm: the token server's URL, named in the challenge.
        service: the registry's name, the tokens' required audience.
        issuer: the tokens' required ``iss``.
        rootcertbundle: PEM certificates whose keys (or chains to them) sign tokens.
        jwks: a JSON Web Key Set file of signing keys (Go 3).
        autoredirect: the challenge's realm is this server's own URL plus
            ``autoredirectpath`` (Go 3).
        autoredirectpath: the path of the token route under ``autoredirect``.
        signingalgorithms: the JWS algorithms accepted; empty means the asymmetric ones.
        policy: an access policy file, applied on top of what tokens grant.
    """

    realm: str
    service: str
    issuer: str
    rootcertbundle: str | None = None
    jwks: str | None = None
    autoredirect: bool = False
    autoredirectpath: str = "/auth/token"
    signingalgorithms: tuple[str, ...] = ()
    policy: str | None = None


AuthConfig = Union[HtpasswdConfig, TokenConfig]  # noqa: UP007  (a runtime alias on 3.10)
"""What ``auth`` configures: one access controller."""


def _string(section: Mapping[str, object], key: str, where: str, required: bool) -> str | None:
    value = section.get(key)
    if value is None or value == "":
        if required:
            raise ConfigurationError(f"{where}.{key}: required")
        return None
    if not isinstance(value, str):
        raise ConfigurationError(f"{where}.{key}: expected a string, not {value!r}")
    return value


def _section(value: object, where: str) -> Mapping[str, object]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"{where}: expected a mapping")
    return value


def parse_auth(value: object, warnings: list[str]) -> AuthConfig | None:
    """The access controller of an ``auth`` section; unknown keys are added to ``warnings``.

    Raises:
        ConfigurationError: more than one controller, an unknown one, a required key
            missing or a value of the wrong type.
    """
    section = _section(value, "auth")
    if not section:
        return None
    if len(section) > 1:
        raise ConfigurationError(f"auth: one access controller, not {sorted(section)}")
    [(kind, body)] = section.items()
    where = f"auth.{kind}"
    params = _section(body, where)
    if kind == "htpasswd":
        known = _HTPASSWD_KEYS
    elif kind == "token":
        known = _TOKEN_KEYS
    else:
        raise ConfigurationError(f"auth.{kind}: not an access controller this server has")
    warnings.extend(f"{where}.{key}: unknown key, ignored" for key in params if key not in known)
    policy = _string(params, "policy", where, False)
    if kind == "htpasswd":
        return HtpasswdConfig(
            realm=_string(params, "realm", where, True) or "",
            path=_string(params, "path", where, True) or "",
            policy=policy,
        )
    rootcertbundle = _string(params, "rootcertbundle", where, False)
    jwks = _string(params, "jwks", where, False)
    if rootcertbundle is None and jwks is None:
        raise ConfigurationError(f"{where}: rootcertbundle or jwks is required")
    autoredirect = params.get("autoredirect", False)
    if not isinstance(autoredirect, bool):
        raise ConfigurationError(f"{where}.autoredirect: expected true or false")
    algorithms = params.get("signingalgorithms") or []
    if not isinstance(algorithms, list) or not all(isinstance(a, str) for a in algorithms):
        raise ConfigurationError(f"{where}.signingalgorithms: expected a list of names")
    return TokenConfig(
        realm=_string(params, "realm", where, not autoredirect) or "",
        service=_string(params, "service", where, True) or "",
        issuer=_string(params, "issuer", where, True) or "",
        rootcertbundle=rootcertbundle,
        jwks=jwks,
        autoredirect=autoredirect,
        autoredirectpath=_string(params, "autoredirectpath", where, False) or "/auth/token",
        signingalgorithms=tuple(algorithms),
        policy=policy,
    )
