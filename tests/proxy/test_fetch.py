"""`TeeReader` alone: when the caller gets the last piece, and what ``close`` waits for.

The upstream is a byte stream and the local storage an in-memory registry whose upload
sessions can hold their commit, so that each ordering is observed, not timed.
"""

from __future__ import annotations

import io
import logging
import os
import threading
from collections.abc import Iterator

import pytest
from typing_extensions import Buffer

from pydistribution import mediatypes
from pydistribution.descriptor import Descriptor
from pydistribution.digest import Digest
from pydistribution.errors import BlobInvalidDigestError, DistributionError
from pydistribution.protocols import BlobStore, BlobWriter, HashingBlobWriter
from pydistribution.proxy._fetch import TeeReader
from pydistribution.storage import Registry
from pydistribution.storage.driver.inmemory import InMemoryDriver

from .conftest import is_stored

DATA = os.urandom(3 * 1024 * 1024 + 17)


class HeldCommit:
    """A local upload session whose ``commit`` waits until `release` (and may then fail)."""

    def __init__(self, writer: BlobWriter, *, fail: bool = False) -> None:
        self._writer = writer
        self._fail = fail
        self.commit_started = threading.Event()
        self.released = threading.Event()
        self.commits = 0

    def release(self) -> None:
        self.released.set()

    def write(self, data: Buffer) -> int:
        return self._writer.write(data)

    def commit(self, provisional: Descriptor) -> Descriptor:
        self.commits += 1
        self.commit_started.set()
        assert self.released.wait(30)
        if self._fail:
            raise DistributionError("the disk is full")
        return self._writer.commit(provisional)

    def cancel(self) -> None:
        self._writer.cancel()


class HashingHeldCommit(HeldCommit):
    """The same, telling the digest of what it was given (as registry storage does)."""

    def written_digest(self) -> Digest | None:
        assert isinstance(self._writer, HashingBlobWriter)
        return self._writer.written_digest()


@pytest.fixture
def blobs() -> BlobStore:
    return Registry(InMemoryDriver()).repository("team/app").blobs()


def _descriptor(data: bytes) -> Descriptor:
    return Descriptor(
        media_type=mediatypes.OCTET_STREAM, digest=Digest.from_bytes(data), size=len(data)
    )


class Done:
    def __init__(self) -> None:
        self.calls: list[Descriptor | None] = []
        self.called = threading.Event()

    def __call__(self, committed: Descriptor | None) -> None:
        self.calls.append(committed)
        self.called.set()


def _tee(
    blobs: BlobStore, writer: HeldCommit, done: Done, data: bytes = DATA, served: bytes = DATA
) -> TeeReader:
    return TeeReader(_descriptor(data), io.BytesIO(served), writer, done)  # type: ignore[arg-type]  # a writer of the parts TeeReader uses


def _read_all(reader: TeeReader) -> Iterator[bytes]:
    while piece := reader.read(1 << 20):
        yield piece


def test_the_last_piece_comes_once_the_digest_matches_before_the_commit_ends(
    blobs: BlobStore,
) -> None:
    writer = HashingHeldCommit(blobs.create())
    done = Done()
    reader = _tee(blobs, writer, done)
    assert b"".join(_read_all(reader)) == DATA  # while the commit is held
    assert writer.commit_started.wait(30)
    assert not done.calls
    assert not is_stored(blobs, Digest.from_bytes(DATA))
    closing = threading.Thread(target=reader.close)
    closing.start()
    closing.join(0.2)
    assert closing.is_alive()  # close waits for the commit
    writer.release()
    closing.join(30)
    assert not closing.is_alive()
    assert done.calls == [_descriptor(DATA)]
    assert blobs.get(Digest.from_bytes(DATA)) == DATA


def test_without_the_sessions_digest_the_last_piece_waits_for_the_commit(
    blobs: BlobStore,
) -> None:
    writer = HeldCommit(blobs.create())
    done = Done()
    reader = _tee(blobs, writer, done)
    pieces: list[bytes] = []
    reading = threading.Thread(target=lambda: pieces.extend(_read_all(reader)))
    reading.start()
    assert writer.commit_started.wait(30)
    reading.join(0.2)
    assert reading.is_alive()  # the last piece is held until the commit verified it
    assert len(b"".join(pieces)) < len(DATA)
    writer.release()
    reading.join(30)
    assert b"".join(pieces) == DATA
    assert done.calls == [_descriptor(DATA)]
    reader.close()
    assert blobs.get(Digest.from_bytes(DATA)) == DATA


def test_wrong_bytes_fail_the_last_read_and_are_never_committed(blobs: BlobStore) -> None:
    wrong = bytes(reversed(DATA))
    writer = HashingHeldCommit(blobs.create())
    writer.release()
    done = Done()
    reader = _tee(blobs, writer, done, data=DATA, served=wrong)
    pieces: list[bytes] = []
    with pytest.raises(BlobInvalidDigestError, match="hashes to"):
        pieces.extend(_read_all(reader))
    received = b"".join(pieces)
    assert received == wrong[: len(received)]
    assert len(received) < len(DATA)
    assert writer.commits == 0
    assert done.calls == [None]
    reader.close()
    assert not is_stored(blobs, Digest.from_bytes(DATA))
    assert not is_stored(blobs, Digest.from_bytes(wrong))


def test_a_commit_failing_after_the_bytes_were_served_stores_nothing_and_says_so(
    blobs: BlobStore, caplog: pytest.LogCaptureFixture
) -> None:
    writer = HashingHeldCommit(blobs.create(), fail=True)
    done = Done()
    reader = _tee(blobs, writer, done)
    assert b"".join(_read_all(reader)) == DATA  # right bytes: the caller is not failed
    writer.release()
    with caplog.at_level(logging.WARNING, logger="pydistribution.proxy"):
        reader.close()
    assert done.calls == [None]
    assert "failed after it was served: the disk is full" in caplog.text
    assert not is_stored(blobs, Digest.from_bytes(DATA))


def test_a_blob_read_without_close_still_ends_its_fetch(blobs: BlobStore) -> None:
    writer = HashingHeldCommit(blobs.create())
    writer.release()
    done = Done()
    reader = _tee(blobs, writer, done)
    assert b"".join(_read_all(reader)) == DATA
    assert done.called.wait(30)  # the store thread ends the fetch after its commit
    assert done.calls == [_descriptor(DATA)]
    assert blobs.get(Digest.from_bytes(DATA)) == DATA
    reader.close()
    assert done.calls == [_descriptor(DATA)]


def test_an_empty_blob_is_stored_too(blobs: BlobStore) -> None:
    writer = HashingHeldCommit(blobs.create())
    writer.release()
    done = Done()
    reader = _tee(blobs, writer, done, data=b"", served=b"")
    assert reader.read() == b""
    reader.close()
    assert done.calls == [_descriptor(b"")]
    assert blobs.get(Digest.from_bytes(b"")) == b""
