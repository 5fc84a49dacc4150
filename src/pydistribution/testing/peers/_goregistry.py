"""The Go reference registry as a peer: ``docker-registry serve`` and ``garbage-collect``.

[`GoRegistry`][pydistribution.testing.peers.GoRegistry] writes a configuration file for a filesystem
root and serves it on a
free loopback port (its lifecycle comes from the ``ManagedServer`` mixin);
[`garbage_collect()`][pydistribution.testing.peers.garbage_collect] runs the registry's offline
collector on such a configuration.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path

from pydistribution.testing.peers._process import (
    LOOPBACK,
    LOOPBACK_HOSTS,
    peer_environment,
    require_program,
    run_command,
)
from pydistribution.testing.peers._server import ManagedServer, WorkDir, answers_http

__all__ = ["GoRegistry", "garbage_collect"]


class GoRegistry(ManagedServer):
    """The Go reference registry (``docker-registry serve``) on 127.0.0.1 over a directory.

    Starting happens in the constructor: it writes a configuration file (filesystem storage
    at ``root``, ``http.addr`` on a free loopback port, upload purging off, access log off,
    errors to ``registry.log``), starts the registry and waits until ``GET /v2/`` answers.
    Use it as a context manager, or call `stop()`.

    Args:
        root: the filesystem driver's ``rootdirectory`` (created if missing).
        delete_enabled: ``storage.delete.enabled``.
        port: a fixed port; by default a free one (retried if taken meanwhile).
        work_dir: where ``config.yml`` and ``registry.log`` go; by default a temporary
            directory removed by `stop()` (pass one to keep them, e.g. for
            [`garbage_collect()`][pydistribution.testing.peers.garbage_collect] after stopping).
        log_level: the registry's ``log.level`` (``error``, ``warn``, ``info``, ``debug``).
        catalog_max_entries: ``catalog.maxentries`` (the registry's default is 1000).
        blob_descriptor_cache: ``storage.cache.blobdescriptor``: ``"inmemory"``, or a
            ``redis://127.0.0.1:PORT/DB`` URL for the ``redis`` cache; default none.
        auth: the ``auth`` section, e.g. ``{"htpasswd": {"realm": "r", "path": "..."}}``
            or ``{"token": {...}}``; readiness then accepts the ``401`` of ``/v2/``.
        tls: the ``http.tls`` section (``certificate``, ``key``, ``clientcas``); the
            registry then speaks HTTPS only (readiness accepts the ``400`` Go answers to
            plain HTTP) and `url` starts with ``https://``.
        program: the ``docker-registry`` executable; by default found on ``PATH`` with
            [`require_program()`][pydistribution.testing.peers.require_program].
        start_timeout: seconds to wait for the registry to answer.

    Raises:
        PeerError: the registry exited or did not answer in time; the message includes the
            tail of its log.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        delete_enabled: bool = True,
        port: int | None = None,
        work_dir: str | os.PathLike[str] | None = None,
        log_level: str = "warn",
        catalog_max_entries: int | None = None,
        blob_descriptor_cache: str | None = None,
        auth: Mapping[str, object] | None = None,
        tls: Mapping[str, object] | None = None,
        program: str | None = None,
        start_timeout: float = 15.0,
    ) -> None:
        self.program = program or require_program("docker-registry")
        self.root = Path(root).absolute()
        self.root.mkdir(parents=True, exist_ok=True)
        work = WorkDir(work_dir, "pydistribution-go-registry-")
        self.config_path = work.path / "config.yml"
        self.delete_enabled = delete_enabled
        config = functools.partial(
            _registry_config,
            root=self.root,
            delete_enabled=delete_enabled,
            log_level=log_level,
            catalog_max_entries=catalog_max_entries,
            blob_descriptor_cache=blob_descriptor_cache,
            auth=auth,
            tls=tls,
        )
        self.tls = tls is not None
        ready = {200, 401} if auth else {200}
        if tls is not None:
            ready = {400}

        def argv_for(port: int) -> list[str]:
            self.config_path.write_text(config(port))
            return [self.program, "serve", str(self.config_path)]

        self._launch(
            "docker-registry",
            work,
            "registry.log",
            argv_for,
            functools.partial(answers_http, "/v2/", statuses=frozenset(ready)),
            port=port,
            timeout=start_timeout,
        )

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (``https://`` with TLS), the base URL of the API."""
        return f"{'https' if self.tls else 'http'}://{self.host}"

    def __repr__(self) -> str:
        return f"GoRegistry(url={self.url!r}, root={str(self.root)!r})"


def _registry_config(
    port: int,
    *,
    root: Path,
    delete_enabled: bool,
    log_level: str,
    catalog_max_entries: int | None,
    blob_descriptor_cache: str | None,
    auth: Mapping[str, object] | None = None,
    tls: Mapping[str, object] | None = None,
) -> str:
    """The registry's YAML configuration (JSON strings are valid YAML scalars)."""
    q = json.dumps
    lines = [
        "version: 0.1",
        "log:",
        f"  level: {q(log_level)}",
        "  formatter: text",
        "  accesslog:",
        "    disabled: true",
        "storage:",
        "  filesystem:",
        f"    rootdirectory: {q(str(root))}",
        "  delete:",
        f"    enabled: {q(delete_enabled)}",
        "  maintenance:",
        "    uploadpurging:",
        "      enabled: false",
    ]
    redis_lines: list[str] = []
    if blob_descriptor_cache == "inmemory":
        lines += ["  cache:", '    blobdescriptor: "inmemory"']
    elif blob_descriptor_cache is not None:
        host, db = _parse_redis_url(blob_descriptor_cache)
        lines += ["  cache:", '    blobdescriptor: "redis"']
        redis_lines = ["redis:", f"  addr: {q(host)}", f"  db: {db}"]
    lines += [
        "http:",
        f"  addr: {q(f'{LOOPBACK}:{port}')}",
        # A fixed secret: without one the registry logs a warning on every start.
        '  secret: "pydistribution-test-secret"',
        *([f"  tls: {json.dumps(dict(tls))}"] if tls else []),
        *redis_lines,
    ]
    if catalog_max_entries is not None:
        lines += ["catalog:", f"  maxentries: {int(catalog_max_entries)}"]
    if auth:
        # A JSON object is a YAML flow mapping.
        lines.append(f"auth: {json.dumps(dict(auth))}")
    return "\n".join(lines) + "\n"


def _parse_redis_url(url: str) -> tuple[str, int]:
    """``redis://127.0.0.1:6379/2`` -> (``127.0.0.1:6379``, 2); loopback hosts only."""
    match = re.fullmatch(r"redis://([^/:]+):(\d+)(?:/(\d+))?", url)
    if match is None:
        raise ValueError(f"not a redis://HOST:PORT/DB URL: {url!r}")
    host, port, db = match.groups()
    if host not in LOOPBACK_HOSTS:
        raise ValueError(f"peers only talk to {LOOPBACK}, not {host!r}")
    return f"{host}:{port}", int(db or 0)


def garbage_collect(
    config_path: str | os.PathLike[str],
    *,
    dry_run: bool = False,
    delete_untagged: bool = False,
    program: str | None = None,
    timeout: float = 60.0,
) -> str:
    """Run ``docker-registry garbage-collect`` on a configuration and return its output.

    Uses the 2.8 flags ``--dry-run`` and ``--delete-untagged``. The output (stdout and
    stderr together) lists each repository, every manifest and blob it marks, a summary
    line ``N blobs marked, M blobs and K manifests eligible for deletion`` and one
    ``blob eligible for deletion: <digest>`` line per unreferenced blob. Run it only while
    no registry serves the same root (the Go registry's own rule).

    Raises:
        PeerError: the command exited with a non-zero status (its output is in the message;
            note that 2.8 fails on a root that has no ``repositories`` directory yet).
    """
    argv = [program or require_program("docker-registry"), "garbage-collect"]
    if dry_run:
        argv.append("--dry-run")
    if delete_untagged:
        argv.append("--delete-untagged")
    argv.append(str(config_path))
    return run_command(argv, timeout=timeout, env=peer_environment(), merge_stderr=True)
