"""Real peer programs for tests: the Go registry, Redis, moto, skopeo, umoci on 127.0.0.1 only.

The project tests against real parts, not mocks. This package starts the Go reference
registry (Debian's ``docker-registry``), ``redis-server`` and moto's S3-compatible server
as child processes listening on a free loopback port, stops them by PID, and runs
``skopeo``, ``umoci`` and ``docker-registry garbage-collect`` with a timeout. Nothing
here listens on anything but 127.0.0.1 or reaches the network: registry references given
to skopeo must name a loopback host, and the children run without proxy settings or
``REGISTRY_*`` overrides.

A missing program is reported by
[`require_program()`][pydistribution.testing.peers.require_program]: under pytest the test is
skipped
with a reason, or fails when ``PYDISTRIBUTION_REQUIRE_PEERS=1`` is set (as CI does).
Only the standard library is imported; pytest is imported when a program is missing.
"""

from __future__ import annotations

from pydistribution._public import claim_exports
from pydistribution.testing.peers._goregistry import GoRegistry, garbage_collect
from pydistribution.testing.peers._process import (
    ENV_REQUIRE_PEERS,
    LOOPBACK,
    PeerError,
    free_port,
    require_program,
)
from pydistribution.testing.peers._redis import RedisServer
from pydistribution.testing.peers._resp import RespValue
from pydistribution.testing.peers._s3 import ENV_S3_ENDPOINT, MotoServer, S3Endpoint
from pydistribution.testing.peers._tools import run_skopeo, run_umoci, skopeo_copy

__all__ = [
    "ENV_REQUIRE_PEERS",
    "ENV_S3_ENDPOINT",
    "LOOPBACK",
    "GoRegistry",
    "MotoServer",
    "PeerError",
    "RedisServer",
    "RespValue",
    "S3Endpoint",
    "free_port",
    "garbage_collect",
    "require_program",
    "run_skopeo",
    "run_umoci",
    "skopeo_copy",
]

claim_exports(globals())
