"""The OCI Distribution API v1.1 (and Docker's Registry HTTP API V2) as an ASGI app.

``create_app(namespace)`` returns a Starlette application that serves any
``Namespace``: registry storage on any driver, an OCI layout, an in-memory namespace.
It knows only the protocols; storage calls run in worker threads. ``configured_app``
adds what a Go ``config.yml`` asks of a deployment (logs, health, headers, prefix,
read-only mode, background jobs); ``pydistribution serve`` runs it. Needs the ``server``
extra: ``pip install 'pydistribution[server]'``.
"""

from __future__ import annotations

from pydistribution._public import claim_exports

try:
    import anyio  # noqa: F401  (checked here so the message names the extra)
    import starlette  # noqa: F401  (checked here so the message names the extra)
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "the server needs starlette and anyio: pip install 'pydistribution[server]'"
    ) from exc

from pydistribution.server._app import create_app
from pydistribution.server._deployment import BackgroundJob, configured_app, upload_purger_delay
from pydistribution.server._health import HEALTH_PATH, LIVENESS_PATH, READINESS_PATH
from pydistribution.server._logging import LineFormatter, RequestLog, configure_logging
from pydistribution.server._maintenance import ADMIN_PREFIX, MaintenanceTask, TaskOutcome
from pydistribution.server._options import DEFAULT_MANIFEST_SIZE_LIMIT, ServerOptions
from pydistribution.server.config import DebugConfig, LogConfig, ServerConfig, UploadPurging

__all__ = [
    "ADMIN_PREFIX",
    "DEFAULT_MANIFEST_SIZE_LIMIT",
    "HEALTH_PATH",
    "LIVENESS_PATH",
    "READINESS_PATH",
    "BackgroundJob",
    "DebugConfig",
    "LineFormatter",
    "LogConfig",
    "MaintenanceTask",
    "RequestLog",
    "ServerConfig",
    "ServerOptions",
    "TaskOutcome",
    "UploadPurging",
    "configure_logging",
    "configured_app",
    "create_app",
    "upload_purger_delay",
]

claim_exports(globals())
