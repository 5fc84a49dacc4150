"""The upload-session state machine every backend's BlobWriter shares, over a bytes target."""

from __future__ import annotations

import io
import re
from datetime import datetime, timezone
from typing import BinaryIO, cast

import pytest

from pydistribution import mediatypes
from pydistribution._upload import (
    UploadSession,
    UploadState,
    content_chunks,
    mount_source,
    verify_upload,
)
from pydistribution.descriptor import Descriptor
from pydistribution.digest import Digest, Digester, digest_stream, hash_stream
from pydistribution.errors import (
    BlobInvalidDigestError,
    BlobInvalidLengthError,
    BlobUploadInvalidError,
    InvalidReferenceError,
)

STARTED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


class BytesTarget:
    """An upload target keeping its bytes in memory and recording every call."""

    def __init__(self, data: bytes = b"") -> None:
        self.data = bytearray(data)
        self.calls: list[str] = []
        self.published: Digest | None = None

    def append(self, data: memoryview) -> None:
        self.data += data

    def close(self) -> None:
        self.calls.append("close")

    def seal(self) -> None:
        self.calls.append("seal")

    def discard(self) -> None:
        self.calls.append("discard")

    def publish(self, provisional: Descriptor, size: int, digester: Digester | None) -> Digest:
        self.calls.append("publish")
        self.published = verify_upload(
            provisional,
            size=size,
            stored=len(self.data),
            digester=digester,
            reopen=self._reopen,
        )
        return self.published

    def _reopen(self) -> BinaryIO:
        self.calls.append("reopen")
        return io.BytesIO(bytes(self.data))

    def remove(self) -> None:
        self.calls.append("remove")


def _provisional(data: bytes, algorithm: str = "sha256") -> Descriptor:
    return Descriptor(
        media_type=mediatypes.OCI_IMAGE_LAYER,
        digest=Digest.from_bytes(data, algorithm),
        size=len(data),
    )


def test_commit_hashes_as_bytes_arrive_and_removes_the_upload() -> None:
    target = BytesTarget()
    session = UploadSession(target, "u1", STARTED)
    assert session.write(b"hello ") == 6
    assert session.read_from(io.BytesIO(b"world")) == 5
    assert (session.id, session.size, session.started_at) == ("u1", 11, STARTED)
    descriptor = session.commit(_provisional(b"hello world"))
    assert descriptor == Descriptor(
        media_type=mediatypes.OCI_IMAGE_LAYER,
        digest=Digest.from_bytes(b"hello world"),
        size=11,
    )
    assert session.state is UploadState.COMMITTED
    assert target.calls == ["seal", "publish", "remove"]  # no read-back: hashed on the way


def test_a_resumed_session_reads_the_upload_back_at_commit() -> None:
    target = BytesTarget(b"earlier ")
    session = UploadSession(target, "u2", STARTED, size=8)
    session.write(b"bytes")
    descriptor = session.commit(_provisional(b"earlier bytes"))
    assert descriptor.digest == Digest.from_bytes(b"earlier bytes")
    assert target.calls == ["seal", "publish", "reopen", "remove"]


def test_another_algorithm_is_checked_and_sha256_is_returned() -> None:
    target = BytesTarget()
    session = UploadSession(target, "u3", STARTED)
    session.write(b"payload")
    descriptor = session.commit(_provisional(b"payload", "sha512"))
    assert descriptor.digest == Digest.from_bytes(b"payload")
    assert "reopen" in target.calls


def test_a_wrong_digest_commits_nothing_and_still_removes() -> None:
    target = BytesTarget()
    session = UploadSession(target, "u4", STARTED)
    session.write(b"actual")
    with pytest.raises(BlobInvalidDigestError, match="content hashes to sha256:"):
        session.commit(_provisional(b"claimed"[:6]))
    assert target.published is None
    assert target.calls[-1] == "remove"
    with pytest.raises(BlobUploadInvalidError, match="upload u4 is committed"):
        session.write(b"more")
    calls = list(target.calls)
    session.cancel()
    assert (session.state, target.calls) == (UploadState.COMMITTED, calls)


def test_lengths_are_checked_before_digests() -> None:
    target = BytesTarget()
    session = UploadSession(target, "u5", STARTED)
    session.write(b"abc")
    target.data += b"lost sync"
    with pytest.raises(BlobInvalidLengthError, match="lost or added bytes"):
        session.commit(_provisional(b"abc"))
    short = UploadSession(BytesTarget(), "u6", STARTED)
    short.write(b"abc")
    with pytest.raises(BlobInvalidLengthError):
        short.commit(_provisional(b"abcd"))


def test_close_keeps_cancel_removes_and_repeats_are_safe() -> None:
    target = BytesTarget()
    session = UploadSession(target, "u7", STARTED)
    session.close()
    session.close()
    assert session.state is UploadState.CLOSED
    with pytest.raises(BlobUploadInvalidError, match="upload u7 is closed"):
        session.write(b"x")
    session.cancel()
    session.cancel()
    # cancel() changed the state; mypy keeps its narrowing to CLOSED from above.
    assert session.state is UploadState.CANCELLED  # type: ignore[comparison-overlap]
    assert target.calls == ["close", "remove", "remove"]  # discard only while open


def test_with_block_cancels_on_error_and_closes_otherwise() -> None:
    failing = BytesTarget()
    session = UploadSession(failing, "u8", STARTED)

    def write_then_fail() -> None:
        with session:
            session.write(b"partial")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        write_then_fail()
    assert (session.state, failing.calls) == (UploadState.CANCELLED, ["discard", "remove"])
    kept = BytesTarget()
    with UploadSession(kept, "u9", STARTED) as closed:
        closed.write(b"kept")
    assert (closed.state, kept.calls) == (UploadState.CLOSED, ["close"])


class _ReadOnly:
    """A stream with ``read`` but no ``readinto``."""

    def __init__(self, data: bytes) -> None:
        self._stream = io.BytesIO(data)

    def read(self, size: int = -1) -> bytes:
        return self._stream.read(size)


@pytest.mark.parametrize("readinto", [True, False], ids=["readinto", "read"])
def test_hash_stream_feeds_every_digester_and_the_sink(readinto: bool) -> None:
    data = bytes(range(256)) * 1000
    stream: BinaryIO = io.BytesIO(data) if readinto else _ReadOnly(data)  # type: ignore[assignment]  # duck-typed stream without readinto
    sha256, sha512 = Digester("sha256"), Digester("sha512")
    copied = io.BytesIO()
    read = hash_stream(stream, (sha256, sha512), sink=copied.write, chunk_size=4096)
    assert read == len(data) == sha256.size == sha512.size
    assert copied.getvalue() == data
    assert sha256.digest() == Digest.from_bytes(data)
    assert sha512.digest() == Digest.from_bytes(data, "sha512")


def test_digest_stream_of_an_empty_stream() -> None:
    assert digest_stream(io.BytesIO(b"")) == (Digest.from_bytes(b""), 0)


# -- put's content and mount sources --------------------------------------------------


def test_content_chunks_of_bytes_streams_and_iterables() -> None:
    assert [bytes(c) for c in content_chunks(b"whole")] == [b"whole"]
    stream = io.BytesIO(b"abcdefg")
    assert [bytes(c) for c in content_chunks(stream, chunk_size=3)] == [b"abc", b"def", b"g"]
    pieces = [b"a", bytearray(b"b"), memoryview(b"c")]  # any buffer works, typed or not
    assert [bytes(c) for c in content_chunks(iter(cast("list[bytes]", pieces)))] == [
        b"a",
        b"b",
        b"c",
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("text", "expected bytes, a binary file object or an iterable of bytes, not str"),
        (42, "not int"),
        ([b"ok", 1], "expected an iterable of bytes, got a int"),
        (io.StringIO("text"), "expected a binary stream, read str"),
    ],
    ids=["str", "int", "mixed", "text-stream"],
)
def test_content_chunks_refuses_what_is_not_bytes(data: object, message: str) -> None:
    with pytest.raises(TypeError, match=re.escape(message)):
        list(content_chunks(data))  # type: ignore[arg-type]


def test_mount_source_needs_a_digest() -> None:
    digest = Digest.from_bytes(b"layer")
    source = mount_source(f"team/app@{digest}")
    assert source.digest == digest
    assert source == f"team/app@{digest}"
    assert mount_source(source) is source
    with pytest.raises(InvalidReferenceError, match="a mount needs a digest"):
        mount_source("team/app:v1")
    with pytest.raises(InvalidReferenceError):
        mount_source("Not A Reference")
    with pytest.raises(TypeError, match="expected a Reference"):
        mount_source(42)  # type: ignore[arg-type]
