"""pydistribution: the storage core of an OCI / Docker registry, as a Python library."""

from __future__ import annotations

from pydistribution.descriptor import Descriptor, Platform
from pydistribution.digest import Digest, Digester, Verifier
from pydistribution.reference import Named, Reference, parse_normalized_named, parse_reference

__all__ = [
    "Descriptor",
    "Digest",
    "Digester",
    "Named",
    "Platform",
    "Reference",
    "Verifier",
    "__version__",
    "parse_normalized_named",
    "parse_reference",
]

__version__ = "0.1.0"
