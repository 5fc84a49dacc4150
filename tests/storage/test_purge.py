"""Upload purging: Go's algorithm, minus touching uploads it cannot date or that are alive."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from pydistribution.errors import BlobUploadUnknownError
from pydistribution.storage import Registry, RegistryOptions
from pydistribution.storage.driver.inmemory import InMemoryDriver
from pydistribution.storage.purge import purge_uploads
from pydistribution.testing.plugin import GoRegistryFactory
from tests.interop.registry_client import RegistryClient, RegistryError
from tests.storage._roots import fs_registry

V2 = "/docker/registry/v2"
WEEK = timedelta(days=7)
NEXT_MONTH = datetime.now(timezone.utc) + timedelta(days=30)


@pytest.fixture(params=["inmemory", "filesystem"])
def registry(request: pytest.FixtureRequest, tmp_path: Path) -> Registry:
    if request.param == "inmemory":
        return Registry(InMemoryDriver(), options=RegistryOptions(delete_enabled=True))
    return fs_registry(tmp_path / "root")


def open_upload(registry: Registry, repository: str, data: bytes = b"partial") -> str:
    with registry.repository(repository).blobs().create() as writer:
        writer.write(data)
        return writer.id


def uploads_dir(repository: str) -> str:
    return f"{V2}/repositories/{repository}/_uploads"


def test_old_uploads_are_purged_and_young_ones_kept(registry: Registry) -> None:
    old = open_upload(registry, "team/app")
    nested = open_upload(registry, "team/app/web")

    assert purge_uploads(registry).purged == ()  # a week has not passed yet
    dry = purge_uploads(registry, WEEK, dry_run=True, now=NEXT_MONTH)
    assert [(u.repository, u.id) for u in dry.purged] == [
        ("team/app", old),
        ("team/app/web", nested),
    ]
    registry.repository("team/app").blobs().resume(old).close()  # the dry run deleted nothing

    report = purge_uploads(registry, WEEK, now=NEXT_MONTH)

    assert [u.id for u in report.purged] == [old, nested]
    assert report.kept == ()
    with pytest.raises(BlobUploadUnknownError):
        registry.repository("team/app").blobs().resume(old)
    assert registry.driver.list(uploads_dir("team/app")) == []


def test_an_upload_still_being_written_is_kept(registry: Registry) -> None:
    upload = open_upload(registry, "app")
    long_ago = f"{uploads_dir('app')}/{upload}/startedat"
    registry.driver.put_content(long_ago, b"2020-01-01T00:00:00Z")

    report = purge_uploads(registry, WEEK)

    assert report.purged == ()
    (kept,) = report.kept
    assert kept.started_at == datetime(2020, 1, 1, tzinfo=timezone.utc)
    assert kept.reason == "written to within the threshold"
    assert [u.id for u in purge_uploads(registry, WEEK, now=NEXT_MONTH).purged] == [upload]


@pytest.mark.parametrize(
    "startedat", [None, b"yesterday-ish", b"\xff\xfe"], ids=["missing", "garbled", "binary"]
)
def test_an_upload_without_a_readable_start_is_never_touched(
    registry: Registry, startedat: bytes | None
) -> None:
    upload = open_upload(registry, "app")
    path = f"{uploads_dir('app')}/{upload}/startedat"
    if startedat is None:
        registry.driver.delete(path)
    else:
        registry.driver.put_content(path, startedat)

    report = purge_uploads(registry, timedelta(0), now=NEXT_MONTH)

    assert report.purged == ()
    assert [u.id for u in report.skipped] == [upload]
    assert "startedat" in report.skipped[0].reason
    assert registry.driver.list(uploads_dir("app")) == [f"{uploads_dir('app')}/{upload}"]


def test_only_uuid_directories_under_uploads_count(registry: Registry) -> None:
    upload = open_upload(registry, "app")
    driver = registry.driver
    driver.put_content(f"{uploads_dir('app')}/not-a-uuid/startedat", b"2020-01-01T00:00:00Z")
    stray = "0190e7c2-8d4b-7c3a-9f00-000000000001"
    driver.put_content(f"{V2}/repositories/app/_layers/{stray}/startedat", b"2020-01-01T00:00:00Z")

    report = purge_uploads(registry, WEEK, now=NEXT_MONTH)

    assert [u.id for u in report.purged] == [upload]
    driver.stat(f"{uploads_dir('app')}/not-a-uuid/startedat")
    driver.stat(f"{V2}/repositories/app/_layers/{stray}/startedat")
    with pytest.raises(ValueError, match="negative"):
        purge_uploads(registry, timedelta(seconds=-1))


def test_uploads_left_by_the_go_registry(
    go_registry_factory: GoRegistryFactory, tmp_path: Path
) -> None:
    """Go writes ``startedat``, ``data`` and hash states; a purge removes the session."""
    go = go_registry_factory(tmp_path / "root")
    client = RegistryClient(go.url)
    location = client.patch_upload(client.start_upload("library/demo"), b"0123456789", offset=0)
    registry = fs_registry(tmp_path / "root")

    assert purge_uploads(registry, WEEK).purged == ()
    report = purge_uploads(registry, WEEK, now=NEXT_MONTH)

    assert [(u.repository, u.id) for u in report.purged] == [
        ("library/demo", client.upload_id(location))
    ]
    with pytest.raises(RegistryError) as info:
        client.patch_upload(location, b"more", offset=10)
    assert info.value.codes == ["BLOB_UPLOAD_UNKNOWN"]
