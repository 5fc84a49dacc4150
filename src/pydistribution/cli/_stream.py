"""Streaming a blob to standard output or a file, verified against its digest."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import BinaryIO

from pydistribution.digest import Digest, Digester, hash_stream
from pydistribution.errors import BlobInvalidDigestError
from pydistribution.protocols import Repository

__all__ = ["write_blob"]


def _copy_verified(source: BinaryIO, sink: BinaryIO, digest: Digest) -> int:
    digester = Digester(digest.algorithm)
    size = hash_stream(source, [digester], sink=sink.write)
    if digester.digest() != digest:
        raise BlobInvalidDigestError(digest, f"the stored bytes hash to {digester.digest()}")
    return size


def write_blob(repository: Repository, digest: Digest, output: str | None) -> int:
    """Stream blob ``digest`` to ``output`` (a file path; ``None`` or ``-``: stdout).

    The bytes are hashed on the way: a file is written beside its final name and moved
    there only when they match ``digest``, so a failed or corrupt read leaves no file.
    Returns the number of bytes written.

    Raises:
        BlobUnknownError: the blob is not in the repository.
        BlobInvalidDigestError: the stored bytes do not match ``digest``.
        OSError: the file cannot be written.
    """
    with repository.blobs().open(digest) as source:
        if output is None or output == "-":
            size = _copy_verified(source, sys.stdout.buffer, digest)
            sys.stdout.buffer.flush()
            return size
        final = Path(output)
        handle, temp = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as sink:
                size = _copy_verified(source, sink, digest)
            os.replace(temp, final)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        return size
