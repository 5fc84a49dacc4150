"""``pydistribution serve`` against the Go registry, on copies of one root, in one run.

Run by hand, not a test (needs ``pip install -e '.[server,test]'``, and ``docker-registry``
and ``wrk`` on PATH, the Debian packages)::

    python benchmarks/bench_server.py                          # granian and uvicorn
    python benchmarks/bench_server.py --servers granian --duration 5 --blob-size 256MiB

A seed root gets a Docker schema 2 image tagged ``v1`` in ``bench/app`` and a blob of
``--blob-size`` (1 GiB); each server serves its own copy of it: ``docker-registry``
(one process, ``GOMAXPROCS`` = the machine's cores) and ``pydistribution serve
--workers 2`` under each ASGI server asked for. Both log warnings only, without an
access log, and have deletes on and no descriptor cache. Ours runs with ``fsync: true``
(its default, each file and its directory flushed) because Go's filesystem driver
(2.8.2, seen with ``strace``) fsyncs every file it writes, twice, though never a
directory; ``--no-fsync`` runs ours without, which is less durable than Go.
``bench_manifest_put.py`` compares the manifest PUT both ways.

* **requests** (``wrk``, or for HEAD, which wrk cannot do, a small uvloop client in
  ``--threads`` processes; ``--threads`` threads, ``--connections`` connections,
  ``--duration`` seconds each): manifest GET and HEAD by tag and by digest, blob HEAD,
  tag list, manifest PUT by tag (a new tag per request). Requests/s and p99 latency;
  any non-2xx answer is counted and reported.
* **push**: a ``--blob-size`` blob uploaded monolithically (POST, then PUT with the body)
  and in chunks (POST, PATCHes of ``--chunk-size`` with ``Content-Range``, PUT), each a
  blob new to the server, over one keep-alive connection as docker and skopeo push;
  bodies go out with ``socket.sendfile``, so the client costs little. Throughput from
  the POST to the 201, the best of ``--push-rounds`` (3) pushes of each kind.
* **blob GET**: the seed's big blob, read once to warm the page cache, then timed
  (the best of ``--push-rounds``).
* **RSS**: the server's processes are sampled every 20 ms; the peak of the largest
  process, of the whole tree's RSS (shared pages counted in each process) and of its
  PSS (each page counted once), over the requests, the pushes and the GET.
* **auth** (``--auth``, instead of the above): manifest HEAD on our server without auth,
  with ``auth.token`` (one bearer token from our issuer, sent with every request) and
  with ``auth.htpasswd`` (basic credentials with every request); the goal is a rate with
  tokens of at least 0.8x the rate without auth.

Ratios are ours / Go's (for p99, Go's / ours: above 1 means ours is lower). The issue's
goals are printed beside each ratio; timing goals live here, never in the tests.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import multiprocessing
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

from pydistribution.descriptor import Descriptor
from pydistribution.digest import Digest
from pydistribution.mediatypes import DOCKER_MANIFEST_SCHEMA2, OCI_IMAGE_MANIFEST, OCTET_STREAM
from pydistribution.reference import Reference
from pydistribution.storage.config import open_registry
from pydistribution.testing.namespace_suite import push_image
from pydistribution.testing.peers import GoRegistry
from pydistribution.testing.peers._process import LOOPBACK, require_program
from pydistribution.testing.peers._server import ManagedServer, WorkDir, answers_http

REPO = "bench/app"
MIB = 1 << 20
ACCEPT = f"{DOCKER_MANIFEST_SCHEMA2}, {OCI_IMAGE_MANIFEST}"
_SIZE = re.compile(r"(\d+)\s*([KMG]iB)?", re.IGNORECASE)
_UNITS = {
    None: 1,
    "kib": 1 << 10,
    "kb": 1 << 10,
    "mib": MIB,
    "mb": MIB,
    "gib": 1 << 30,
    "gb": 1 << 30,
}
_LATENCY = re.compile(r"^\s*99%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_RATE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_ERRORS = re.compile(r"Socket errors:.*")
_SECONDS = {"us": 1e-6, "ms": 1e-3, "s": 1.0}


def parse_size(text: str) -> int:
    match = _SIZE.fullmatch(text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(f"not a size: {text!r}")
    return int(match[1]) * _UNITS[match[2].lower() if match[2] else None]


class Serve(ManagedServer):
    """``pydistribution serve CONFIG --workers N --server NAME`` on a free port."""

    def __init__(
        self,
        root: Path,
        server: str,
        workers: int,
        fsync: bool,
        auth: dict[str, object] | None = None,
    ) -> None:
        self.root = root
        work = WorkDir(None, f"bench-serve-{server}-")

        def argv(port: int) -> list[str]:
            config = work.path / "config.yml"
            config.write_text(
                json.dumps(
                    {
                        "version": 0.1,
                        "log": {"level": "warn", "accesslog": {"disabled": True}},
                        "storage": {
                            "filesystem": {"rootdirectory": str(root), "fsync": fsync},
                            "delete": {"enabled": True},
                            "maintenance": {"uploadpurging": {"enabled": False}},
                        },
                        "http": {"addr": f"{LOOPBACK}:{port}"},
                        **({"auth": auth} if auth else {}),
                    }
                )
            )
            return [
                sys.executable,
                "-m",
                "pydistribution.cli",
                "serve",
                str(config),
                "--workers",
                str(workers),
                "--server",
                server,
            ]

        self._launch(
            f"pydistribution serve ({server})",
            work,
            "serve.log",
            argv,
            lambda port: answers_http("/v2/", port, statuses=frozenset({200, 401})),
            port=None,
            timeout=60,
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server and its worker processes.

        granian's workers leave when their main process tells them; a main process
        killed after the timeout (a loaded machine) would leave them serving, orphaned.
        """
        family = _tree(self.pid) if self.running else []
        super().stop(timeout)
        for pid in family[1:]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


# -- the seed root ---------------------------------------------------------------------


def write_blob_file(path: Path, size: int, seed: bytes) -> Digest:
    """``size`` bytes, different for each ``seed``, written to ``path``; their digest."""
    import hashlib

    block = hashlib.sha256(seed).digest() * (MIB // 32)
    digest = hashlib.sha256()
    with path.open("wb") as out:
        written = 0
        counter = 0
        while written < size:
            piece = (counter.to_bytes(8, "big") + block)[: min(MIB, size - written)]
            out.write(piece)
            digest.update(piece)
            written += len(piece)
            counter += 1
    return Digest.parse("sha256:" + digest.hexdigest())


def seed_root(root: Path, big: Path) -> dict[str, object]:
    """The image, and the big blob through an upload session; what the scenarios need."""
    registry = open_registry(str(root))
    repo = registry.repository(Reference(path=REPO))
    manifest = push_image(repo, [b"a small layer " * 100], tag="v1", docker=True)
    digest = _file_digest(big)
    size = big.stat().st_size
    with big.open("rb") as source, repo.blobs().create() as writer:
        while piece := source.read(8 * MIB):
            writer.write(piece)
        writer.commit(Descriptor(media_type=OCTET_STREAM, digest=digest, size=size))
    layer = manifest.references()[-1]
    return {
        "manifest": manifest.payload(),
        "manifest_digest": str(manifest.describe().digest),
        "layer_digest": str(layer.digest),
        "big_digest": str(digest),
        "big_size": size,
    }


def _file_digest(path: Path) -> Digest:
    import hashlib

    digest = hashlib.sha256()
    with path.open("rb") as source:
        while piece := source.read(8 * MIB):
            digest.update(piece)
    return Digest.parse("sha256:" + digest.hexdigest())


# -- wrk -------------------------------------------------------------------------------


def wrk(
    url: str, args: argparse.Namespace, work: Path, *, method: str = "GET", script: str = ""
) -> dict[str, float]:
    """Requests/s, p99 (seconds) and the count of non-2xx answers of one wrk run."""
    lua = work / "script.lua"
    accept = f"{DOCKER_MANIFEST_SCHEMA2}, {OCI_IMAGE_MANIFEST}"
    lua.write_text(f'wrk.method = "{method}"\nwrk.headers["Accept"] = "{accept}"\n' + script)
    out = subprocess.run(
        [
            "wrk",
            "--latency",
            "-t",
            str(args.threads),
            "-c",
            str(args.connections),
            "-d",
            f"{args.duration}s",
            "-s",
            str(lua),
            url,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    rate = _RATE.search(out)
    p99 = _LATENCY.search(out)
    if rate is None or p99 is None:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    bad = _NON_2XX.search(out)
    errors = _ERRORS.search(out)
    return {
        "rps": float(rate[1]),
        "p99": float(p99[1]) * _SECONDS[p99[2]],
        "non_2xx": float(bad[1]) if bad else 0.0,
        "socket_errors": 1.0 if errors else 0.0,
    }


class _HeadConnection(asyncio.Protocol):
    """Keep-alive HEAD requests, one at a time; an answer ends at its blank line."""

    def __init__(self, request: bytes, stop_at: float, latencies: list[float]) -> None:
        self.request = request
        self.stop_at = stop_at
        self.latencies = latencies
        self.buffer = b""
        self.bad = 0
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.sent = time.perf_counter()
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head, self.buffer = self.buffer[:end], self.buffer[end + 4 :]
            now = time.perf_counter()
            self.latencies.append(now - self.sent)
            if not head.startswith(b"HTTP/1.1 200"):
                self.bad += 1
            if now >= self.stop_at:
                self.transport.close()
                return
            self.sent = now
            self.transport.write(self.request)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(None)


def _head_worker(
    port: int, path: str, connections: int, seconds: float, out: Any, extra: str = ""
) -> None:
    import uvloop

    async def run() -> tuple[list[float], int]:
        loop = asyncio.get_running_loop()
        latencies: list[float] = []
        request = (
            f"HEAD {path} HTTP/1.1\r\nHost: {LOOPBACK}:{port}\r\nAccept: {ACCEPT}\r\n{extra}\r\n"
        ).encode()
        stop_at = time.perf_counter() + seconds
        protocols = []
        for _ in range(connections):
            _, protocol = await loop.create_connection(
                lambda: _HeadConnection(request, stop_at, latencies), LOOPBACK, port
            )
            protocols.append(protocol)
        await asyncio.gather(*(p.done for p in protocols))
        return latencies, sum(p.bad for p in protocols)

    out.put(uvloop.run(run()))


def head_load(
    port: int, path: str, args: argparse.Namespace, headers: dict[str, str] | None = None
) -> dict[str, float]:
    """wrk's numbers for HEAD, which wrk cannot send (it waits for a body that never comes).

    ``--threads`` processes, ``--connections`` keep-alive connections in all, for
    ``--duration`` seconds.
    """
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    per_process = max(1, args.connections // args.threads)
    extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
    processes = [
        context.Process(
            target=_head_worker,
            args=(port, path, per_process, float(args.duration), queue, extra),
        )
        for _ in range(args.threads)
    ]
    for process in processes:
        process.start()
    results = [queue.get() for _ in processes]
    for process in processes:
        process.join()
    latencies = sorted(value for found, _ in results for value in found)
    bad = sum(count for _, count in results)
    return {
        "rps": len(latencies) / args.duration,
        "p99": latencies[int(len(latencies) * 0.99)] if latencies else 0.0,
        "non_2xx": float(bad),
        "socket_errors": 0.0,
    }


PUT_SCRIPT = """
local f = io.open("{body}", "rb")
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "{media_type}"
local count = 0
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
function request()
  count = count + 1
  return wrk.format(nil, "/v2/{repo}/manifests/t" .. id .. "-" .. count)
end
"""


# -- pushes and the big GET -------------------------------------------------------------


def _request(
    port: int | socket.socket,
    method: str,
    path: str,
    headers: dict[str, str],
    body: tuple[Path, int, int] | None,
) -> http.client.HTTPResponse:
    """One request on a fresh connection to ``port``, or on the open connection given;
    a body goes out with ``socket.sendfile``."""
    fresh = not isinstance(port, socket.socket)
    sock = socket.create_connection((LOOPBACK, port)) if fresh else port
    port = sock.getpeername()[1]
    length = body[2] if body else 0
    head = [f"{method} {path} HTTP/1.1", f"Host: {LOOPBACK}:{port}", f"Content-Length: {length}"]
    head += [f"{k}: {v}" for k, v in headers.items()]
    sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
    if body:
        path_, offset, count = body
        with path_.open("rb") as source:
            sock.sendfile(source, offset, count)
    response = http.client.HTTPResponse(sock, method=method)
    response.begin()
    response.read()
    if fresh:
        sock.close()
    return response


def _location(response: http.client.HTTPResponse) -> str:
    """The path and query of ``Location`` (Go's are absolute URLs, ours relative)."""
    parts = urllib.parse.urlsplit(response.getheader("Location") or "")
    return parts.path + (f"?{parts.query}" if parts.query else "")


def push(port: int, source: Path, digest: Digest, chunk: int | None) -> float:
    """Seconds to push ``source`` (monolithic, or in ``chunk``-byte PATCHes).

    Every request of the push goes over one keep-alive connection, as docker, containerd
    and skopeo send them (so with several server processes, one process serves them all).
    """
    size = source.stat().st_size
    started = time.perf_counter()
    with socket.create_connection((LOOPBACK, port)) as connection:
        return _push(connection, source, size, digest, chunk, started)


def _push(
    connection: socket.socket,
    source: Path,
    size: int,
    digest: Digest,
    chunk: int | None,
    started: float,
) -> float:
    response = _request(connection, "POST", f"/v2/{REPO}/blobs/uploads/", {}, None)
    assert response.status == 202, response.status
    location = _location(response)
    if chunk is not None:
        offset = 0
        while offset < size:
            count = min(chunk, size - offset)
            headers = {
                "Content-Type": OCTET_STREAM,
                "Content-Range": f"{offset}-{offset + count - 1}",
            }
            response = _request(connection, "PATCH", location, headers, (source, offset, count))
            assert response.status == 202, (response.status, response.read())
            location = _location(response)
            offset += count
        body = None
    else:
        body = (source, 0, size)
    separator = "&" if "?" in location else "?"
    headers = {"Content-Type": OCTET_STREAM}
    response = _request(connection, "PUT", f"{location}{separator}digest={digest}", headers, body)
    assert response.status == 201, response.status
    return time.perf_counter() - started


def get_blob(port: int, digest: str, size: int) -> float:
    """Seconds to read the blob (discarded as it arrives)."""
    conn = http.client.HTTPConnection(LOOPBACK, port)
    started = time.perf_counter()
    conn.request("GET", f"/v2/{REPO}/blobs/{digest}")
    response = conn.getresponse()
    buffer = memoryview(bytearray(4 * MIB))
    total = 0
    while count := response.readinto(buffer):
        total += count
    elapsed = time.perf_counter() - started
    conn.close()
    assert (response.status, total) == (200, size), (response.status, total)
    return elapsed


# -- RSS -------------------------------------------------------------------------------


def _tree(pid: int) -> list[int]:
    pids = [pid]
    for current in pids:
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                pids.extend(int(child) for child in task.read_text().split())
    return pids


def _rss(pid: int) -> tuple[int, int]:
    """RSS and PSS of a process (PSS shares each shared page among its processes)."""
    found = {"Rss:": 0, "Pss:": 0}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            key = line.split(":", 1)[0] + ":"
            if key in found:
                found[key] = int(line.split()[1]) * 1024
    return found["Rss:"], found["Pss:"]


class RssSampler:
    """Peak memory of a process tree per phase: the largest process's RSS, the sum of
    the RSS (shared pages, such as granian's library, counted in every process) and the
    sum of the PSS (each page counted once: what the tree really holds)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.phase = "requests"
        self.peaks: dict[str, tuple[int, int, int]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            sizes = [_rss(pid) for pid in _tree(self.pid)]
            largest, total, shared = self.peaks.get(self.phase, (0, 0, 0))
            self.peaks[self.phase] = (
                max(largest, max(rss for rss, _ in sizes)),
                max(total, sum(rss for rss, _ in sizes)),
                max(shared, sum(pss for _, pss in sizes)),
            )
            time.sleep(0.02)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


# -- one server ------------------------------------------------------------------------


def measure(
    name: str,
    server: ManagedServer,
    seed: dict[str, object],
    args: argparse.Namespace,
    work: Path,
) -> dict[str, object]:
    """Every scenario against one running server."""
    base = server.url
    results: dict[str, object] = {}
    manifest_file = work / "manifest.json"
    manifest_file.write_bytes(seed["manifest"])  # type: ignore[arg-type]
    with RssSampler(server.pid) as rss:
        scenarios = [
            ("manifest GET tag", "GET", f"/v2/{REPO}/manifests/v1", ""),
            ("manifest GET digest", "GET", f"/v2/{REPO}/manifests/{seed['manifest_digest']}", ""),
            ("manifest HEAD tag", "HEAD", f"/v2/{REPO}/manifests/v1", ""),
            ("manifest HEAD digest", "HEAD", f"/v2/{REPO}/manifests/{seed['manifest_digest']}", ""),
            ("blob HEAD", "HEAD", f"/v2/{REPO}/blobs/{seed['layer_digest']}", ""),
            ("tag list", "GET", f"/v2/{REPO}/tags/list", ""),
            (
                "manifest PUT tag",
                "PUT",
                "/",
                PUT_SCRIPT.format(
                    body=manifest_file, media_type=DOCKER_MANIFEST_SCHEMA2, repo=REPO
                ),
            ),
        ]
        for label, method, path, script in scenarios:
            if method == "HEAD":
                results[label] = head_load(server.port, path, args)
            else:
                results[label] = wrk(base + path, args, work, method=method, script=script)
            print(f"  {name:16} {label:22} {results[label]}", flush=True)
        rss.phase = "push"
        for label, key, chunk in (
            ("push monolithic", "mono", None),
            ("push chunked", "chunked", args.chunk_size),
        ):
            # The best of --push-rounds pushes, each of a blob new to the server: on a
            # shared machine the slowest rounds measure the neighbours, not the server.
            rounds = []
            for number in range(args.push_rounds):
                source = work / f"{name}-{key}-{number}.bin"
                digest = write_blob_file(source, args.blob_size, f"{name}{key}{number}".encode())
                os.sync()
                rounds.append(push(server.port, source, digest, chunk))
                source.unlink()
            seconds = min(rounds)
            results[label] = {
                "gbps": args.blob_size / seconds / 1e9,
                "seconds": seconds,
                "rounds": [round(r, 2) for r in rounds],
            }
            print(f"  {name:16} {label:22} {results[label]}", flush=True)
        rss.phase = "get"
        size = int(seed["big_size"])  # type: ignore[call-overload]
        get_blob(server.port, str(seed["big_digest"]), size)
        seconds = min(
            get_blob(server.port, str(seed["big_digest"]), size) for _ in range(args.push_rounds)
        )
        results["blob GET warm"] = {"gbps": size / seconds / 1e9, "seconds": seconds}
        print(f"  {name:16} {'blob GET warm':22} {results['blob GET warm']}", flush=True)
    results["rss"] = {
        phase: {
            "largest_mib": round(largest / MIB, 1),
            "tree_mib": round(total / MIB, 1),
            "tree_pss_mib": round(shared / MIB, 1),
        }
        for phase, (largest, total, shared) in rss.peaks.items()
    }
    print(f"  {name:16} {'peak RSS':22} {results['rss']}", flush=True)
    return results


GOALS = {
    "manifest GET tag": 3.0,
    "manifest GET digest": 3.0,
    "manifest HEAD tag": 3.0,
    "manifest HEAD digest": 3.0,
    "blob HEAD": 3.0,
    "tag list": 3.0,
    "manifest PUT tag": 3.0,
    "push monolithic": 2.5,
    "push chunked": 2.5,
    "blob GET warm": 1.5,
}


def report(go: dict[str, object], ours: dict[str, dict[str, object]]) -> str:
    lines = []
    header = f"{'scenario':22} {'Go':>14}"
    for name in ours:
        header += f" {name:>14} {'ratio':>6} {'p99 Go/ours':>11} {'goal':>5}"
    lines.append(header)
    for label, goal in GOALS.items():
        g = go[label]
        assert isinstance(g, dict)
        unit = "rps" if "rps" in g else "gbps"
        row = f"{label:22} {g[unit]:>10.2f} {unit:>3}"
        for results in ours.values():
            o = results[label]
            assert isinstance(o, dict)
            ratio = o[unit] / g[unit]
            p99 = f"{g['p99'] / o['p99']:.2f}" if unit == "rps" else "-"
            met = "met" if ratio >= goal and (unit != "rps" or g["p99"] > o["p99"]) else "NOT"
            row += f" {o[unit]:>10.2f} {unit:>3} {ratio:>6.2f} {p99:>11} {goal:>4}x {met}"
        lines.append(row)
    for label, results in (("Go", go), *ours.items()):
        lines.append(f"peak RSS {label}: {json.dumps(results['rss'])}")
    return "\n".join(lines)


def layer_overhead(token: str, basic: str, work: Path, calls: int = 20000) -> dict[str, float]:
    """Microseconds the auth layer adds to one request, in process (no server, no noise)."""
    from pydistribution.server.auth import HtpasswdConfig, TokenConfig, authenticated_app

    async def app(scope: Any, receive: Any, send: Any) -> None:
        return None

    async def receive() -> Any:
        return {}

    async def send(message: Any) -> None:
        return None

    def scope(header: str) -> dict[str, Any]:
        headers = [(b"host", b"bench"), (b"authorization", header.encode())]
        return {
            "type": "http",
            "method": "HEAD",
            "path": f"/v2/{REPO}/manifests/v1",
            "query_string": b"",
            "headers": headers if header else headers[:1],
        }

    async def per_call(layer: Any, header: str) -> float:
        await layer(scope(header), receive, send)  # the first call fills the caches
        start = time.perf_counter()
        for _ in range(calls):
            await layer(scope(header), receive, send)
        return (time.perf_counter() - start) / calls * 1e6

    async def run() -> dict[str, float]:
        token_layer = authenticated_app(
            app,
            TokenConfig(
                realm="r", service="bench", issuer="bench", rootcertbundle=str(work / "cert.pem")
            ),
        )
        basic_layer = authenticated_app(
            app, HtpasswdConfig(realm="bench", path=str(work / "htpasswd"))
        )
        return {
            "no layer": await per_call(app, ""),
            "bearer token": await per_call(token_layer, f"Bearer {token}"),
            "htpasswd": await per_call(basic_layer, f"Basic {basic}"),
        }

    return asyncio.run(run())


def measure_auth(args: argparse.Namespace, work: Path) -> str:
    """Manifest HEAD on our server: no auth, bearer tokens, basic credentials (``--auth``)."""
    import base64

    from pydistribution.server.auth import Access, hash_password
    from pydistribution.server.auth.issuer import TokenIssuer, generate_signing_pair

    big = work / "small.bin"
    write_blob_file(big, MIB, b"small")
    seed_root(work / "seed", big)
    generate_signing_pair(work / "key.pem", work / "cert.pem", name="bench")
    (work / "htpasswd").write_text(f"bench:{hash_password('secret')}\n")
    issuer = TokenIssuer.from_files(
        key=work / "key.pem", certificate=work / "cert.pem", issuer="bench", service="bench"
    )
    token = issuer.issue("bench", [Access("repository", REPO, "pull")])
    basic = base64.b64encode(b"bench:secret").decode()
    token_auth = {
        "token": {
            "realm": "http://127.0.0.1:1/token",
            "service": "bench",
            "issuer": "bench",
            "rootcertbundle": str(work / "cert.pem"),
        }
    }
    runs: list[tuple[str, dict[str, object] | None, dict[str, str]]] = [
        ("no auth", None, {}),
        ("bearer token", token_auth, {"Authorization": f"Bearer {token}"}),
        (
            "htpasswd",
            {"htpasswd": {"realm": "bench", "path": str(work / "htpasswd")}},
            {"Authorization": f"Basic {basic}"},
        ),
    ]
    server_name = args.servers.split(",")[0]
    path = f"/v2/{REPO}/manifests/v1"
    # The three servers run side by side and are measured in turn, round after round:
    # on a shared machine the load drifts, and a ratio of neighbouring runs is steadier
    # than one of runs minutes apart. The median of the rounds' ratios is reported.
    rates: dict[str, list[dict[str, float]]] = {label: [] for label, _, _ in runs}
    with contextlib.ExitStack() as stack:
        servers = {}
        for index, (label, auth, _) in enumerate(runs):
            root = work / f"auth-root-{index}"
            shutil.copytree(work / "seed", root)
            servers[label] = stack.enter_context(
                Serve(root, server_name, args.workers, args.fsync, auth)
            )
        warm = argparse.Namespace(**{**vars(args), "duration": 1})
        for label, _, headers in runs:
            head_load(servers[label].port, path, warm, headers)
        for _ in range(args.rounds):
            for label, _, headers in runs:
                found = head_load(servers[label].port, path, args, headers)
                rates[label].append(found)
                print(f"  {label:14} {found}", flush=True)
    lines = [
        f"manifest HEAD by tag, {server_name}, {args.workers} workers, "
        f"{args.rounds} rounds of {args.duration} s (median of the rounds' ratios):"
    ]
    for label, found in rates.items():
        ratios = sorted(
            mine["rps"] / base["rps"] for mine, base in zip(found, rates["no auth"], strict=True)
        )
        ratio = ratios[len(ratios) // 2]
        median_rps = sorted(f["rps"] for f in found)[len(found) // 2]
        goal = "  goal >= 0.80x: " + ("met" if ratio >= 0.8 else "NOT met")
        lines.append(
            f"  {label:14} {median_rps:10.0f} rps  {ratio:5.2f}x"
            f" (rounds {', '.join(f'{r:.2f}' for r in ratios)})"
            f"{goal if label == 'bearer token' else ''}"
            f"  non-2xx {sum(f['non_2xx'] for f in found):.0f}"
        )
    lines.append("the auth layer alone, in process, cached credentials (microseconds per request):")
    for label, micros in layer_overhead(token, basic, work).items():
        lines.append(f"  {label:14} {micros:8.1f} us")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--servers", default="granian,uvicorn")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--blob-size", type=parse_size, default=1 << 30)
    parser.add_argument("--chunk-size", type=parse_size, default=64 * MIB)
    parser.add_argument(
        "--push-rounds", type=int, default=3, help="pushes and warm GETs of each kind; the best"
    )
    parser.add_argument(
        "--fsync",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="our filesystem driver's default, as durable as Go (which fsyncs each file)",
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--rounds", type=int, default=5, help="--auth: rounds of each")
    parser.add_argument(
        "--auth", action="store_true", help="only manifest HEAD without auth, with tokens, htpasswd"
    )
    parser.add_argument("--work", type=Path, help="work directory (default: a temporary one)")
    args = parser.parse_args()
    # Stopped from outside, the servers still stop (the with blocks run their exits).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    require_program("wrk")
    require_program("docker-registry")
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-server-"))
    work.mkdir(parents=True, exist_ok=True)
    if args.auth:
        try:
            print(measure_auth(args, work))
        finally:
            if args.work is None:
                shutil.rmtree(work, ignore_errors=True)
        return
    try:
        print(f"seeding {args.blob_size / MIB:.0f} MiB blobs in {work}", flush=True)
        big = work / "big.bin"
        write_blob_file(big, args.blob_size, b"big")
        seed = seed_root(work / "seed", big)
        big.unlink()
        names = ["go", *args.servers.split(",")]
        everything: dict[str, dict[str, object]] = {}
        for name in names:
            root = work / f"{name}-root"
            shutil.copytree(work / "seed", root)
            os.sync()
            print(f"{name}: serving a copy of the seed", flush=True)
            server: ManagedServer
            if name == "go":
                server = GoRegistry(root, delete_enabled=True, log_level="warn")
            else:
                server = Serve(root, name, args.workers, args.fsync)
            with server:
                everything[name] = measure(name, server, seed, args, work)
            shutil.rmtree(root)
        go = everything.pop("go")
        print()
        print(report(go, everything))
        if args.json:
            args.json.write_text(json.dumps({"go": go, **everything}, indent=2, default=str))
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
