"""Manifest routes: ``GET``, ``HEAD``, ``PUT`` and ``DELETE /v2/<name>/manifests/<reference>``.

``<reference>`` is a tag or a digest. Reads answer with the exact stored bytes. Content
negotiation follows the Go registry (v3): an OCI manifest or index is served only to a
client whose ``Accept`` names its type; a Docker manifest list asked for by tag by a
client that does not accept lists is answered with its linux/amd64 child instead.
"""

from __future__ import annotations

from collections.abc import Set
from typing import Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pydistribution.digest import Digest
from pydistribution.errcode import ErrorCode
from pydistribution.errors import ManifestTooLargeError
from pydistribution.manifest import parse_manifest
from pydistribution.mediatypes import (
    DOCKER_MANIFEST_LIST,
    DOCKER_MANIFEST_SCHEMA2,
    OCI_IMAGE_INDEX,
    OCI_IMAGE_MANIFEST,
    media_type_base,
)
from pydistribution.protocols import Manifest, ManifestAliases
from pydistribution.server._context import (
    ServerContext,
    name_of,
    parse_reference_part,
    prefix,
)
from pydistribution.server._errors import endpoint, error_response, response_for
from pydistribution.server._streams import content_length, read_limited

__all__ = ["accepted_media_types", "routes"]

# The platform a manifest list is reduced to for clients that cannot read lists (Go's).
_DEFAULT_OS: Final = "linux"
_DEFAULT_ARCHITECTURE: Final = "amd64"


def accepted_media_types(request: Request) -> Set[str]:
    """Every media type named by the request's ``Accept`` headers (parameters dropped)."""
    accepted: set[str] = set()
    for value in request.headers.getlist("accept"):
        for item in value.split(","):
            media_type = media_type_base(item).lower()
            if media_type:
                accepted.add(media_type)
    return accepted


def _default_child(manifest: Manifest) -> Digest | None:
    for child in manifest.references():
        platform = child.platform
        if (
            platform is not None
            and platform.os == _DEFAULT_OS
            and platform.architecture == _DEFAULT_ARCHITECTURE
        ):
            return child.digest
    return None


def _etag_matches(request: Request, digest: Digest) -> bool:
    wanted = str(digest)
    return any(
        value.strip() in {wanted, f'"{wanted}"'}
        for value in request.headers.getlist("if-none-match")
    )


def _digest_of(payload: bytes, algorithm: str) -> Digest:
    return Digest.from_bytes(payload, algorithm)


def routes(ctx: ServerContext) -> list[Route]:
    """The manifest routes."""

    async def get_manifest(request: Request) -> Response:
        name = name_of(request)
        reference = parse_reference_part(request.path_params["reference"])
        accepted = accepted_media_types(request)

        def fetch() -> tuple[Digest, Manifest] | Response:
            repository = ctx.repository(name)
            if isinstance(reference, Digest):
                digest = reference
            else:
                digest = repository.tags().get(reference).digest
            if _etag_matches(request, digest):
                return Response(status_code=304, headers={"ETag": f'"{digest}"'})
            manifest = repository.manifests().get(digest)
            media_type = manifest.media_type
            if media_type == OCI_IMAGE_MANIFEST and media_type not in accepted:
                return error_response(
                    ErrorCode.MANIFEST_UNKNOWN,
                    "OCI manifest found, but the Accept header does not include its type",
                )
            if media_type == OCI_IMAGE_INDEX and media_type not in accepted:
                return error_response(
                    ErrorCode.MANIFEST_UNKNOWN,
                    "OCI index found, but the Accept header does not include its type",
                )
            if (
                media_type == DOCKER_MANIFEST_LIST
                and isinstance(reference, str)
                and media_type not in accepted
            ):
                child = _default_child(manifest)
                if child is None:
                    return error_response(
                        ErrorCode.MANIFEST_UNKNOWN,
                        "manifest list without a linux/amd64 image, and the Accept header"
                        " does not include manifest lists",
                    )
                manifest = repository.manifests().get(child)
                if (
                    manifest.media_type == DOCKER_MANIFEST_SCHEMA2
                    and DOCKER_MANIFEST_SCHEMA2 not in accepted
                ):
                    return error_response(
                        ErrorCode.MANIFEST_INVALID, "schema 2 manifest not supported by client"
                    )
                digest = child
            return digest, manifest

        fetched = await ctx.read(fetch)
        if isinstance(fetched, Response):
            return fetched
        digest, manifest = fetched
        payload = manifest.payload()
        headers = {
            "Content-Length": str(len(payload)),
            "Docker-Content-Digest": str(digest),
            "ETag": f'"{digest}"',
        }
        body = b"" if request.method == "HEAD" else payload
        return Response(body, headers=headers, media_type=manifest.media_type)

    async def put_manifest(request: Request) -> Response:
        name = name_of(request)
        reference = parse_reference_part(request.path_params["reference"])
        limit = ctx.options.manifest_size_limit
        declared = content_length(request)
        if declared is not None and declared > limit:
            return response_for(ManifestTooLargeError(declared, limit))
        payload = await read_limited(request, limit)
        if payload is None:
            return response_for(ManifestTooLargeError(limit + 1, limit))
        if declared is not None and len(payload) != declared:
            return error_response(
                ErrorCode.SIZE_INVALID,
                f"Content-Length is {declared} but {len(payload)} bytes arrived",
            )
        content_type = request.headers.get("content-type")

        def store() -> tuple[Digest, Manifest] | Response:
            manifest = parse_manifest(content_type, payload, max_size=limit)
            if isinstance(reference, Digest):
                if _digest_of(payload, reference.algorithm) != reference:
                    return error_response(
                        ErrorCode.DIGEST_INVALID,
                        "the manifest does not match the digest in the path",
                        {"digest": str(reference)},
                    )
                tag = None
            else:
                tag = reference
            manifests = ctx.repository(name).manifests()
            # A sha512 (or sha384) digest in the path names the manifest by an alias.
            alias = reference if isinstance(reference, Digest) else None
            if alias == manifest.digest:
                alias = None
            if alias is not None and not isinstance(manifests, ManifestAliases):
                # What the Go registry answers to any digest but the sha256 one.
                return error_response(
                    ErrorCode.DIGEST_INVALID,
                    "this storage addresses manifests by their sha256 digest only",
                    {"digest": str(reference)},
                )
            digest = manifests.put(manifest, tag=tag)
            if alias is not None and isinstance(manifests, ManifestAliases):
                manifests.add_alias(digest, alias)
                digest = alias
            return digest, manifest

        stored = await ctx.run(store)
        if isinstance(stored, Response):
            return stored
        digest, manifest = stored
        headers = {
            "Location": f"{prefix(request)}/v2/{name}/manifests/{digest}",
            "Docker-Content-Digest": str(digest),
            "Content-Length": "0",
        }
        if manifest.subject is not None:
            headers["OCI-Subject"] = str(manifest.subject.digest)
        return Response(status_code=201, headers=headers)

    async def delete_manifest(request: Request) -> Response:
        name = name_of(request)
        reference = parse_reference_part(request.path_params["reference"])

        def delete() -> None:
            repository = ctx.repository(name)
            if isinstance(reference, Digest):
                repository.manifests().delete(reference)
            else:
                repository.tags().untag(reference)

        await ctx.run(delete)
        return Response(status_code=202, headers={"Content-Length": "0"})

    path = "/v2/{name:path}/manifests/{reference}"
    return [
        Route(path, endpoint(get_manifest), methods=["GET", "HEAD"]),
        Route(path, endpoint(put_manifest), methods=["PUT"]),
        Route(path, endpoint(delete_manifest), methods=["DELETE"]),
    ]
