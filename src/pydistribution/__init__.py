"""pydistribution: the storage core of an OCI / Docker registry, as a Python library."""

from __future__ import annotations

from pydistribution.descriptor import Descriptor, Platform
from pydistribution.digest import Digest, Digester, Verifier

__all__ = [
    "Descriptor",
    "Digest",
    "Digester",
    "Platform",
    "Verifier",
    "__version__",
]

__version__ = "0.1.0"
