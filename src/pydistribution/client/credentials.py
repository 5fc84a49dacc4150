"""Registry credentials where docker, podman and skopeo keep them.

The docker configuration file (``$DOCKER_CONFIG/config.json``, else
``~/.docker/config.json``) and the containers auth file (``$REGISTRY_AUTH_FILE``, else
``$XDG_RUNTIME_DIR/containers/auth.json``) share one format::

    {"auths": {"registry.example.com": {"auth": "<base64 user:password>",
                                        "identitytoken": "<OAuth2 refresh token>"}},
     "credsStore": "desktop",
     "credHelpers": {"ghcr.io": "gh"}}

A ``credHelpers`` entry for the registry wins over ``credsStore``, which wins over
``auths``; helpers are the ``docker-credential-NAME`` programs, spoken to on their
standard input and output.
[`find_credentials()`][pydistribution.client.credentials.find_credentials] searches the files in the
order
skopeo does (the auth file first); [`DockerConfig`][pydistribution.client.credentials.DockerConfig]
reads and writes one file
(``login`` and ``logout`` use it). Writes are atomic and keep every other field of the
file.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

import attrs

from pydistribution.errors import AccessDeniedError, ConfigurationError

__all__ = [
    "Credentials",
    "DockerConfig",
    "basic_authorization",
    "config_paths",
    "docker_config_path",
    "find_credentials",
    "registry_key",
]

_DOCKER_HUB_KEY: Final = "https://index.docker.io/v1/"
_DOCKER_HUB_HOSTS: Final = frozenset(
    {"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}
)
_HELPER_TIMEOUT: Final = 60.0


@attrs.frozen(kw_only=True)
class Credentials:
    """What a client presents to a registry or its token server.

    Attributes:
        username: the account (with ``password`` for basic auth and token requests).
        password: its password or personal access token.
        identity_token: an OAuth2 refresh token (docker's ``identitytoken``), exchanged
            at the token server for access tokens.
        registry_token: a bearer token sent to the registry as it is.
    """

    username: str = ""
    password: str = attrs.field(default="", repr=False)
    identity_token: str = attrs.field(default="", repr=False)
    registry_token: str = attrs.field(default="", repr=False)

    def __bool__(self) -> bool:
        return bool(self.username or self.password or self.identity_token or self.registry_token)


def registry_key(registry: str) -> str:
    """The host (and port) a registry's credentials are filed under.

    ``https://registry.example.com:5000/v2/`` and ``registry.example.com:5000`` give
    ``registry.example.com:5000``; Docker Hub's names give docker's historical key
    ``https://index.docker.io/v1/``.
    """
    text = registry.strip()
    host = urlsplit(text).netloc if "://" in text else text.split("/", 1)[0]
    host = host.lower()
    if host in _DOCKER_HUB_HOSTS:
        return _DOCKER_HUB_KEY
    return host


def docker_config_path(environ: Mapping[str, str] | None = None) -> Path:
    """docker's configuration file: ``$DOCKER_CONFIG/config.json``, else
    ``~/.docker/config.json``."""
    env = os.environ if environ is None else environ
    if env.get("DOCKER_CONFIG"):
        return Path(env["DOCKER_CONFIG"], "config.json")
    return Path.home() / ".docker" / "config.json"


def config_paths(environ: Mapping[str, str] | None = None) -> list[Path]:
    """The credential files searched, first match wins: auth file, then docker config."""
    env = os.environ if environ is None else environ
    paths: list[Path] = []
    if env.get("REGISTRY_AUTH_FILE"):
        paths.append(Path(env["REGISTRY_AUTH_FILE"]))
    elif env.get("XDG_RUNTIME_DIR"):
        paths.append(Path(env["XDG_RUNTIME_DIR"], "containers", "auth.json"))
    paths.append(docker_config_path(env))
    return paths


def find_credentials(registry: str, *, paths: Sequence[Path] | None = None) -> Credentials | None:
    """The credentials stored for ``registry`` in the first file that has some.

    Raises:
        ConfigurationError: a file is not valid JSON, or a helper program failed.
    """
    for path in config_paths() if paths is None else paths:
        found = DockerConfig.load(path).lookup(registry)
        if found:
            return found
    return None


def _run_helper(helper: str, action: str, payload: bytes) -> bytes:
    program = f"docker-credential-{helper}"
    try:
        result = subprocess.run(
            [program, action],
            input=payload,
            capture_output=True,
            timeout=_HELPER_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ConfigurationError(f"credential helper {program} failed: {exc}") from exc
    if result.returncode != 0:
        said = (result.stdout or result.stderr).decode(errors="replace").strip()
        if "credentials not found" in said.lower():
            return b""
        raise ConfigurationError(f"credential helper {program} {action} failed: {said}")
    return result.stdout


def _decode_auth(entry: Mapping[str, object]) -> Credentials | None:
    username = entry.get("username") if isinstance(entry.get("username"), str) else ""
    password = entry.get("password") if isinstance(entry.get("password"), str) else ""
    auth = entry.get("auth")
    if isinstance(auth, str) and auth:
        try:
            text = base64.b64decode(auth, validate=False).decode("utf-8")
        except (ValueError, UnicodeDecodeError) as exc:
            raise ConfigurationError(f"an auths entry is not base64 user:password: {exc}") from exc
        username, _, password = text.partition(":")
    token = entry.get("identitytoken")
    registry_token = entry.get("registrytoken")
    found = Credentials(
        username=str(username or ""),
        password=str(password or ""),
        identity_token=token if isinstance(token, str) else "",
        registry_token=registry_token if isinstance(registry_token, str) else "",
    )
    return found or None


@attrs.define
class DockerConfig:
    """One docker-format credentials file, read whole and written back atomically.

    Every field pydistribution does not use is kept as it was.
    """

    path: Path
    document: dict[str, object] = attrs.Factory(dict)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> DockerConfig:
        """Read ``path``; a missing file reads as empty.

        Raises:
            ConfigurationError: the file is not a JSON object.
        """
        target = Path(path)
        try:
            text = target.read_text("utf-8")
        except FileNotFoundError:
            return cls(target)
        try:
            document = json.loads(text) if text.strip() else {}
        except ValueError as exc:
            raise ConfigurationError(f"{target}: not JSON: {exc}") from exc
        if not isinstance(document, dict):
            raise ConfigurationError(f"{target}: not a JSON object")
        return cls(target, document)

    def _auths(self) -> dict[str, object]:
        auths = self.document.get("auths")
        if not isinstance(auths, dict):
            auths = {}
            self.document["auths"] = auths
        return auths

    def helper_for(self, registry: str) -> str | None:
        """The credential helper used for ``registry`` (``credHelpers``, then ``credsStore``)."""
        key = registry_key(registry)
        helpers = self.document.get("credHelpers")
        if isinstance(helpers, dict):
            for name, helper in helpers.items():
                if isinstance(helper, str) and registry_key(name) == key and helper:
                    return helper
        store = self.document.get("credsStore")
        return store if isinstance(store, str) and store else None

    def lookup(self, registry: str) -> Credentials | None:
        """The credentials for ``registry``, or ``None``.

        Raises:
            ConfigurationError: the helper program failed or answered nonsense.
        """
        key = registry_key(registry)
        helper = self.helper_for(registry)
        if helper is not None:
            out = _run_helper(helper, "get", key.encode())
            if out.strip():
                try:
                    answer = json.loads(out)
                except ValueError as exc:
                    raise ConfigurationError(f"credential helper {helper}: not JSON") from exc
                if isinstance(answer, dict):
                    user, secret = answer.get("Username"), answer.get("Secret")
                    if isinstance(user, str) and isinstance(secret, str):
                        # docker's convention: the user "<token>" marks an identity token
                        if user == "<token>":
                            return Credentials(identity_token=secret)
                        return Credentials(username=user, password=secret)
        for name, entry in self._auths().items():
            if registry_key(name) == key and isinstance(entry, dict):
                return _decode_auth(entry)
        return None

    def store(self, registry: str, credentials: Credentials) -> None:
        """File ``credentials`` for ``registry`` (in its helper when one is configured).

        Raises:
            ConfigurationError: the helper program failed.
        """
        key = registry_key(registry)
        helper = self.helper_for(registry)
        if helper is not None:
            user = "<token>" if credentials.identity_token else credentials.username
            secret = credentials.identity_token or credentials.password
            payload = json.dumps({"ServerURL": key, "Username": user, "Secret": secret})
            _run_helper(helper, "store", payload.encode())
            # docker leaves an empty entry behind so listings show the registry
            self._auths()[key] = {}
        else:
            entry: dict[str, str] = {}
            if credentials.username or credentials.password:
                pair = f"{credentials.username}:{credentials.password}".encode()
                entry["auth"] = base64.b64encode(pair).decode("ascii")
            if credentials.identity_token:
                entry["identitytoken"] = credentials.identity_token
            self._auths()[key] = entry
        self.save()

    def erase(self, registry: str) -> bool:
        """Remove what is filed for ``registry``; whether anything was there.

        Raises:
            ConfigurationError: the helper program failed.
        """
        key = registry_key(registry)
        helper = self.helper_for(registry)
        removed = False
        if helper is not None:
            _run_helper(helper, "erase", key.encode())
            removed = True
        auths = self._auths()
        for name in [n for n in auths if registry_key(n) == key]:
            del auths[name]
            removed = True
        if removed:
            self.save()
        return removed

    def save(self) -> None:
        """Write the file atomically, readable by its owner only."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, temp = tempfile.mkstemp(prefix=".config-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(self.document, out, indent="\t")
                out.write("\n")
            os.chmod(temp, 0o600)
            os.replace(temp, self.path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise


def basic_authorization(credentials: Credentials) -> str:
    """The ``Authorization`` value of basic auth with ``credentials``.

    Raises:
        AccessDeniedError: the credentials have no user name or password.
    """
    if not (credentials.username or credentials.password):
        raise AccessDeniedError("basic authentication needs a user name and password")
    pair = f"{credentials.username}:{credentials.password}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")
