"""Images in single files: ``docker save`` archives and tars of OCI image layouts.

Reading (`open_docker_archive`, `open_oci_archive`) indexes the tar in place, refusing a
hostile archive before anything is read, and gives a read-only `ArchiveRepository`;
writing (`ArchiveWriter`) is a repository that streams what is copied into it into a new
archive. Both are backends like `pydistribution.layout`: `pydistribution.transfer.copy`
moves images in and out of them.
"""

from __future__ import annotations

from pydistribution._public import claim_exports
from pydistribution.archive._docker import open_docker_archive
from pydistribution.archive._oci import open_oci_archive
from pydistribution.archive._reader import ArchivedImage, ArchiveRepository
from pydistribution.archive._writer import ArchiveFormat, ArchiveWriter

__all__ = [
    "ArchiveFormat",
    "ArchiveRepository",
    "ArchiveWriter",
    "ArchivedImage",
    "open_docker_archive",
    "open_oci_archive",
]

claim_exports(globals())
