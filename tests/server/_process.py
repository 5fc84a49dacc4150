"""The app under uvicorn in a child process, on a free loopback port, stopped by PID.

The child is uvicorn running `make_app` (a factory: each of uvicorn's worker
processes builds its own app) over the filesystem root named by
``PYDISTRIBUTION_TEST_SERVER_ROOT``: the bare app of ``create_app`` under a second ASGI
server, while ``pydistribution serve`` (granian, the Go ``config.yml``) is tested in
``tests/cli/test_serve_cli.py``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Final

from starlette.applications import Starlette

# The peer machinery is internal to the testing package; these tests are its neighbours.
from pydistribution.testing.peers._process import LOOPBACK
from pydistribution.testing.peers._server import ManagedServer, WorkDir, answers_http

ROOT_VARIABLE: Final = "PYDISTRIBUTION_TEST_SERVER_ROOT"


def make_app() -> Starlette:
    """The app over the filesystem root in the environment, deletes on."""
    from pydistribution.server import create_app
    from pydistribution.storage import Registry, RegistryOptions
    from pydistribution.storage.driver.filesystem import FilesystemDriver

    root = os.environ[ROOT_VARIABLE]
    return create_app(
        Registry(FilesystemDriver(root), options=RegistryOptions(delete_enabled=True))
    )


class UvicornServer(ManagedServer):
    """uvicorn serving `make_app` with ``workers`` processes over ``root``.

    The caller sets ``PYDISTRIBUTION_TEST_SERVER_ROOT`` to ``root`` in the environment
    before starting (the child inherits it).
    """

    def __init__(self, root: Path, *, workers: int = 2, start_timeout: float = 30.0) -> None:
        self.root = root
        repository_root = str(Path(__file__).resolve().parents[2])

        def argv(port: int) -> list[str]:
            return [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "tests.server._process:make_app",
                "--app-dir",
                repository_root,
                "--host",
                LOOPBACK,
                "--port",
                str(port),
                "--workers",
                str(workers),
                "--log-level",
                "warning",
            ]

        self._launch(
            "uvicorn",
            WorkDir(None, "pydistribution-uvicorn-"),
            "uvicorn.log",
            argv,
            lambda port: answers_http("/v2/", port),
            port=None,
            timeout=start_timeout,
        )

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://{self.host}"
