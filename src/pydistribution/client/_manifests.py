"""Manifests of a remote repository: negotiated ``GET``, exact-bytes ``PUT``, referrers.

A manifest is fetched with every registered media type in ``Accept`` (or the caller's
list), kept as the exact bytes served, and refused unless those bytes hash to the digest
asked for and to the ``Docker-Content-Digest`` the registry sent. A manifest is pushed
with its exact bytes and its own media type as ``Content-Type``.

Referrers (OCI 1.1) come from the referrers API; a registry without one (``404``) is read
through the tag schema: the index tagged ``sha256-<hex>`` of the subject. Pushing a
manifest with a ``subject`` to such a registry (the answer has no ``OCI-Subject``) adds
it to that index, re-reading and retrying when a concurrent writer replaced the index.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from pydistribution import mediatypes
from pydistribution.client._protocol import accept_header, parse_digest_header
from pydistribution.client._repo import RepoContext
from pydistribution.descriptor import Descriptor
from pydistribution.digest import Digest, as_digest
from pydistribution.errors import (
    DistributionError,
    InvalidError,
    ManifestInvalidError,
    ManifestUnknownRevisionError,
    ManifestVerificationError,
    TagUnknownError,
    UnsupportedError,
)
from pydistribution.manifest import OCIIndexBuilder, manifest_media_types, parse_manifest
from pydistribution.mediatypes import media_type_base
from pydistribution.protocols import Manifest
from pydistribution.reference import validate_tag

if TYPE_CHECKING:
    from pydistribution.protocols import ManifestService, Referrers

__all__ = ["RemoteManifestService", "fallback_tag"]

_FALLBACK_RETRIES: Final = 8
_RECHECK_PAUSE: Final = 0.1
"""Seconds (up to twice that, randomised) before the second check of a fallback index."""


def fallback_tag(subject: Digest | str) -> str:
    """The tag schema's tag of ``subject``'s referrers index: ``sha256-<hex>``."""
    subject = as_digest(subject)
    return f"{subject.algorithm}-{subject.hex}"[:128]


class RemoteManifestService:
    """The ``ManifestService`` (and ``Referrers``) of a remote repository."""

    def __init__(self, repo: RepoContext) -> None:
        self._repo = repo

    def _url(self, reference: str | Digest) -> str:
        return self._repo.url(f"manifests/{reference}")

    def exists(self, digest: Digest | str) -> bool:
        """Whether the registry has manifest ``digest`` (``HEAD``)."""
        digest = as_digest(digest)
        response = self._repo.transport.request(
            "HEAD",
            self._url(digest),
            scopes=self._repo.pull,
            headers={"Accept": accept_header(manifest_media_types())},
        )
        if response.status == 200:
            response.close()
            return True
        if response.status == 404:
            response.close()
            return False
        self._repo.fail(response)

    def get(self, digest: Digest | str, *, media_types: Sequence[str] | None = None) -> Manifest:
        """The manifest ``digest``, exactly as stored, checked against its digest.

        Raises:
            ManifestUnknownRevisionError: no such manifest, or none of ``media_types``.
            ManifestVerificationError: the served bytes do not match ``digest``.
        """
        digest = as_digest(digest)
        return self._fetch(str(digest), digest, media_types)

    def get_by_tag(self, tag: str, *, media_types: Sequence[str] | None = None) -> Manifest:
        """The manifest ``tag`` points at (one request instead of a ``HEAD`` and a ``GET``).

        Raises:
            TagUnknownError: the tag does not exist.
            ManifestVerificationError: the bytes do not match the registry's digest.
        """
        return self._fetch(validate_tag(tag), None, media_types)

    def _fetch(
        self, reference: str, digest: Digest | None, media_types: Sequence[str] | None
    ) -> Manifest:
        accepted = list(media_types) if media_types is not None else None
        offered = accepted if accepted else sorted(manifest_media_types())
        response = self._repo.transport.request(
            "GET",
            self._url(reference),
            scopes=self._repo.pull,
            headers={"Accept": accept_header(offered)},
        )

        def missing() -> DistributionError:
            if digest is None:
                return TagUnknownError(reference, self._repo.path)
            return ManifestUnknownRevisionError(self._repo.path, digest)

        if response.status != 200:
            self._repo.fail(response, missing)
        payload = response.body(self._repo.options.max_manifest_size)
        content_type = response.headers.get("Content-Type")
        served = parse_digest_header(response.headers.get("Docker-Content-Digest"))
        actual = Digest.from_bytes(payload, (digest or served or Digest.from_bytes(b"")).algorithm)
        expected = digest or served
        if expected is not None and actual != expected:
            raise ManifestVerificationError(
                [InvalidError(f"the registry served bytes hashing to {actual}, not {expected}")]
            )
        if served is not None and digest is not None and served != digest:
            raise ManifestVerificationError(
                [InvalidError(f"the registry named the manifest {served}, not {digest}")]
            )
        manifest = parse_manifest(
            content_type, payload, max_size=self._repo.options.max_manifest_size
        )
        if accepted is not None:
            bases = {media_type_base(m) for m in accepted}
            if manifest.media_type not in bases:
                raise missing()
        return manifest

    def put(self, manifest: Manifest, *, tag: str | None = None) -> Digest:
        """Push ``manifest``'s exact bytes, by ``tag`` or else by digest.

        Raises:
            ManifestVerificationError: the registry lacks a referenced blob or child.
            TagInvalidFormatError: ``tag`` is malformed.
        """
        if tag is not None:
            validate_tag(tag)
        confirmed = self._put(manifest, tag, {})
        subject = manifest.subject
        if subject is not None and self._repo.options.referrers_fallback and not confirmed:
            self._add_to_fallback(subject.digest, manifest)
        return manifest.digest

    def _put(self, manifest: Manifest, tag: str | None, headers: dict[str, str]) -> bool:
        """``PUT`` the manifest; whether the registry confirmed its subject (``OCI-Subject``).

        Raises:
            _Conflict: a precondition in ``headers`` failed (``412``).
        """
        response = self._repo.transport.request(
            "PUT",
            self._url(tag if tag is not None else manifest.digest),
            scopes=self._repo.push,
            headers={"Content-Type": manifest.media_type, **headers},
            body=manifest.payload(),
        )
        if response.status == 412:
            response.close()
            raise _Conflict()
        if response.status not in (200, 201, 204):
            self._repo.fail(response)
        response.close()
        served = parse_digest_header(response.headers.get("Docker-Content-Digest"))
        if served is not None and served != manifest.digest:
            raise ManifestInvalidError(
                f"the registry stored the manifest as {served}, not {manifest.digest}"
            )
        return bool(response.headers.get("OCI-Subject"))

    def delete(self, digest: Digest | str) -> None:
        """Delete manifest ``digest`` (the registry removes its tags).

        Raises:
            ManifestUnknownRevisionError: no such manifest.
            UnsupportedError: the registry does not delete manifests.
        """
        digest = as_digest(digest)
        response = self._repo.transport.request(
            "DELETE", self._url(digest), scopes=self._repo.delete
        )
        if response.status not in (200, 202, 204):
            if response.status == 405:
                response.close()
                raise UnsupportedError("the registry does not allow deleting manifests")
            self._repo.fail(response, lambda: ManifestUnknownRevisionError(self._repo.path, digest))
        response.close()

    # -- referrers ----------------------------------------------------------------------

    def referrers(
        self, subject: Digest | str, *, artifact_type: str | None = None
    ) -> list[Descriptor]:
        """The manifests whose ``subject`` is ``subject`` (referrers API, else tag schema)."""
        subject = as_digest(subject)
        query = {"artifactType": artifact_type} if artifact_type else None
        response = self._repo.transport.request(
            "GET",
            self._repo.url(f"referrers/{subject}", query),
            scopes=self._repo.pull,
            headers={"Accept": mediatypes.OCI_IMAGE_INDEX},
        )
        if response.status == 200:
            payload = response.body(self._repo.options.max_manifest_size)
            index = parse_manifest(mediatypes.OCI_IMAGE_INDEX, payload)
            found = list(index.references())
            filtered = response.headers.get("OCI-Filters-Applied", "") or ""
            if artifact_type and "artifactType" not in filtered:
                found = [d for d in found if d.artifact_type == artifact_type]
            return found
        if response.status != 404:
            self._repo.fail(response)
        response.close()
        index_manifest = self._fallback_index(subject)
        if index_manifest is None:
            return []
        found = list(index_manifest.references())
        if artifact_type:
            found = [d for d in found if d.artifact_type == artifact_type]
        return found

    def _fallback_index(self, subject: Digest) -> Manifest | None:
        try:
            return self.get_by_tag(fallback_tag(subject), media_types=[mediatypes.OCI_IMAGE_INDEX])
        except (TagUnknownError, ManifestUnknownRevisionError):
            return None
        except DistributionError as exc:
            if "NAME_UNKNOWN" in str(exc) or isinstance(exc, LookupError):
                return None
            raise

    def _add_to_fallback(self, subject: Digest, manifest: Manifest) -> None:
        """Add ``manifest`` to the tag-schema index of ``subject``, keeping others' entries.

        The write is conditional (``If-Match`` on the index read, ``If-None-Match: *``
        when there was none) for registries that honour it. For those that do not (the
        Go registry), the index is read back after the write and once more after a short
        pause, and the entry is added again if a concurrent writer's index replaced it.
        """
        entry = _referrer_descriptor(manifest)
        tag = fallback_tag(subject)
        for _ in range(_FALLBACK_RETRIES):
            current = self._fallback_index(subject)
            entries = list(current.references()) if current is not None else []
            if not any(d.digest == entry.digest for d in entries):
                builder = OCIIndexBuilder()
                for descriptor in [*entries, entry]:
                    builder.append_reference(descriptor)
                condition = (
                    {"If-Match": f'"{current.digest}"'}
                    if current is not None
                    else {"If-None-Match": "*"}
                )
                try:
                    self._put(builder.build(), tag, condition)
                except _Conflict:
                    continue
            if self._has_entry(subject, entry):
                self._repo.transport.sleep(_RECHECK_PAUSE * (1 + random.random()))
                if self._has_entry(subject, entry):
                    return
        raise DistributionError(
            f"could not add {manifest.digest} to the referrers index of {subject}: "
            "it kept being replaced"
        )

    def _has_entry(self, subject: Digest, entry: Descriptor) -> bool:
        index = self._fallback_index(subject)
        return index is not None and any(d.digest == entry.digest for d in index.references())


class _Conflict(Exception):
    """A conditional manifest write failed (``412``): read again and retry."""


def _referrer_descriptor(manifest: Manifest) -> Descriptor:
    described = manifest.describe()
    return Descriptor(
        media_type=described.media_type,
        digest=described.digest,
        size=described.size,
        artifact_type=manifest.artifact_type,
        annotations=described.annotations,
    )


if TYPE_CHECKING:

    def _conforms(service: RemoteManifestService) -> ManifestService:
        return service

    def _refers(service: RemoteManifestService) -> Referrers:
        return service
