"""A warm blob GET against the ceiling of this machine: ``socket.sendfile`` alone.

Run by hand, not a test (needs ``pip install -e '.[server,test]'`` and ``docker-registry``)::

    python benchmarks/bench_blob_get.py                    # 1 GiB, best of 5 of each
    python benchmarks/bench_blob_get.py --size 256MiB --rounds 3

One root holds one blob of ``--size`` bytes (read once first, so the page cache holds
it). Every way of sending it is read by the same client (``recv_into`` a 4 MiB buffer,
discarding the bytes) over loopback TCP, in turns, round after round, so that a load
that drifts touches each alike; the best round of each counts, and beside it the CPU
time the sending process tree used (user + system, from ``/proc``, the median of the
rounds), which a busy machine changes much less than the rate:

* **sendfile**: a child process that accepts one connection and calls
  ``socket.sendfile`` on the blob's file (no HTTP, no copy through user space): what
  any server can reach here at most;
* **Go**: ``docker-registry`` on the root (its filesystem driver hands the file to Go's
  ``io.Copy``, which uses ``sendfile``);
* **ours, pathsend**: ``pydistribution serve`` under granian, a whole-blob GET, sent by
  granian from the path (``http.response.pathsend``);
* **ours, streamed**: the same server, ``Range: bytes=0-<size-1>``: the app reads the
  file in ``io_chunk_size`` pieces in worker threads and sends each as a body message.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_server import MIB, REPO, Serve, _tree, parse_size, seed_root, write_blob_file

from pydistribution.testing.peers import GoRegistry
from pydistribution.testing.peers._process import LOOPBACK, require_program

_BUFFER = 4 * MIB


def _drain(sock: socket.socket, size: int, head: bytes) -> int:
    """Read the response to its end; the bytes of the body (after the headers)."""
    buffer = bytearray(_BUFFER)
    view = memoryview(buffer)
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError(f"connection closed in the headers: {received[:200]!r}")
        received += chunk
    headers, _, body = received.partition(b"\r\n\r\n")
    if head and not headers.startswith(head):
        raise RuntimeError(f"unexpected answer: {headers[:200]!r}")
    total = len(body)
    while total < size:
        count = sock.recv_into(view)
        if not count:
            break
        total += count
    return total


def http_get(port: int, path: str, size: int, extra: str = "") -> float:
    """Seconds for one GET of ``path`` read to its end (``size`` body bytes)."""
    with socket.create_connection((LOOPBACK, port)) as sock:
        started = time.perf_counter()
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: bench\r\n{extra}\r\n".encode())
        total = _drain(sock, size, b"HTTP/1.1 20")
        elapsed = time.perf_counter() - started
    if total != size:
        raise RuntimeError(f"{total} of {size} bytes")
    return elapsed


_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of process ``pid`` and its descendants, threads included."""
    total = 0
    for member in _tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _TICK


def _sendfile_server(listener: socket.socket, path: str) -> None:
    while True:
        connection, _ = listener.accept()
        with connection, open(path, "rb") as file:
            connection.recv(65536)
            connection.sendall(b"HTTP/1.1 200 OK\r\n\r\n")
            connection.sendfile(file)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=parse_size, default=1 << 30)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--server", default="granian")
    args = parser.parse_args()
    require_program("docker-registry")
    work = Path(tempfile.mkdtemp(prefix="bench-blob-get-"))
    try:
        big = work / "big.bin"
        write_blob_file(big, args.size, b"get")
        seed = seed_root(work / "root", big)
        big.unlink()
        digest = str(seed["big_digest"])
        data = next((work / "root").rglob(f"{digest.split(':')[1]}/data"))
        listener = socket.create_server((LOOPBACK, 0))
        child = multiprocessing.get_context("fork").Process(
            target=_sendfile_server, args=(listener, str(data)), daemon=True
        )
        child.start()
        path = f"/v2/{REPO}/blobs/{digest}"
        size = args.size
        ways = {
            "sendfile": (child.pid, lambda: http_get(listener.getsockname()[1], "/", size)),
        }
        with (
            GoRegistry(work / "root", log_level="warn") as go,
            Serve(work / "root", args.server, 2, False) as ours,
        ):
            ways["Go"] = (go.pid, lambda: http_get(go.port, path, size))
            ways["ours, pathsend"] = (ours.pid, lambda: http_get(ours.port, path, size))
            ways["ours, streamed"] = (
                ours.pid,
                lambda: http_get(ours.port, path, size, f"Range: bytes=0-{size - 1}\r\n"),
            )
            for _, way in ways.values():
                way()  # the page cache, and each server's first request
            seconds: dict[str, list[float]] = {label: [] for label in ways}
            cpu: dict[str, list[float]] = {label: [] for label in ways}
            for _ in range(args.rounds):
                for label, (pid, way) in ways.items():
                    before = cpu_seconds(pid)
                    seconds[label].append(way())
                    cpu[label].append(cpu_seconds(pid) - before)
        child.terminate()
        child.join()
        print(
            f"warm GET of {size / MIB:.0f} MiB, best of {args.rounds} rounds,"
            f" load {os.getloadavg()[0]:.2f}:"
        )
        ceiling = size / min(seconds["sendfile"]) / 1e9
        for label in ways:
            rate = size / min(seconds[label]) / 1e9
            used = sorted(cpu[label])[len(cpu[label]) // 2] / (size / (1 << 30))
            rounds = ", ".join(f"{s:.2f}" for s in seconds[label])
            print(
                f"  {label:16} {rate:6.2f} GB/s  {rate / ceiling:5.2f}x sendfile"
                f"  server CPU {used:5.2f} s/GiB  (rounds {rounds} s)"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
