"""What an archive being written says it holds, written last: ``manifest.json`` or ``index.json``.

A docker archive lists each image once with its config member, its layer members and
every ``REPO:TAG`` it has (``docker load`` of 1.10 and later reads exactly this); an
index or manifest list is stored as the one platform it holds. An OCI archive's
``index.json`` names each tagged image by its tag (and, under a repository, by its full
name).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from pydistribution.archive._oci import IMAGE_NAME_ANNOTATION, REF_NAME_ANNOTATION
from pydistribution.descriptor import Descriptor
from pydistribution.errors import NotFoundError, UnsupportedError
from pydistribution.manifest import OCIIndexBuilder, is_attestation, select_manifest
from pydistribution.mediatypes import is_index, is_manifest

if TYPE_CHECKING:
    from pydistribution.digest import Digest
    from pydistribution.protocols import Manifest

__all__ = ["docker_index", "oci_index"]

Names = Sequence[tuple[str, Descriptor]]
"""``(REPO:TAG, descriptor)`` of every name given, in the order given."""


def _image_of(manifests: Mapping[Digest, Manifest], descriptor: Descriptor) -> Manifest:
    """The image manifest ``descriptor`` stands for: itself, or an index's one platform.

    Raises:
        UnsupportedError: an index with several platforms, none chosen or not written.
    """
    manifest = manifests[descriptor.digest]
    if not is_index(manifest.media_type):
        return manifest
    children = [c for c in manifest.references() if not is_attestation(c)]
    if len(children) == 1:
        chosen = children[0]
    else:
        try:
            chosen = select_manifest(manifest)
        except NotFoundError:
            raise UnsupportedError(
                f"a docker archive holds one platform of index {manifest.digest}: "
                "choose one (--platform)"
            ) from None
    if chosen.digest not in manifests:
        raise UnsupportedError(
            f"a docker archive holds one platform of index {manifest.digest}: "
            "copy it with --platform"
        )
    return _image_of(manifests, chosen)


def docker_index(
    names: Names, manifests: Mapping[Digest, Manifest], members: Mapping[Digest, str]
) -> bytes:
    """``manifest.json``: every named image (every image when none is named).

    Args:
        names: the names given.
        manifests: every manifest written, by digest.
        members: the tar member of every blob written, by digest.

    Raises:
        UnsupportedError: an index without a single platform to choose.
    """
    images: dict[Digest, tuple[dict[str, object], list[str]]] = {}
    roots: list[tuple[str | None, Descriptor]] = list(names) or [
        (None, m.describe()) for m in manifests.values()
    ]
    for name, descriptor in roots:
        manifest = _image_of(manifests, descriptor)
        if not is_manifest(manifest.media_type):
            continue
        found = images.get(manifest.digest)
        if found is None:
            config, *layers = manifest.references()
            tags: list[str] = []
            entry: dict[str, object] = {
                "Config": members[config.digest],
                "RepoTags": tags,
                "Layers": [members[layer.digest] for layer in layers],
            }
            found = images[manifest.digest] = (entry, tags)
        if name is not None:
            found[1].append(name)
    return json.dumps([entry for entry, _ in images.values()], separators=(",", ":")).encode()


def oci_index(names: Names, manifests: Mapping[Digest, Manifest], repository: str) -> bytes:
    """``index.json``: every named image with its tag (every manifest when none is named).

    Args:
        names: the names given.
        manifests: every manifest written, by digest.
        repository: the writer's repository; ``archive`` (no name) adds no image name.
    """
    builder = OCIIndexBuilder()
    named = list(names) or [("", m.describe()) for m in manifests.values()]
    for name, descriptor in named:
        annotations = dict(descriptor.annotations)
        if name:
            annotations[REF_NAME_ANNOTATION] = name.rsplit(":", 1)[1]
            if repository != "archive":
                annotations[IMAGE_NAME_ANNOTATION] = name
        builder.append_reference(
            Descriptor(
                media_type=descriptor.media_type,
                digest=descriptor.digest,
                size=descriptor.size,
                annotations=annotations,
                platform=descriptor.platform,
            )
        )
    return builder.build().payload()
