"""A resumed upload takes up the sha256 state its process kept, only for the same bytes."""

from __future__ import annotations

from typing import BinaryIO

import pytest

from pydistribution import mediatypes
from pydistribution.descriptor import Descriptor
from pydistribution.digest import Digest
from pydistribution.errors import BlobInvalidDigestError
from pydistribution.storage import Registry
from pydistribution.storage.driver.inmemory import InMemoryDriver


class _Reads:
    """How many readers were opened on upload data (a commit that re-reads the upload)."""

    def __init__(self) -> None:
        self.data = 0


def _descriptor(data: bytes) -> Descriptor:
    return Descriptor(
        media_type=mediatypes.OCTET_STREAM, digest=Digest.from_bytes(data), size=len(data)
    )


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> _Reads:
    counted = _Reads()
    original = InMemoryDriver.reader

    def reader(self: InMemoryDriver, path: str, offset: int = 0) -> BinaryIO:
        if "/_uploads/" in path and path.endswith("/data"):
            counted.data += 1
        return original(self, path, offset)

    monkeypatch.setattr(InMemoryDriver, "reader", reader)
    return counted


@pytest.fixture
def driver() -> InMemoryDriver:
    return InMemoryDriver()


def test_chunks_in_one_process_commit_without_reading_back(
    driver: InMemoryDriver, reads: _Reads
) -> None:
    blobs = Registry(driver).repository("team/app").blobs()
    writer = blobs.create()
    upload_id = writer.id
    writer.close()
    for chunk in (b"first ", b"second ", b"third"):
        writer = blobs.resume(upload_id)
        writer.write(chunk)
        writer.close()
    writer = blobs.resume(upload_id)
    committed = writer.commit(_descriptor(b"first second third"))
    assert blobs.get(committed.digest) == b"first second third"
    assert reads.data == 0


def test_bytes_another_process_appended_are_read_back(
    driver: InMemoryDriver, reads: _Reads
) -> None:
    here = Registry(driver).repository("team/app").blobs()
    elsewhere = Registry(driver).repository("team/app").blobs()  # another process
    writer = here.create()
    writer.write(b"mine ")
    writer.close()
    other = elsewhere.resume(writer.id)
    other.write(b"theirs")
    other.close()
    resumed = here.resume(writer.id)
    committed = resumed.commit(_descriptor(b"mine theirs"))
    assert here.get(committed.digest) == b"mine theirs"
    assert reads.data == 1


def test_a_wrong_digest_is_refused_with_a_kept_state(driver: InMemoryDriver) -> None:
    blobs = Registry(driver).repository("team/app").blobs()
    writer = blobs.create()
    writer.write(b"content")
    writer.close()
    resumed = blobs.resume(writer.id)
    with pytest.raises(BlobInvalidDigestError):
        resumed.commit(_descriptor(b"CONTENT"))


def test_a_cancelled_upload_leaves_no_state(driver: InMemoryDriver) -> None:
    registry = Registry(driver)
    blobs = registry.repository("team/app").blobs()
    writer = blobs.create()
    writer.write(b"content")
    writer.close()
    blobs.resume(writer.id).cancel()
    assert registry._context.hash_states.take("team/app", writer.id, 7) is None
