"""Driver paths of the Go registry's storage layout (Go: ``registry/storage/paths.go``).

Every path the storage layer touches is built here and nowhere else, exactly as the
storage-layout document §1.2 and §1.3 specify: the fixed ``/docker/registry/v2`` prefix,
the two-character fan-out in the global blob store only, and link files without fan-out.
"""

from __future__ import annotations

from typing import Final

from pydistribution.digest import Digest

__all__ = [
    "BLOBS_ROOT",
    "MARKERS",
    "REPOSITORIES_ROOT",
    "V2_ROOT",
    "blob_data",
    "blob_dir",
    "digest_from_blob_data_path",
    "layer_link",
    "layers_dir",
    "manifests_dir",
    "repository_dir",
    "revision_link",
    "revisions_dir",
    "tag_current_link",
    "tag_dir",
    "tag_index_dir",
    "tag_index_link",
    "tags_dir",
    "upload_data",
    "upload_dir",
    "upload_hashstates_dir",
    "upload_started_at",
    "uploads_dir",
]

V2_ROOT: Final = "/docker/registry/v2"
REPOSITORIES_ROOT: Final = f"{V2_ROOT}/repositories"
BLOBS_ROOT: Final = f"{V2_ROOT}/blobs"
MARKERS: Final = ("_layers", "_manifests")
"""Entries whose presence makes a directory a repository (2.8: ``_layers``; v3: ``_manifests``)."""


def _algorithm(digest: Digest) -> str:
    # Go replaces these separators with "/"; for the registered algorithms it is a no-op.
    return digest.algorithm.replace("+", "/").replace(".", "/").replace(";", "/")


def _digest_parts(digest: Digest) -> str:
    return f"{_algorithm(digest)}/{digest.hex}"


def blob_dir(digest: Digest) -> str:
    """``blobs/<alg>/<hex[0:2]>/<hex>``: the directory of a global blob."""
    return f"{BLOBS_ROOT}/{_algorithm(digest)}/{digest.hex[:2]}/{digest.hex}"


def blob_data(digest: Digest) -> str:
    """The content file of a global blob."""
    return f"{blob_dir(digest)}/data"


def repository_dir(name: str) -> str:
    """The directory of repository ``name`` (one directory per name component)."""
    return f"{REPOSITORIES_ROOT}/{name}"


def layers_dir(name: str) -> str:
    """The layer-link directory of a repository."""
    return f"{repository_dir(name)}/_layers"


def layer_link(name: str, digest: Digest) -> str:
    """``_layers/<alg>/<hex>/link``: blob ``digest`` is visible in the repository."""
    return f"{layers_dir(name)}/{_digest_parts(digest)}/link"


def manifests_dir(name: str) -> str:
    """The manifest area of a repository: revisions and tags."""
    return f"{repository_dir(name)}/_manifests"


def revisions_dir(name: str) -> str:
    """The manifest revision store of a repository."""
    return f"{manifests_dir(name)}/revisions"


def revision_link(name: str, digest: Digest) -> str:
    """``_manifests/revisions/<alg>/<hex>/link``: manifest ``digest`` is in the repository."""
    return f"{revisions_dir(name)}/{_digest_parts(digest)}/link"


def tags_dir(name: str) -> str:
    """The tag store of a repository."""
    return f"{manifests_dir(name)}/tags"


def tag_dir(name: str, tag: str) -> str:
    """The directory of one tag."""
    return f"{tags_dir(name)}/{tag}"


def tag_current_link(name: str, tag: str) -> str:
    """``tags/<tag>/current/link``: the manifest the tag points at now."""
    return f"{tag_dir(name, tag)}/current/link"


def tag_index_dir(name: str, tag: str) -> str:
    """The history index of a tag."""
    return f"{tag_dir(name, tag)}/index"


def tag_index_link(name: str, tag: str, digest: Digest) -> str:
    """``tags/<tag>/index/<alg>/<hex>/link``: the tag pointed at ``digest`` at some time."""
    return f"{tag_index_dir(name, tag)}/{_digest_parts(digest)}/link"


def uploads_dir(name: str) -> str:
    """The upload area of a repository."""
    return f"{repository_dir(name)}/_uploads"


def upload_dir(name: str, upload_id: str) -> str:
    """The directory of one upload session."""
    return f"{uploads_dir(name)}/{upload_id}"


def upload_data(name: str, upload_id: str) -> str:
    """The bytes an upload has received so far."""
    return f"{upload_dir(name, upload_id)}/data"


def upload_started_at(name: str, upload_id: str) -> str:
    """The ``startedat`` file, whose presence makes an upload exist."""
    return f"{upload_dir(name, upload_id)}/startedat"


def upload_hashstates_dir(name: str, upload_id: str, algorithm: str = "sha256") -> str:
    """The saved hash states of an upload (written by the Go registry, never by us)."""
    return f"{upload_dir(name, upload_id)}/hashstates/{algorithm}"


def digest_from_blob_data_path(path: str) -> Digest:
    """The digest named by a global ``.../data`` path (the reverse mapping of §1.3).

    Raises:
        DigestInvalidError: the path does not name a valid digest.
        DigestUnsupportedError: the algorithm is not registered.
    """
    parts = path.rstrip("/").split("/")
    if parts[-1] == "data":
        parts = parts[:-1]
    hex_ = parts[-1]
    # The component before the hex is the fan-out when it equals the hex's first two
    # characters; the algorithm is then one level further up.
    algorithm = parts[-3] if parts[-2] == hex_[:2] and len(parts) >= 3 else parts[-2]
    return Digest(algorithm, hex_)
