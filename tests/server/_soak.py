"""A soak run: ``pydistribution serve`` under pushes and pulls with scheduled maintenance.

`run_soak` starts ``pydistribution serve config.yml`` (one process, on 127.0.0.1) with
online GC every ``gc_interval`` seconds and a retention policy for ``soak/*`` (keep the
newest two tags and every ``keep-*`` tag), and lets ``clients`` threads push images
(fresh random layers, a ``t<n>`` tag, every third also ``keep-<n>``) and pull them back
for ``seconds``. Each client counts its requests by method, route group and status.
Then it waits out the grace period, applies retention once more through the admin API,
stops the server and returns what it saw; `check_soak` asserts the end state.
Used by ``tests/server/test_soak.py`` (short) and ``benchmarks/bench_soak.py`` (long).
"""

from __future__ import annotations

import collections
import datetime
import hashlib
import http.client
import json
import random
import sys
import threading
import time
from pathlib import Path
from typing import Any

import attrs
import yaml

from pydistribution import mediatypes
from pydistribution.server._metrics import route_of
from pydistribution.storage import Registry, RegistryOptions
from pydistribution.storage.driver.filesystem import FilesystemDriver
from pydistribution.storage.gc import GarbageCollector
from pydistribution.storage.verify import verify
from pydistribution.testing.peers._process import LOOPBACK, free_port
from pydistribution.testing.peers._server import ManagedServer, WorkDir, http_ok

GRACE_SECONDS = 2.0
_RUNS = "pydistribution_maintenance_runs_total"


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class SoakServer(ManagedServer):
    """``pydistribution serve config.yml`` with metrics, admin API and maintenance."""

    def __init__(self, root: Path, gc_interval: float, retention_interval: float) -> None:
        self.debug_port = free_port()
        work = WorkDir(None, "pydistribution-soak-")

        def argv(port: int) -> list[str]:
            document = {
                "version": 0.1,
                "log": {"level": "info", "accesslog": {"disabled": True}},
                "storage": {
                    "filesystem": {"rootdirectory": str(root)},
                    "delete": {"enabled": True},
                    "maintenance": {"uploadpurging": {"enabled": False}},
                },
                "http": {
                    "addr": f"{LOOPBACK}:{port}",
                    "debug": {
                        "addr": f"{LOOPBACK}:{self.debug_port}",
                        "prometheus": {"enabled": True},
                        "admin": {"enabled": True},
                    },
                },
                "maintenance": {
                    "gc": {
                        "interval": f"{gc_interval}s",
                        "grace": f"{GRACE_SECONDS}s",
                        "settle": "200ms",
                    },
                    "retention": {
                        "interval": f"{retention_interval}s",
                        "policies": [
                            {"repositories": "soak/*", "keeplast": 2, "keepmatching": "keep-.*"}
                        ],
                    },
                },
            }
            config = work.path / "config.yml"
            config.write_text(yaml.safe_dump(document))
            return [sys.executable, "-m", "pydistribution.cli", "serve", str(config)]

        self._launch(
            "pydistribution serve",
            work,
            "serve.log",
            argv,
            lambda port: http_ok("GET", "/v2/", port, timeout=2),
            port=None,
            timeout=60,
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def debug(self, method: str, path: str) -> tuple[int, bytes]:
        """A request to the debug listener."""
        conn = http.client.HTTPConnection(LOOPBACK, self.debug_port, timeout=120)
        try:
            conn.request(method, path)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()


@attrs.define
class _Client:
    """One client thread's connection, counts and pushed tags."""

    port: int
    name: str
    rng: random.Random
    counts: collections.Counter[tuple[str, str, int]] = attrs.field(factory=collections.Counter)
    pushed: list[str] = attrs.field(factory=list)
    failures: list[str] = attrs.field(factory=list)

    def request(
        self,
        conn: http.client.HTTPConnection,
        method: str,
        path: str,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        self.counts[(method, route_of(path.partition("?")[0]), response.status)] += 1
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data

    def push(self, conn: http.client.HTTPConnection, number: int) -> None:
        repository = f"soak/{self.name}"
        layers = [self.rng.randbytes(self.rng.randrange(1024, 65536)) for _ in range(2)]
        config = json.dumps({"architecture": "amd64", "os": "linux", "n": number}).encode()
        for blob in (config, *layers):
            status, _, _ = self.request(
                conn, "POST", f"/v2/{repository}/blobs/uploads/?digest={_digest(blob)}", blob
            )
            if status != 201:
                self.failures.append(f"blob push {status}")
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": mediatypes.OCI_IMAGE_MANIFEST,
                "config": {
                    "mediaType": mediatypes.OCI_IMAGE_CONFIG,
                    "digest": _digest(config),
                    "size": len(config),
                },
                "layers": [
                    {
                        "mediaType": mediatypes.OCI_IMAGE_LAYER_GZIP,
                        "digest": _digest(layer),
                        "size": len(layer),
                    }
                    for layer in layers
                ],
            }
        ).encode()
        tags = [f"t{number}"] + ([f"keep-{number}"] if number % 3 == 0 else [])
        for tag in tags:
            status, _, body = self.request(
                conn,
                "PUT",
                f"/v2/{repository}/manifests/{tag}",
                manifest,
                {"Content-Type": str(mediatypes.OCI_IMAGE_MANIFEST)},
            )
            if status != 201:
                self.failures.append(f"manifest push {tag}: {status} {body[:200]!r}")
            self.pushed.append(tag)

    def pull(self, conn: http.client.HTTPConnection) -> None:
        kept = [t for t in self.pushed if t.startswith("keep-")]
        tag = self.rng.choice(kept) if kept and self.rng.random() < 0.5 else self.pushed[-1]
        repository = f"soak/{self.name}"
        accept = {"Accept": str(mediatypes.OCI_IMAGE_MANIFEST)}
        status, _, body = self.request(
            conn, "GET", f"/v2/{repository}/manifests/{tag}", b"", accept
        )
        if status != 200:
            if tag.startswith("keep-"):
                self.failures.append(f"pull of kept {tag}: {status}")
            return
        document = json.loads(body)
        for descriptor in [document["config"], *document["layers"]]:
            status, _, data = self.request(
                conn, "GET", f"/v2/{repository}/blobs/{descriptor['digest']}"
            )
            if tag.startswith("keep-") and (status != 200 or _digest(data) != descriptor["digest"]):
                self.failures.append(f"blob of kept {tag}: {status}")

    def run(self, deadline: float, limit: int) -> None:
        conn = http.client.HTTPConnection(LOOPBACK, self.port, timeout=120)
        number = 0
        try:
            while time.monotonic() < deadline and sum(self.counts.values()) < limit:
                self.push(conn, number)
                number += 1
                for _ in range(2):
                    self.pull(conn)
        except Exception as exc:  # noqa: BLE001 - reported as a failure of the run
            self.failures.append(f"{type(exc).__name__}: {exc}")
        finally:
            conn.close()


@attrs.frozen
class SoakResult:
    """What a soak run saw."""

    seconds: float
    requests: collections.Counter[tuple[str, str, int]]
    failures: list[str]
    metrics: dict[str, float]
    gc_runs: int
    retention_runs: int
    final: dict[str, Any]
    root: Path

    @property
    def rate(self) -> float:
        """Requests per second the clients made."""
        return sum(self.requests.values()) / self.seconds


def _samples(text: str) -> dict[str, float]:
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            values[name] = float(value)
    return values


def run_soak(
    root: Path,
    *,
    clients: int = 3,
    seconds: float = 8.0,
    max_requests: int = 100_000,
    gc_interval: float = 2.0,
    retention_interval: float = 3.0,
) -> SoakResult:
    """Run the soak (see the module text) and return what it saw."""
    with SoakServer(root, gc_interval, retention_interval) as server:
        workers = [_Client(server.port, f"c{i}", random.Random(i)) for i in range(clients)]
        started = time.monotonic()
        deadline = started + seconds
        threads = [
            threading.Thread(target=w.run, args=(deadline, max_requests // clients))
            for w in workers
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        time.sleep(GRACE_SECONDS + 0.5)  # what the last pushes wrote leaves the grace period
        status, body = server.debug("POST", "/admin/retention")
        patience = time.monotonic() + 30
        while status == 409 and time.monotonic() < patience:
            # A scheduled run is going on (on a loaded machine, one after the other):
            # wait for it, then run once more.
            time.sleep(0.5)
            status, body = server.debug("POST", "/admin/retention")
        final = json.loads(body)
        metrics = _samples(server.debug("GET", "/metrics")[1].decode())
    counts: collections.Counter[tuple[str, str, int]] = collections.Counter()
    for worker in workers:
        counts.update(worker.counts)
    return SoakResult(
        seconds=elapsed,
        requests=counts,
        failures=[f for w in workers for f in w.failures],
        metrics=metrics,
        gc_runs=int(metrics.get(f'{_RUNS}{{outcome="ok",task="gc"}}', 0)),
        retention_runs=int(metrics.get(f'{_RUNS}{{outcome="ok",task="retention"}}', 0)),
        final=final,
        root=root,
    )


def check_soak(result: SoakResult) -> None:
    """The end state a soak must leave (assertions)."""
    assert result.failures == []
    assert result.final.get("error") is None, result.final
    assert result.gc_runs >= 1
    for (method, route, status), count in result.requests.items():
        labels = f'method="{method}",route="{route}",status="{status}"'
        key = f"pydistribution_http_requests_total{{{labels}}}"
        assert result.metrics.get(key) == count, (key, result.metrics.get(key), count)
    registry = Registry(FilesystemDriver(result.root), options=RegistryOptions(delete_enabled=True))
    report = verify(registry)
    assert report.ok, report.problems
    for name in registry.repositories():
        tags = registry.repository(name).tags().all()
        plain = sorted((t for t in tags if t.startswith("t")), key=lambda t: int(t[1:]))
        kept = [t for t in tags if t.startswith("keep-")]
        assert len(plain) <= 2, (name, tags)
        assert sorted(tags) == sorted(plain + kept)
        pushed = {f"keep-{n}" for n in range(0, int(plain[-1][1:]) + 1, 3)} if plain else set()
        assert set(kept) == pushed, (name, kept)
    collector = GarbageCollector(registry, delete_untagged=True, grace=datetime.timedelta(0))
    leftover = collector.run(dry_run=True)
    assert (leftover.blobs, leftover.manifests) == ((), ()), leftover.to_json()
