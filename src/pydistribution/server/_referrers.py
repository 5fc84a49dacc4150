"""``GET /v2/<name>/referrers/<digest>``: the OCI 1.1 referrers API.

Answers an OCI image index listing the manifests whose ``subject`` is ``<digest>``,
filtered by ``artifactType`` when asked (and then saying so in ``OCI-Filters-Applied``).
A subject nobody refers to gives an empty index, not 404. A namespace whose manifest
service cannot list referrers answers 404, which tells clients to fall back to the
spec's tag scheme.
"""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pydistribution.descriptor import Descriptor
from pydistribution.errcode import ErrorCode
from pydistribution.mediatypes import OCI_IMAGE_INDEX
from pydistribution.protocols import Referrers
from pydistribution.server._context import ServerContext, name_of, parse_digest
from pydistribution.server._errors import endpoint, error_response

__all__ = ["routes"]


def routes(ctx: ServerContext) -> list[Route]:
    """The referrers route."""

    async def referrers(request: Request) -> Response:
        name = name_of(request)
        subject = parse_digest(request.path_params["digest"])
        artifact_type = request.query_params.get("artifactType") or None

        def find() -> list[Descriptor] | None:
            manifests = ctx.repository(name).manifests()
            if not isinstance(manifests, Referrers):
                return None
            return manifests.referrers(subject, artifact_type=artifact_type)

        found = await ctx.run(find)
        if found is None:
            return error_response(
                ErrorCode.UNSUPPORTED, "this registry does not list referrers", status=404
            )
        index = {
            "schemaVersion": 2,
            "mediaType": OCI_IMAGE_INDEX,
            "manifests": [descriptor.to_json() for descriptor in found],
        }
        headers = {"OCI-Filters-Applied": "artifactType"} if artifact_type else {}
        return Response(json.dumps(index).encode(), headers=headers, media_type=OCI_IMAGE_INDEX)

    return [Route("/v2/{name:path}/referrers/{digest}", endpoint(referrers), methods=["GET"])]
