"""The manifests of one repository: exact bytes in the global store, revision links.

A manifest is stored byte for byte under its sha256 digest and made part of a repository
by ``_manifests/revisions/<alg>/<hex>/link`` (storage-layout document §4.6, §8); a
manifest pushed by sha512 gets a second revision link under that digest naming the
sha256 one (an alias, as for blobs). ``put``
verifies references first, the way the Go registry (v3) does, and writes content before
links and links before tags.
"""

from __future__ import annotations

import contextlib
import re
import urllib.parse
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from pydistribution import mediatypes
from pydistribution.descriptor import Descriptor
from pydistribution.digest import SUPPORTED_ALGORITHMS, Digest, as_digest
from pydistribution.errors import (
    BlobUnknownError,
    DigestInvalidError,
    ManifestBlobUnknownError,
    ManifestInvalidError,
    ManifestTooLargeError,
    ManifestUnknownRevisionError,
    ManifestVerificationError,
    PathNotFoundError,
    UnsupportedError,
)
from pydistribution.manifest import is_parsed, parse_manifest
from pydistribution.manifest.referrers import referrer_descriptor
from pydistribution.protocols import Manifest
from pydistribution.reference import validate_tag
from pydistribution.storage import _paths
from pydistribution.storage._linkedblobstore import LinkedBlobStore, link_paths
from pydistribution.storage._links import read_link, write_link

if TYPE_CHECKING:
    from pydistribution.protocols import ManifestAliases, ManifestEnumerator, ManifestService
    from pydistribution.storage._context import StorageContext
    from pydistribution.storage._tagstore import TagStore

__all__ = ["ManifestStore"]


class ManifestStore:
    """The ``ManifestService`` of one repository in registry storage."""

    def __init__(
        self, context: StorageContext, name: str, blobs: LinkedBlobStore, tags: TagStore
    ) -> None:
        self._context = context
        self._name = name
        self._blobs = blobs
        self._tags = tags

    def _target(self, digest: Digest) -> Digest | None:
        return self._context.live_revision(self._name, digest)

    def exists(self, digest: Digest | str) -> bool:
        """Whether the revision link and the global blob of ``digest`` both exist."""
        digest = as_digest(digest)
        return self._target(digest) is not None

    def stat(self, digest: Digest | str) -> Descriptor:
        """The size of manifest ``digest`` (media type unknown without reading it).

        Raises:
            ManifestUnknownRevisionError: no such manifest in the repository.
        """
        digest = as_digest(digest)
        target = self._target(digest)
        if target is None:
            raise ManifestUnknownRevisionError(self._name, digest)
        return self._context.blobs.stat_uncached(target)

    def payload(self, digest: Digest | str) -> bytes:
        """The stored bytes of manifest ``digest``, unparsed.

        Raises:
            ManifestUnknownRevisionError: no such manifest in the repository.
            ManifestTooLargeError: the stored bytes are over the manifest size limit
                (refused by their size, without reading them).
        """
        digest = as_digest(digest)
        target = self._target(digest)
        if target is None:
            raise ManifestUnknownRevisionError(self._name, digest)
        cached = self._context.manifests.get(target)
        if cached is not None:
            return cached.payload()
        return self._read(target, digest)

    def _read(self, target: Digest, digest: Digest) -> bytes:
        """The stored bytes of revision ``target`` (asked for as ``digest``)."""
        limit = self._context.options.manifest_size_limit
        try:
            # Sized before it is read: anything planted as a revision may be huge.
            size = self._context.blobs.stat(target).size
            if size > limit:
                raise ManifestTooLargeError(size, limit)
            return self._context.blobs.get(target, limit=limit)
        except BlobUnknownError:
            raise ManifestUnknownRevisionError(self._name, digest) from None

    def get(self, digest: Digest | str, *, media_types: Sequence[str] | None = None) -> Manifest:
        """Manifest ``digest``, recognised from its stored bytes (§8.5).

        Raises:
            ManifestUnknownRevisionError: no such manifest in the repository, or its media
                type is not among ``media_types``.
            ManifestTooLargeError: the stored bytes are over the manifest size limit
                (refused by their size, without reading them).
            ManifestInvalidError: the stored bytes are not a manifest pydistribution reads.
            SchemaV1UnsupportedError: the stored manifest is Docker schema 1.
        """
        digest = as_digest(digest)
        target = self._target(digest)
        if target is None:
            raise ManifestUnknownRevisionError(self._name, digest)
        # Whether the repository has it was asked of storage just now; what it is may
        # come from memory, since bytes never change under their digest.
        manifest = self._context.manifests.get(target)
        if manifest is None:
            payload = self._read(target, digest)
            limit = self._context.options.manifest_size_limit
            manifest = parse_manifest(None, payload, max_size=limit)
            self._context.manifests.put(target, manifest, len(payload))
        if media_types is not None:
            accepted = {mediatypes.media_type_base(m) for m in media_types}
            if manifest.media_type not in accepted:
                raise ManifestUnknownRevisionError(self._name, digest)
        return manifest

    def put(self, manifest: Manifest, *, tag: str | None = None) -> Digest:
        """Verify ``manifest``, store its exact bytes, link it, and tag it if asked.

        The stored bytes are ``manifest.payload()``; they are parsed again with the schema
        of ``manifest.media_type``, and what they reference is verified, so an object
        whose methods disagree with its bytes cannot store a manifest that names missing
        content.

        Raises:
            TagInvalidFormatError: ``tag`` is malformed (checked before anything is written).
            ManifestTooLargeError: the payload is over the size limit.
            ManifestInvalidError: the payload is not a manifest of ``manifest.media_type``.
            ManifestVerificationError: references are missing or layer URLs are refused;
                ``causes`` lists every problem (or the payload's fields are malformed).
            SchemaV1UnsupportedError: the media type is Docker schema 1.
        """
        if tag is not None:
            validate_tag(tag)
        payload = manifest.payload()
        limit = self._context.options.manifest_size_limit
        # The bytes are what is stored, so the bytes are what is checked: parsed with the
        # schema of the media type the object claims, whatever its own methods say. An
        # object that parse_manifest built from these bytes is that parse already (the
        # server's PUT parses the body it received): parsing again would cost as much.
        if len(payload) > limit:
            raise ManifestTooLargeError(len(payload), limit)
        if is_parsed(manifest):
            parsed = manifest
        else:
            parsed = parse_manifest(manifest.media_type, payload, max_size=limit, detect=False)
        causes = self._verify(parsed)
        if causes:
            raise ManifestVerificationError(causes)
        stored = self._context.blobs.put(payload)
        write_link(
            self._context.driver, _paths.revision_link(self._name, stored.digest), stored.digest
        )
        if tag is not None:
            self._tags.tag(tag, stored)
        return stored.digest

    def add_alias(self, digest: Digest | str, alias: Digest | str) -> None:
        """Make stored manifest ``digest`` reachable by ``alias`` (sha512) as well.

        Writes ``_manifests/revisions/<alias alg>/<hex>/link`` naming the sha256 digest,
        where the Go layout keeps a revision of that digest and as the Go registry links
        a blob pushed by sha512 (its reads follow such a link to the sha256 target). The
        bytes are hashed again with the alias's algorithm before the link is written.

        Raises:
            ManifestUnknownRevisionError: ``digest`` is not a manifest of the repository.
            DigestInvalidError: ``alias`` is not the digest of that manifest's bytes.
        """
        digest, alias = as_digest(digest), as_digest(alias)
        target = self._target(digest)
        if target is None:
            raise ManifestUnknownRevisionError(self._name, digest)
        if alias == target:
            return
        if Digest.from_bytes(self.payload(target), alias.algorithm) != alias:
            raise DigestInvalidError(str(alias), "not the digest of the manifest's bytes")
        write_link(self._context.driver, _paths.revision_link(self._name, alias), target)

    def delete(self, digest: Digest | str) -> None:
        """Untag every tag on manifest ``digest``, then remove it under all its digests.

        ``digest`` may be the sha256 digest or an alias (see `add_alias`); either
        way the manifest goes under every name, so no alias keeps serving it. The global
        bytes stay until garbage collection, as in Go. The tags go first, then the alias
        links, then the sha256 revision link: a delete cut short leaves the manifest with
        fewer tags or names, never a tag or an alias without its manifest.

        Raises:
            UnsupportedError: deletion is disabled.
            ManifestUnknownRevisionError: no such manifest in the repository.
        """
        digest = as_digest(digest)
        if not self._context.options.delete_enabled:
            raise UnsupportedError("deletion is disabled")
        target = self._target(digest)
        if target is None:
            raise ManifestUnknownRevisionError(self._name, digest)
        # Tags first: a delete cut short between the steps must not leave a tag naming a
        # manifest that is gone (which an untagged re-push would bring back).
        self._tags.remove_pointing_at(target)
        for alias in self._aliases(target):
            path = _paths.revision_link(self._name, alias)
            if read_link(self._context.driver, path) == target:
                with contextlib.suppress(PathNotFoundError):
                    self._context.driver.delete(path)
        try:
            self._context.driver.delete(_paths.revision_link(self._name, target))
        except PathNotFoundError:
            if digest == target:
                raise ManifestUnknownRevisionError(self._name, digest) from None

    def _aliases(self, target: Digest) -> list[Digest]:
        """The digests under other algorithms an alias of manifest ``target`` would have."""
        limit = self._context.options.manifest_size_limit
        try:
            if self._context.blobs.stat(target).size > limit:
                return []  # never aliased: add_alias reads the bytes within the limit
            payload = self._context.blobs.get(target, limit=limit)
        except BlobUnknownError:
            return []
        return [
            Digest.from_bytes(payload, algorithm)
            for algorithm in SUPPORTED_ALGORITHMS
            if algorithm != target.algorithm
        ]

    def enumerate(self) -> Iterator[Digest]:
        """Every manifest of the repository whose revision link and blob exist."""
        for digest, path in link_paths(self._context.driver, _paths.revisions_dir(self._name)):
            target = read_link(self._context.driver, path)
            if target is not None and self._context.blobs.exists(target):
                yield digest

    def referrers(
        self, subject: Digest | str, *, artifact_type: str | None = None
    ) -> list[Descriptor]:
        """The manifests whose ``subject`` is ``subject`` (OCI 1.1), sorted by digest.

        Derived by scanning the repository's manifests: nothing is added to the layout,
        so the Go registry reads the same root unchanged, and the answer is right even for
        manifests the Go registry wrote or deleted. Unreadable manifests are skipped.
        """
        subject = as_digest(subject)
        found: list[Descriptor] = []
        for digest in self.enumerate():
            try:
                manifest = self.get(digest)
            except (ManifestInvalidError, ManifestUnknownRevisionError, UnsupportedError):
                continue
            if manifest.subject is None or manifest.subject.digest != subject:
                continue
            if artifact_type is not None and manifest.artifact_type != artifact_type:
                continue
            found.append(referrer_descriptor(manifest))
        return sorted(found, key=lambda d: str(d.digest))

    # -- verification (storage-layout document §8.6, v3 rules) --------------------------

    def _verify(self, manifest: Manifest) -> list[Exception]:
        options = self._context.options
        if not options.verify_references:
            return []
        if mediatypes.is_index(manifest.media_type):
            return self._verify_index(manifest)
        causes: list[Exception] = []
        for reference in manifest.references():
            causes.extend(self._verify_layer(reference))
        return causes

    def _verify_index(self, manifest: Manifest) -> list[Exception]:
        options = self._context.options
        if options.index_validation == "none":
            return []
        wanted = {(p.os, p.architecture) for p in options.index_platforms}
        causes: list[Exception] = []
        for child in manifest.references():
            if options.index_validation == "list":
                platform = child.platform
                # A child without a platform does not match (Go crashes here).
                if platform is None or (platform.os, platform.architecture) not in wanted:
                    continue
            if not self.exists(child.digest):
                causes.append(ManifestBlobUnknownError(child.digest))
        return causes

    def _verify_layer(self, reference: Descriptor) -> list[Exception]:
        causes = self._url_problems(reference)
        foreign = mediatypes.is_foreign_layer(reference.media_type)
        if foreign and reference.urls and not causes:
            # Fetched from its URLs by clients: need not exist here.
            return []
        docker_foreign = reference.media_type == mediatypes.DOCKER_FOREIGN_LAYER
        if docker_foreign and not reference.urls:
            causes.append(ManifestInvalidError(f"missing URL on foreign layer {reference.digest}"))
        if causes or not self._blob_linked(reference.digest):
            causes.append(ManifestBlobUnknownError(reference.digest))
        return causes

    def _blob_linked(self, digest: Digest) -> bool:
        try:
            self._blobs.stat(digest)
        except BlobUnknownError:
            return False
        return True

    def _url_problems(self, reference: Descriptor) -> list[Exception]:
        options = self._context.options
        problems: list[Exception] = []
        for url in reference.urls:
            reason = _url_refusal(url, options.url_allow, options.url_deny)
            if reason:
                problems.append(
                    ManifestInvalidError(f"invalid URL on layer {reference.digest}: {reason}")
                )
        return problems


def _url_refusal(url: str, allow: tuple[str, ...], deny: tuple[str, ...]) -> str:
    """Why ``url`` is refused, or ``""`` when it is acceptable."""
    try:
        parsed = urllib.parse.urlsplit(url)
    except ValueError:
        return f"{url!r} does not parse"
    if parsed.scheme not in {"http", "https"}:
        return f"{url!r} is not http or https"
    if parsed.fragment:
        return f"{url!r} has a fragment"
    if not allow and not deny:
        # Go's default allow pattern matches only the empty string: every URL is refused.
        return f"{url!r} is not allowed (no URL is allowed by default)"
    if allow and not re.search("|".join(f"(?:{p})" for p in allow), url):
        return f"{url!r} is not allowed"
    if deny and re.search("|".join(f"(?:{p})" for p in deny), url):
        return f"{url!r} is denied"
    return ""


if TYPE_CHECKING:

    def _fits_service(store: ManifestStore) -> ManifestService:
        return store

    def _fits_aliases(store: ManifestStore) -> ManifestAliases:
        return store

    def _fits_enumerator(store: ManifestStore) -> ManifestEnumerator:
        return store
