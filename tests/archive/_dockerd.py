"""A throw-away Docker daemon for ``docker load`` and ``docker save``: no network, no containers.

``dockerd`` (Debian's ``docker.io``) runs with everything it does not need for importing
and exporting images turned off: no iptables rules, no bridge, the ``vfs`` storage driver
(no kernel mounts), and its socket, data, exec state and pid file in a temporary
directory, so it touches nothing of the machine's and listens on no TCP port. It is
started as a child and stopped by its PID (it stops its own ``containerd``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Final, NoReturn

import pytest

from pydistribution.testing.peers import ENV_REQUIRE_PEERS

_START_TIMEOUT: Final = 30.0
_STOP_TIMEOUT: Final = 20.0


def _missing(reason: str) -> NoReturn:
    if os.environ.get(ENV_REQUIRE_PEERS) == "1":
        pytest.fail(f"{reason}, and {ENV_REQUIRE_PEERS}=1 requires every peer", pytrace=False)
    pytest.skip(reason)


class DockerDaemon:
    """``dockerd`` on a private unix socket; `run` is the ``docker`` CLI pointed at it.

    Skips the test (fails it under ``PYDISTRIBUTION_REQUIRE_PEERS=1``) when ``dockerd``
    or ``docker`` is missing or the process is not root.
    """

    def __init__(self) -> None:
        daemon, client = shutil.which("dockerd"), shutil.which("docker")
        if daemon is None or client is None:
            _missing("dockerd and docker are not installed (apt-get install docker.io)")
        if os.geteuid() != 0:
            _missing("dockerd needs root")
        self._client = client
        self.work = Path(tempfile.mkdtemp(prefix="pyd-dockerd-"))
        self.socket = self.work / "docker.sock"
        (self.work / "daemon.json").write_text("{}")
        (self.work / "client").mkdir()
        self.log_path = self.work / "dockerd.log"
        argv = [
            daemon,
            "--config-file", str(self.work / "daemon.json"),
            "--host", f"unix://{self.socket}",
            "--data-root", str(self.work / "data"),
            "--exec-root", str(self.work / "exec"),
            "--pidfile", str(self.work / "dockerd.pid"),
            "--iptables=false",
            "--ip6tables=false",
            "--ip-forward=false",
            "--ip-masq=false",
            "--bridge=none",
            "--storage-driver=vfs",
        ]  # fmt: skip
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
        env.update(DOCKER_HOST=f"unix://{self.socket}", DOCKER_CONFIG=str(self.work / "client"))
        return env

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + _START_TIMEOUT
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"dockerd exited:\n{self.log_tail()}")
            probe = subprocess.run(
                [self._client, "version", "--format", "{{.Server.Version}}"],
                env=self._environment(),
                capture_output=True,
                timeout=10,
                check=False,
            )
            if probe.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"dockerd not ready in {_START_TIMEOUT:g} s:\n{self.log_tail()}")
            time.sleep(0.1)

    def run(self, *args: str, timeout: float = 120) -> str:
        """``docker ARGS`` against this daemon; its standard output.

        Raises:
            RuntimeError: the command failed (with its standard error).
        """
        result = subprocess.run(
            [self._client, *args],
            env=self._environment(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"docker {' '.join(args)}: {result.stderr.decode(errors='replace')}")
        return result.stdout.decode()

    def inspect(self, *names: str) -> list[dict[str, object]]:
        """``docker image inspect`` of ``names``, parsed."""
        found: list[dict[str, object]] = json.loads(self.run("image", "inspect", *names))
        return found

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of the daemon's log."""
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """Stop the daemon by its PID (SIGTERM, then SIGKILL) and remove its directory."""
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        shutil.rmtree(self.work, ignore_errors=True)
