"""The storage operations that crash injection kills: one `Scenario` each.

Every scenario starts from the same small world (two repositories, three tagged images,
one manifest with two tags) plus whatever its operation needs, so that a crash that
damages unrelated content is caught as surely as one that damages the operation's own.
`SCENARIOS` lists them all; `scenario` finds one by name.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Final

import attrs

from pydistribution import mediatypes
from pydistribution.descriptor import Descriptor
from pydistribution.digest import Digest
from pydistribution.errors import PathNotFoundError
from pydistribution.manifest.ociindex import OCIIndexBuilder
from pydistribution.manifest.ocimanifest import OCIManifest, OCIManifestBuilder
from pydistribution.protocols import Manifest
from pydistribution.reference import Reference
from pydistribution.storage import Registry
from pydistribution.storage.driver.inmemory import InMemoryDriver
from pydistribution.storage.gc import LEASE_ROOT, mark_and_sweep
from pydistribution.storage.migrate import migrate_storage
from pydistribution.storage.purge import purge_uploads
from pydistribution.testing.crash import Crash, CrashingDriver, Scenario, StepCounter

if TYPE_CHECKING:
    from pydistribution.storage import LinkedBlobStore
    from pydistribution.storage.driver import StorageDriver

__all__ = ["SCENARIOS", "World", "expire_gc_leases", "scenario", "world"]

_LAYER: Final = mediatypes.OCI_IMAGE_LAYER_GZIP
_CHUNK: Final = 1024
_FAR_FUTURE: Final = datetime(2200, 1, 1, tzinfo=timezone.utc)


@attrs.frozen(kw_only=True)
class World:
    """What every scenario starts from.

    Attributes:
        base: ``base/app``'s image, tagged ``stable`` and ``latest``.
        one: ``team/app``'s image tagged ``v1`` and ``also``.
        two: ``team/app``'s image tagged ``v2``.
        extra: what the scenario's own set-up added (an upload id, a manifest...).
    """

    base: Manifest
    one: Manifest
    two: Manifest
    extra: object = None


def _layer_bytes(name: str, index: int) -> bytes:
    return f"{name} layer {index};".encode() * 200


def _config(name: str) -> bytes:
    return f'{{"architecture":"amd64","os":"linux","image":"{name}"}}'.encode()


def _build(blobs: LinkedBlobStore, name: str, layers: int = 2) -> OCIManifest:
    """Put an image's config and layers into ``blobs``; its manifest, not yet put."""
    config = _config(name)
    blobs.put(mediatypes.OCI_IMAGE_CONFIG, config)
    builder = OCIManifestBuilder(config)
    for index in range(layers):
        stored = blobs.put(_LAYER, _layer_bytes(name, index))
        builder.append_reference(
            Descriptor(media_type=_LAYER, digest=stored.digest, size=stored.size)
        )
    return builder.build()


def world(registry: Registry) -> World:
    """Build the shared starting world in ``registry``."""
    base_repo = registry.repository("base/app")
    base = _build(base_repo.blobs(), "base")
    base_repo.manifests().put(base, tag="stable")
    base_repo.tags().tag("latest", base.describe())
    team = registry.repository("team/app")
    one = _build(team.blobs(), "one")
    team.manifests().put(one, tag="v1")
    team.tags().tag("also", one.describe())
    two = _build(team.blobs(), "two", layers=3)
    team.manifests().put(two, tag="v2")
    return World(base=base, one=one, two=two)


def _extend(registry: Registry, extra: object) -> World:
    return attrs.evolve(world(registry), extra=extra)


def _world(state: object) -> World:
    assert isinstance(state, World)
    return state


def _data(size: int = 5 * _CHUNK) -> bytes:
    return bytes(range(256)) * (size // 256)


def _provisional(data: bytes) -> Descriptor:
    return Descriptor(
        media_type=mediatypes.OCTET_STREAM, digest=Digest.from_bytes(data), size=len(data)
    )


# -- uploads -----------------------------------------------------------------------------


def _upload(registry: Registry, state: object) -> None:
    data = _data()
    with registry.repository("team/app").blobs().create() as writer:
        for start in range(0, len(data), _CHUNK):
            writer.write(data[start : start + _CHUNK])
        writer.commit(_provisional(data))


def _upload_cancel(registry: Registry, state: object) -> None:
    writer = registry.repository("team/app").blobs().create()
    writer.write(_data()[: 3 * _CHUNK])
    writer.cancel()


def _started_upload(registry: Registry, *, written: int) -> World:
    writer = registry.repository("team/app").blobs().create()
    writer.write(_data()[:written])
    writer.close()
    return _extend(registry, writer.id)


def _resume(registry: Registry, state: object) -> None:
    upload_id = _world(state).extra
    assert isinstance(upload_id, str)
    writer = registry.repository("team/app").blobs().resume(upload_id)
    data = _data()
    for start in range(writer.size, len(data), _CHUNK):
        writer.write(data[start : start + _CHUNK])
    writer.close()


def _commit(registry: Registry, state: object) -> None:
    upload_id = _world(state).extra
    assert isinstance(upload_id, str)
    writer = registry.repository("team/app").blobs().resume(upload_id)
    writer.commit(_provisional(_data()))


def _blob_put(registry: Registry, state: object) -> None:
    registry.repository("team/app").blobs().put(mediatypes.OCTET_STREAM, _data(3 * _CHUNK))


def _with_loose_blob(registry: Registry) -> World:
    stored = registry.repository("team/app").blobs().put(mediatypes.OCTET_STREAM, _data(2048))
    return _extend(registry, stored.digest)


def _blob_delete(registry: Registry, state: object) -> None:
    digest = _world(state).extra
    assert isinstance(digest, Digest)
    registry.repository("team/app").blobs().delete(digest)


def _mount(registry: Registry, state: object) -> None:
    base = _world(state).base
    target = registry.repository("team/mounted")
    for reference in base.references():
        target.blobs().create(mount_from=Reference(path="base/app", digest=reference.digest))
    target.manifests().put(base, tag="mounted")


# -- manifests and tags --------------------------------------------------------------------


def _with_new_image(registry: Registry) -> World:
    return _extend(registry, _build(registry.repository("team/app").blobs(), "three"))


def _manifest_put(registry: Registry, state: object) -> None:
    manifest = _world(state).extra
    assert isinstance(manifest, OCIManifest)
    registry.repository("team/app").manifests().put(manifest, tag="v3")


def _manifest_put_over_tag(registry: Registry, state: object) -> None:
    manifest = _world(state).extra
    assert isinstance(manifest, OCIManifest)
    registry.repository("team/app").manifests().put(manifest, tag="v1")


def _index_put(registry: Registry, state: object) -> None:
    current = _world(state)
    builder = OCIIndexBuilder()
    builder.append_reference(current.one)
    builder.append_reference(current.two)
    registry.repository("team/app").manifests().put(builder.build(), tag="multi")


def _manifest_delete(registry: Registry, state: object) -> None:
    registry.repository("team/app").manifests().delete(_world(state).one.digest)


def _tag(registry: Registry, state: object) -> None:
    tags = registry.repository("team/app").tags()
    tags.tag("v1", _world(state).two.describe())
    tags.tag("fresh", _world(state).two.describe())


def _untag(registry: Registry, state: object) -> None:
    registry.repository("team/app").tags().untag("v1")


def _remove(registry: Registry, state: object) -> None:
    registry.remove("team/app")


# -- maintenance -----------------------------------------------------------------------------


def _with_garbage(registry: Registry) -> World:
    """The world plus an untagged image, a deleted manifest and an unreferenced blob."""
    current = world(registry)
    team = registry.repository("team/app")
    team.manifests().put(_build(team.blobs(), "loose"))
    team.manifests().delete(current.two.digest)
    team.blobs().put(mediatypes.OCTET_STREAM, _data(2048))
    return current


def expire_gc_leases(driver: StorageDriver) -> None:
    """Let the collection leases a crash left in ``driver`` run out now.

    A crashed collector's lease lasts until its lease time has passed since its last
    renewal; each claim is rewritten with a lease time of nothing, so the next collection
    takes it over (as it would after the real lease time) without the wait.
    """
    try:
        paths = driver.list(LEASE_ROOT)
    except PathNotFoundError:
        return
    for path in paths:
        claim = json.loads(driver.get_content(path))
        claim["ttl_seconds"] = 1e-9
        driver.put_content(path, json.dumps(claim).encode())


def _with_crashed_sweep(registry: Registry) -> World:
    """The garbage world, and an online collection killed after its first move into the
    quarantine (found on an in-memory copy: the driver calls are the same)."""
    trace = StepCounter()
    scratch = InMemoryDriver()
    _with_garbage(Registry(scratch, options=registry.options))
    _gc_online(Registry(CrashingDriver(scratch, trace), options=registry.options), None)
    first_move = next(i for i, step in enumerate(trace.trace) if step.startswith("move "))
    current = _with_garbage(registry)
    crashing = CrashingDriver(registry.driver, StepCounter(first_move + 1))
    try:
        _gc_online(Registry(crashing, options=registry.options), None)
    except Crash:
        expire_gc_leases(registry.driver)
        return current
    raise AssertionError("the collection did not reach its crash point")


def _gc_online(registry: Registry, state: object) -> None:
    mark_and_sweep(registry, delete_untagged=True, grace=timedelta(0), settle=timedelta(0))


def _gc_offline(registry: Registry, state: object) -> None:
    mark_and_sweep(registry, delete_untagged=True, grace=timedelta(0), offline=True)


def _with_uploads(registry: Registry) -> World:
    current = world(registry)
    blobs = registry.repository("team/app").blobs()
    writer = blobs.create()
    writer.write(_data(3 * _CHUNK))
    writer.close()
    blobs.create().close()
    return current


def _purge(registry: Registry, state: object) -> None:
    purge_uploads(registry, older_than=timedelta(0), now=_FAR_FUTURE)


def _with_migration_source(registry: Registry) -> World:
    """The world here, and a source registry holding the world plus what is new there:
    a third image tagged ``v3`` and ``v1`` (so ``v1`` has a history), a new repository."""
    source = Registry(InMemoryDriver())
    world(source)
    team = source.repository("team/app")
    three = _build(team.blobs(), "three")
    team.manifests().put(three, tag="v3")
    team.tags().tag("v1", three.describe())
    other = source.repository("other/app")
    other.manifests().put(_build(other.blobs(), "other"), tag="latest")
    return _extend(registry, source)


def _migrate(registry: Registry, state: object) -> None:
    source = _world(state).extra
    assert isinstance(source, Registry)
    migrate_storage(source, registry, workers=1)


SCENARIOS: Final[tuple[Scenario, ...]] = (
    Scenario(name="upload", setup=world, operation=_upload),
    Scenario(name="upload-cancel", setup=world, operation=_upload_cancel),
    Scenario(
        name="resume", setup=lambda r: _started_upload(r, written=2 * _CHUNK), operation=_resume
    ),
    Scenario(
        name="commit", setup=lambda r: _started_upload(r, written=5 * _CHUNK), operation=_commit
    ),
    Scenario(name="blob-put", setup=world, operation=_blob_put),
    Scenario(name="blob-delete", setup=_with_loose_blob, operation=_blob_delete),
    Scenario(name="mount", setup=world, operation=_mount),
    Scenario(name="manifest-put", setup=_with_new_image, operation=_manifest_put),
    Scenario(name="manifest-put-over-tag", setup=_with_new_image, operation=_manifest_put_over_tag),
    Scenario(name="index-put", setup=world, operation=_index_put),
    Scenario(name="manifest-delete", setup=world, operation=_manifest_delete),
    Scenario(name="tag", setup=world, operation=_tag),
    Scenario(name="untag", setup=world, operation=_untag),
    Scenario(name="repository-remove", setup=world, operation=_remove),
    Scenario(name="gc-online", setup=_with_garbage, operation=_gc_online),
    Scenario(name="gc-offline", setup=_with_garbage, operation=_gc_offline),
    Scenario(name="gc-after-crash", setup=_with_crashed_sweep, operation=_gc_online),
    Scenario(name="gc-offline-after-crash", setup=_with_crashed_sweep, operation=_gc_offline),
    Scenario(name="purge-uploads", setup=_with_uploads, operation=_purge),
    Scenario(name="migrate", setup=_with_migration_source, operation=_migrate),
)
"""Every storage operation crash injection covers."""


def scenario(name: str) -> Scenario:
    """The scenario called ``name``.

    Raises:
        KeyError: no scenario has that name.
    """
    for candidate in SCENARIOS:
        if candidate.name == name:
            return candidate
    raise KeyError(name)
