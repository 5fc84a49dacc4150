"""A tiny client for the registry HTTP API (distribution spec v2), for interop tests.

It speaks to the Go registry (or any registry) on 127.0.0.1 with ``http.client``: no
proxies, no retries, no auth, one connection per request, and every call checks the
status it expects. It is test code for pushing fixtures and reading them back, not
pydistribution's client.
"""

from __future__ import annotations

import http.client
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from pydistribution import mediatypes as mt

from .images import Blob, Image, sha256

MANIFEST_TYPES = (
    mt.DOCKER_MANIFEST_SCHEMA2,
    mt.DOCKER_MANIFEST_LIST,
    mt.OCI_IMAGE_MANIFEST,
    mt.OCI_IMAGE_INDEX,
)
_NEXT_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


@dataclass(frozen=True)
class Response:
    """One HTTP response, body read completely."""

    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def header(self, name: str) -> str | None:
        """A response header (case-insensitive), or None."""
        return self.headers.get(name)

    def json(self) -> object:
        return json.loads(self.body)


class RegistryError(Exception):
    """The registry answered a status the caller did not expect."""

    def __init__(self, method: str, target: str, response: Response) -> None:
        self.response = response
        self.status = response.status
        self.codes = _error_codes(response.body)
        super().__init__(
            f"{method} {target}: {response.status} {response.body[:500].decode(errors='replace')}"
        )


def _error_codes(body: bytes) -> list[str]:
    try:
        errors = json.loads(body)["errors"]
        return [str(error["code"]) for error in errors]
    except (ValueError, KeyError, TypeError):
        return []


class RegistryClient:
    """Push and read blobs, manifests, tags and the catalog of a plain-HTTP registry."""

    def __init__(self, base_url: str, *, timeout: float = 30.0) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or parts.hostname != "127.0.0.1" or parts.port is None:
            raise ValueError(f"only http://127.0.0.1:PORT is allowed, not {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self._port = parts.port
        self._timeout = timeout

    # -- plumbing ------------------------------------------------------------------------

    def request(
        self,
        method: str,
        target: str,
        *,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
        expect: Iterable[int] = (200,),
    ) -> Response:
        """Send one request to ``target`` (a path, or an absolute URL on this registry).

        Raises:
            RegistryError: the status is not one of ``expect``.
        """
        target = self._path(target)
        conn = http.client.HTTPConnection("127.0.0.1", self._port, timeout=self._timeout)
        try:
            all_headers = {"Content-Length": str(len(body)), **(headers or {})}
            conn.request(method, target, body=body, headers=all_headers)
            raw = conn.getresponse()
            response = Response(raw.status, raw.headers, raw.read())
        finally:
            conn.close()
        if response.status not in tuple(expect):
            raise RegistryError(method, target, response)
        return response

    def _path(self, target: str) -> str:
        if target.startswith("/"):
            return target
        parts = urlsplit(target)
        if f"{parts.scheme}://{parts.netloc}" != self.base_url:
            raise ValueError(f"{target!r} is not on {self.base_url}")
        return parts.path + (f"?{parts.query}" if parts.query else "")

    @staticmethod
    def _with_query(location: str, **params: str) -> str:
        return location + ("&" if "?" in location else "?") + urlencode(params)

    def ping(self) -> Response:
        """``GET /v2/``: 200 on a registry without auth."""
        return self.request("GET", "/v2/")

    # -- blobs ---------------------------------------------------------------------------

    def start_upload(self, repo: str) -> str:
        """``POST /v2/<repo>/blobs/uploads/``; the upload's location URL."""
        response = self.request("POST", f"/v2/{repo}/blobs/uploads/", expect=(202,))
        return _required(response, "Location")

    def upload_id(self, location: str) -> str:
        """The upload id at the end of an upload location's path."""
        return urlsplit(location).path.rstrip("/").rsplit("/", 1)[1]

    def patch_upload(self, location: str, chunk: bytes, *, offset: int) -> str:
        """``PATCH`` one chunk at ``offset``; the next location URL."""
        response = self.request(
            "PATCH",
            location,
            body=chunk,
            headers={
                "Content-Type": "application/octet-stream",
                "Content-Range": f"{offset}-{offset + len(chunk) - 1}",
            },
            expect=(202,),
        )
        return _required(response, "Location")

    def finish_upload(self, location: str, digest: str, data: bytes = b"") -> str:
        """``PUT <location>?digest=`` with the last bytes (maybe none); the blob's digest."""
        response = self.request(
            "PUT",
            self._with_query(location, digest=digest),
            body=data,
            headers={"Content-Type": "application/octet-stream"},
            expect=(201,),
        )
        return _required(response, "Docker-Content-Digest")

    def push_blob(self, repo: str, data: bytes) -> str:
        """Monolithic upload: ``POST`` then one ``PUT ?digest=`` with all bytes; the digest."""
        return self.finish_upload(self.start_upload(repo), sha256(data), data)

    def push_blob_chunked(self, repo: str, data: bytes, *, chunk_size: int = 1024) -> str:
        """Chunked upload: ``POST``, one ``PATCH`` per chunk, empty ``PUT ?digest=``."""
        location = self.start_upload(repo)
        for offset in range(0, len(data), chunk_size):
            location = self.patch_upload(
                location, data[offset : offset + chunk_size], offset=offset
            )
        return self.finish_upload(location, sha256(data))

    def mount_blob(self, repo: str, digest: str, from_repo: str) -> Response:
        """``POST /v2/<repo>/blobs/uploads/?mount=&from=``: 201 if mounted, 202 if not."""
        query = urlencode({"mount": digest, "from": from_repo})
        return self.request("POST", f"/v2/{repo}/blobs/uploads/?{query}", expect=(201, 202))

    def get_blob(self, repo: str, digest: str) -> Response:
        return self.request("GET", f"/v2/{repo}/blobs/{digest}")

    def head_blob(self, repo: str, digest: str, *, expect: Iterable[int] = (200,)) -> Response:
        return self.request("HEAD", f"/v2/{repo}/blobs/{digest}", expect=expect)

    # -- manifests -----------------------------------------------------------------------

    def put_manifest(self, repo: str, reference: str, data: bytes, media_type: str) -> str:
        """``PUT /v2/<repo>/manifests/<tag or digest>``; the digest the registry reports."""
        response = self.request(
            "PUT",
            f"/v2/{repo}/manifests/{reference}",
            body=data,
            headers={"Content-Type": media_type},
            expect=(201,),
        )
        return _required(response, "Docker-Content-Digest")

    def get_manifest(
        self, repo: str, reference: str, *, accept: Iterable[str] = MANIFEST_TYPES
    ) -> Response:
        return self.request(
            "GET", f"/v2/{repo}/manifests/{reference}", headers={"Accept": ", ".join(accept)}
        )

    def head_manifest(
        self,
        repo: str,
        reference: str,
        *,
        accept: Iterable[str] = MANIFEST_TYPES,
        expect: Iterable[int] = (200,),
    ) -> Response:
        return self.request(
            "HEAD",
            f"/v2/{repo}/manifests/{reference}",
            headers={"Accept": ", ".join(accept)},
            expect=expect,
        )

    def delete_manifest(self, repo: str, digest: str) -> Response:
        """``DELETE /v2/<repo>/manifests/<digest>``: 202 when deleted."""
        return self.request("DELETE", f"/v2/{repo}/manifests/{digest}", expect=(202,))

    def push_image(self, repo: str, image: Image, *, tag: str | None = None) -> str:
        """Push config and layers, then the manifest by ``tag`` (or by digest); its digest."""
        for blob in image.blobs:
            self.push_blob(repo, blob.data)
        return self.push_manifest(repo, image.manifest, tag=tag)

    def push_manifest(self, repo: str, manifest: Blob, *, tag: str | None = None) -> str:
        return self.put_manifest(repo, tag or manifest.digest, manifest.data, manifest.media_type)

    # -- listings ------------------------------------------------------------------------

    def tags(self, repo: str) -> list[str]:
        """``GET /v2/<repo>/tags/list``: the tags, in the registry's order."""
        body = self.request("GET", f"/v2/{repo}/tags/list").json()
        assert isinstance(body, dict)
        return list(body["tags"] or [])

    def catalog_page(
        self, *, n: int | None = None, last: str | None = None, url: str | None = None
    ) -> tuple[list[str], str | None]:
        """One page of ``GET /v2/_catalog`` and the ``Link rel="next"`` target, if any."""
        if url is None:
            params = {k: str(v) for k, v in (("n", n), ("last", last)) if v is not None}
            url = "/v2/_catalog" + (f"?{urlencode(params)}" if params else "")
        response = self.request("GET", url)
        body = response.json()
        assert isinstance(body, dict)
        link = response.header("Link")
        match = _NEXT_LINK.search(link) if link else None
        return list(body["repositories"]), (match.group(1) if match else None)

    def catalog_pages(self, *, n: int | None = None, limit: int = 1000) -> list[list[str]]:
        """Every catalog page, following ``Link`` headers from the first one."""
        names, next_url = self.catalog_page(n=n)
        pages = [names]
        while next_url is not None:
            if len(pages) >= limit:
                raise AssertionError(f"more than {limit} catalog pages")
            names, next_url = self.catalog_page(url=next_url)
            pages.append(names)
        return pages

    def catalog_by_cursor(self, *, n: int, limit: int = 1000) -> list[list[str]]:
        """Every catalog page, passing the previous page's last name as ``last``.

        Ignores ``Link`` headers; stops after an empty or short page.
        """
        pages = [self.catalog_page(n=n)[0]]
        while len(pages[-1]) == n and n > 0:
            if len(pages) >= limit:
                raise AssertionError(f"more than {limit} catalog pages")
            pages.append(self.catalog_page(n=n, last=pages[-1][-1])[0])
        return pages


def _required(response: Response, header: str) -> str:
    value = response.header(header)
    if value is None:
        raise AssertionError(f"response {response.status} has no {header} header")
    return value
