"""S3 peers: an endpoint description, and moto's S3-compatible server on 127.0.0.1.

[`S3Endpoint`][pydistribution.testing.peers.S3Endpoint] names an S3-compatible service and its
credentials, either a local
[`MotoServer`][pydistribution.testing.peers.MotoServer] or a real one described by
``PYDISTRIBUTION_S3_*`` variables.
[`MotoServer`][pydistribution.testing.peers.MotoServer] supplies its command line, readiness probe
and ``reset``; its
lifecycle comes from the ``ManagedServer`` mixin.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import sys
from collections.abc import Mapping
from typing import Final

from pydistribution.testing.peers._process import LOOPBACK, PeerError, require_module
from pydistribution.testing.peers._server import ManagedServer, WorkDir, answers_http, http_ok

__all__ = ["ENV_S3_ENDPOINT", "MotoServer", "S3Endpoint"]

ENV_S3_ENDPOINT: Final = "PYDISTRIBUTION_S3_ENDPOINT"
"""An S3-compatible endpoint URL to test against instead of a local moto server.

With it, ``PYDISTRIBUTION_S3_BUCKET`` (required), ``PYDISTRIBUTION_S3_ACCESS_KEY``,
``PYDISTRIBUTION_S3_SECRET_KEY`` and ``PYDISTRIBUTION_S3_REGION`` (default ``us-east-1``)
describe it; see
[`S3Endpoint.from_environment()`][pydistribution.testing.peers.S3Endpoint.from_environment].
"""


@dataclasses.dataclass(frozen=True)
class S3Endpoint:
    """An S3-compatible endpoint and the credentials to use it (the secret is not shown).

    Attributes:
        url: the endpoint URL (``http://127.0.0.1:PORT`` for moto).
        region: the region to sign for.
        access_key: the access key id.
        secret_key: the secret access key.
        bucket: a bucket to work in, when the endpoint is shared (a real service); tests
            then use a fresh root directory in it instead of a fresh bucket.
    """

    url: str
    region: str = "us-east-1"
    access_key: str = "pydistribution-test"
    secret_key: str = dataclasses.field(default="pydistribution-test-secret", repr=False)
    bucket: str | None = None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> S3Endpoint | None:
        """The endpoint named by ``PYDISTRIBUTION_S3_*`` variables in ``environ``, if any.

        Raises:
            PeerError: ``PYDISTRIBUTION_S3_ENDPOINT`` is set without
                ``PYDISTRIBUTION_S3_BUCKET``.
        """
        url = environ.get(ENV_S3_ENDPOINT)
        if not url:
            return None
        bucket = environ.get("PYDISTRIBUTION_S3_BUCKET")
        if not bucket:
            raise PeerError(f"{ENV_S3_ENDPOINT} is set, but PYDISTRIBUTION_S3_BUCKET is not")
        return cls(
            url=url,
            region=environ.get("PYDISTRIBUTION_S3_REGION") or "us-east-1",
            access_key=environ.get("PYDISTRIBUTION_S3_ACCESS_KEY", ""),
            secret_key=environ.get("PYDISTRIBUTION_S3_SECRET_KEY", ""),
            bucket=bucket,
        )

    def driver_parameters(self, bucket: str, root_directory: str = "") -> dict[str, object]:
        """Parameters of the ``s3`` driver (Go names) for ``bucket`` on this endpoint."""
        parameters: dict[str, object] = {
            "bucket": bucket,
            "region": self.region,
            "regionendpoint": self.url,
            "forcepathstyle": True,
            "accesskey": self.access_key,
            "secretkey": self.secret_key,
        }
        if root_directory:
            parameters["rootdirectory"] = root_directory
        return parameters


class MotoServer(ManagedServer):
    """moto's standalone S3-compatible server (``python -m moto.server``) on 127.0.0.1.

    State lives in the server's memory and goes with it. Starting happens in the
    constructor, which waits until the server answers HTTP. Any access key and secret
    are accepted. Use it as a context manager, or call `stop()`.

    Args:
        port: a fixed port; by default a free one (retried if taken meanwhile).
        work_dir: where ``moto.log`` goes; by default a temporary directory removed by
            `stop()`.
        python: the interpreter that runs ``moto.server``; by default this one, which
            must have ``moto[server]`` installed (otherwise the test is skipped, or fails
            under ``PYDISTRIBUTION_REQUIRE_PEERS=1``).
        start_timeout: seconds to wait for the server to answer.

    Raises:
        PeerError: the server exited or did not answer in time (message includes its log).
    """

    def __init__(
        self,
        *,
        port: int | None = None,
        work_dir: str | os.PathLike[str] | None = None,
        python: str | None = None,
        start_timeout: float = 30.0,
    ) -> None:
        if python is None:
            require_module("moto", "pip install 'moto[server]'")
            require_module("flask", "pip install 'moto[server]'")
        self.python = python or sys.executable
        self._launch(
            "moto server",
            WorkDir(work_dir, "pydistribution-moto-"),
            "moto.log",
            self._argv,
            functools.partial(answers_http, "/moto-api/"),
            port=port,
            timeout=start_timeout,
        )

    def _argv(self, port: int) -> list[str]:
        return [self.python, "-m", "moto.server", "-H", LOOPBACK, "-p", str(port)]

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``, the endpoint URL (``regionendpoint``)."""
        return f"http://{self.host}"

    @property
    def endpoint(self) -> S3Endpoint:
        """This server as an [`S3Endpoint`][pydistribution.testing.peers.S3Endpoint] (fixed test
        credentials, no bucket)."""
        return S3Endpoint(url=self.url)

    def reset(self) -> None:
        """Forget every bucket and object (moto's ``POST /moto-api/reset``).

        Raises:
            OSError: the server cannot be reached or refused.
        """
        http_ok("POST", "/moto-api/reset", self.port, timeout=10)
