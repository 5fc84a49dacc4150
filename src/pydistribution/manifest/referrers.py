"""The descriptor a referrers listing (OCI 1.1) shows for a manifest.

Registry storage and OCI layouts both answer "which manifests refer to this one" by
scanning their manifests; this is the one place that says what each entry carries.
"""

from __future__ import annotations

from pydistribution.descriptor import Descriptor
from pydistribution.protocols import Manifest

__all__ = ["referrer_descriptor"]


def referrer_descriptor(manifest: Manifest) -> Descriptor:
    """``manifest`` as an entry of a referrers index.

    The entry has the manifest's media type, digest and size, its artifact type (the
    declared one, else the config's media type) and its own annotations, as the
    distribution spec's referrers API lists them.
    """
    return Descriptor(
        media_type=manifest.media_type,
        digest=manifest.digest,
        size=len(manifest.payload()),
        artifact_type=manifest.artifact_type,
        annotations=manifest.describe().annotations,
    )
