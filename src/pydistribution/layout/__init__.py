"""OCI image layouts: the directory engine, and the layout as a ``Repository``.

An OCI image layout (image-spec ``image-layout.md``) is a directory holding ``oci-layout``
(``{"imageLayoutVersion": "1.0.0"}``), ``index.json`` (an OCI image index whose entries
are named by the ``org.opencontainers.image.ref.name`` annotation) and
``blobs/<alg>/<hex>``; umoci, skopeo and buildah read and write it.
[`Layout`][pydistribution.layout.Layout] is
the engine (blobs, reference names, garbage collection; atomic and safe against
concurrent writers); [`LayoutRepository`][pydistribution.layout.LayoutRepository] shows the same
directory through the
``Repository`` protocol, so copying, verification and serving work on it unchanged.

pydistribution keeps its own files in ``<layout>/.pydistribution/`` (``lock``, ``tmp/``,
``uploads/``), which other tools ignore. Locking uses ``fcntl.flock``: POSIX only.
"""

from __future__ import annotations

from pydistribution._public import claim_exports
from pydistribution.layout._blobs import LayoutBlobStore
from pydistribution.layout._engine import Layout
from pydistribution.layout._fs import PRIVATE_DIR
from pydistribution.layout._gc import GCReport
from pydistribution.layout._index import (
    IMAGE_LAYOUT_VERSION,
    MAX_INDEX_SIZE,
    REF_NAME_ANNOTATION,
    validate_ref_name,
    validate_ref_tag,
)
from pydistribution.layout._manifests import LayoutManifestService
from pydistribution.layout._repository import LayoutRepository
from pydistribution.layout._tags import LayoutTagService
from pydistribution.layout._uploads import LayoutBlobWriter

__all__ = [
    "IMAGE_LAYOUT_VERSION",
    "MAX_INDEX_SIZE",
    "PRIVATE_DIR",
    "REF_NAME_ANNOTATION",
    "GCReport",
    "Layout",
    "LayoutBlobStore",
    "LayoutBlobWriter",
    "LayoutManifestService",
    "LayoutRepository",
    "LayoutTagService",
    "validate_ref_name",
    "validate_ref_tag",
]

claim_exports(globals())
