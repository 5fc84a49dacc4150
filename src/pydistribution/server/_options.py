"""Options of the HTTP server: thread limit, manifest size limit, I/O sizes, catalog pages."""

from __future__ import annotations

from typing import Final

import attrs

__all__ = ["DEFAULT_MANIFEST_SIZE_LIMIT", "ServerOptions"]

DEFAULT_MANIFEST_SIZE_LIMIT: Final = 4 * 1024 * 1024
"""The largest manifest body the Go registry accepts (4 MiB)."""


@attrs.frozen(kw_only=True)
class ServerOptions:
    """How the app created by ``create_app`` behaves.

    Attributes:
        max_threads: the most storage calls running at once in worker threads; further
            requests wait for a free thread instead of piling up.
        manifest_size_limit: manifest bodies over this many bytes are answered 413
            before they are read whole.
        io_chunk_size: request bodies are handed to the blob writer, and blobs are read
            for responses, in pieces of about this many bytes (fewer thread hops than
            the small pieces an ASGI server delivers).
        catalog_max_entries: the page size of ``/v2/_catalog`` when the client gives no
            ``n``, and the largest page it gets when it asks for more (Go:
            ``catalog.maxentries``).
        inline_reads: run the small reads of the hot routes (a manifest or tag lookup, a
            blob's size, a tag list) on the event loop rather than in a worker thread.
            Only for storage whose reads are local and quick (the filesystem and
            in-memory drivers), where the hop to a thread and back costs more than the
            read itself; ``serve`` turns it on for those. Writes and blob bodies always
            go through worker threads.
        chunk_min_length: announced to clients in ``OCI-Chunk-Min-Length`` when an upload
            session starts, for storage that wants chunks of at least this many bytes
            (all but the last); ``None`` announces nothing.
    """

    max_threads: int = attrs.field(default=40, validator=attrs.validators.gt(0))
    manifest_size_limit: int = attrs.field(
        default=DEFAULT_MANIFEST_SIZE_LIMIT, validator=attrs.validators.gt(0)
    )
    io_chunk_size: int = attrs.field(default=1 << 20, validator=attrs.validators.gt(0))
    catalog_max_entries: int = attrs.field(default=1000, validator=attrs.validators.gt(0))
    inline_reads: bool = False
    chunk_min_length: int | None = attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.gt(0))
    )
