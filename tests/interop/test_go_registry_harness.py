"""The real-peer harness: the Go registry, skopeo, umoci and Redis behave as the tests assume.

These tests prove the fixtures and helpers the interop tests are built on, and pin the
observations of storage-layout.md (§1.2 paths, §2 file formats, §10 catalog) against the
Go registry 2.8 that CI installs.
"""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import pytest

from pydistribution import mediatypes as mt
from pydistribution.testing.peers import (
    ENV_REQUIRE_PEERS,
    GoRegistry,
    PeerError,
    RedisServer,
    garbage_collect,
    require_program,
    run_skopeo,
    run_umoci,
    skopeo_copy,
)
from pydistribution.testing.plugin import GoRegistryFactory

from .images import (
    REF_NAME,
    Image,
    build_image,
    docker_manifest_list,
    make_layer,
    oci_index,
    sha256,
    write_oci_layout,
)
from .registry_client import RegistryClient, RegistryError

pytestmark = pytest.mark.peer

V2 = Path("docker/registry/v2")


def _link(root: Path, *parts: str) -> bytes:
    return root.joinpath(V2, "repositories", *parts).read_bytes()


def _blob_data(root: Path, digest: str) -> Path:
    hex_ = digest.removeprefix("sha256:")
    return root / V2 / "blobs" / "sha256" / hex_[:2] / hex_ / "data"


def _files_under(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*") if p.is_file())


# -- pushing and reading back -----------------------------------------------------------


def test_schema2_image_reads_back_byte_for_byte(go_registry: GoRegistry) -> None:
    """A chunked layer, a monolithic config and a tagged schema2 manifest come back exact."""
    client = RegistryClient(go_registry.url)
    image = build_image("schema2", layer_count=1)
    (layer,) = image.layers
    assert client.push_blob_chunked("library/demo", layer.data, chunk_size=100) == layer.digest
    assert client.push_blob("library/demo", image.config.data) == image.config.digest
    assert client.push_manifest("library/demo", image.manifest, tag="latest") == (
        image.manifest.digest
    )

    for reference in ("latest", image.manifest.digest):
        got = client.get_manifest("library/demo", reference)
        assert got.body == image.manifest.data
        assert got.header("Content-Type") == mt.DOCKER_MANIFEST_SCHEMA2
        assert got.header("Docker-Content-Digest") == image.manifest.digest
    head = client.head_manifest("library/demo", "latest")
    assert head.body == b""
    assert head.header("Content-Length") == str(image.manifest.size)
    assert head.header("Docker-Content-Digest") == image.manifest.digest
    for blob in image.blobs:
        got = client.get_blob("library/demo", blob.digest)
        assert got.body == blob.data
        assert got.header("Docker-Content-Digest") == blob.digest
    assert client.tags("library/demo") == ["latest"]


@pytest.mark.parametrize("kind", ["oci-index", "docker-manifest-list"])
def test_index_reads_back_byte_for_byte(go_registry: GoRegistry, kind: str) -> None:
    """An index over two platform manifests pushed by digest is served exactly as put."""
    client = RegistryClient(go_registry.url)
    oci = kind == "oci-index"
    children = [build_image("multi", oci=oci, architecture=a) for a in ("amd64", "arm64")]
    for child in children:
        assert client.push_image("multi", child) == child.manifest.digest
    index = oci_index(children) if oci else docker_manifest_list(children)
    assert client.push_manifest("multi", index, tag="v1") == index.digest

    got = client.get_manifest("multi", "v1")
    assert got.body == index.data
    assert got.header("Content-Type") == index.media_type
    assert got.header("Docker-Content-Digest") == index.digest
    assert [m["platform"]["architecture"] for m in json.loads(got.body)["manifests"]] == [
        "amd64",
        "arm64",
    ]
    for child in children:
        got = client.get_manifest("multi", child.manifest.digest)
        assert (got.body, got.header("Content-Type")) == (
            child.manifest.data,
            child.manifest.media_type,
        )


def test_manifest_referencing_a_missing_blob_is_refused(go_registry: GoRegistry) -> None:
    """The client surfaces the registry's error codes (here MANIFEST_BLOB_UNKNOWN, 400)."""
    client = RegistryClient(go_registry.url)
    image = build_image("missing", layer_count=1)
    client.push_blob("repo", image.config.data)
    with pytest.raises(RegistryError) as caught:
        client.push_manifest("repo", image.manifest, tag="v1")
    assert caught.value.status == 400
    assert caught.value.codes == ["MANIFEST_BLOB_UNKNOWN"]


def test_delete_manifest_removes_its_tags(go_registry: GoRegistry) -> None:
    client = RegistryClient(go_registry.url)
    image = build_image("deleted", layer_count=1)
    digest = client.push_image("repo", image, tag="v1")
    client.delete_manifest("repo", digest)
    client.head_manifest("repo", digest, expect=(404,))
    client.head_manifest("repo", "v1", expect=(404,))
    assert client.tags("repo") == []
    assert not (go_registry.root / V2 / "repositories/repo/_manifests/tags/v1").exists()


def test_delete_disabled_answers_unsupported(go_registry_factory: GoRegistryFactory) -> None:
    """``delete_enabled=False`` reaches the registry's ``storage.delete.enabled``."""
    registry = go_registry_factory(delete_enabled=False)
    client = RegistryClient(registry.url)
    digest = client.push_image("repo", build_image("kept", layer_count=1), tag="v1")
    with pytest.raises(RegistryError) as caught:
        client.delete_manifest("repo", digest)
    assert (caught.value.status, caught.value.codes) == (405, ["UNSUPPORTED"])


# -- the storage root -------------------------------------------------------------------


def test_storage_root_has_the_go_layout(go_registry: GoRegistry) -> None:
    """Every file lands at its storage-layout.md §1.2 path, with the §2 formats."""
    client = RegistryClient(go_registry.url)
    root = go_registry.root
    image = build_image("layout", layer_count=1)
    (layer,) = image.layers
    location = client.start_upload("library/demo")
    upload = root / V2 / "repositories/library/demo/_uploads" / client.upload_id(location)
    location = client.patch_upload(location, layer.data[:200], offset=0)
    assert (upload / "data").read_bytes() == layer.data[:200]
    client.finish_upload(location, layer.digest, layer.data[200:])
    assert not upload.exists()  # a committed upload's directory is removed
    client.push_blob("library/demo", image.config.data)
    manifest = image.manifest
    client.push_manifest("library/demo", manifest, tag="latest")

    for blob in (*image.blobs, manifest):  # blob data, with the two-character fan-out
        assert _blob_data(root, blob.digest).read_bytes() == blob.data
    for blob in image.blobs:  # layer links: the bare digest, 71 bytes, no newline
        link = _link(root, "library", "demo", "_layers", "sha256", blob.hex, "link")
        assert (link, len(link)) == (blob.digest.encode(), 71)
    manifests = ("library", "demo", "_manifests")
    revision = _link(root, *manifests, "revisions", "sha256", manifest.hex, "link")
    current = _link(root, *manifests, "tags", "latest", "current", "link")
    index = _link(root, *manifests, "tags", "latest", "index", "sha256", manifest.hex, "link")
    assert revision == current == index == manifest.digest.encode()
    # The manifest is a global blob but not a layer of the repository.
    assert not root.joinpath(V2, "repositories/library/demo/_layers/sha256", manifest.hex).exists()
    # Both committed uploads are gone; the _uploads directory itself stays.
    assert list((root / V2 / "repositories/library/demo/_uploads").iterdir()) == []
    assert _files_under(root / V2 / "blobs") == sorted(
        str(_blob_data(root, b.digest).relative_to(root / V2 / "blobs"))
        for b in (*image.blobs, manifest)
    )


def test_open_upload_has_startedat_data_and_hash_states(go_registry: GoRegistry) -> None:
    """An upload left open after one 10-byte PATCH looks as in storage-layout.md §3."""
    client = RegistryClient(go_registry.url)
    location = client.start_upload("library/demo")
    client.patch_upload(location, b"layer-byte", offset=0)
    upload = (
        go_registry.root / V2 / "repositories/library/demo/_uploads" / client.upload_id(location)
    )
    assert (upload / "data").read_bytes() == b"layer-byte"
    assert re.fullmatch(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", (upload / "startedat").read_bytes())
    states = upload / "hashstates" / "sha256"
    assert sorted(p.name for p in states.iterdir()) == ["0", "10"]
    state = (states / "10").read_bytes()
    assert (len(state), state[:4], state[-8:]) == (108, b"sha\x03", (10).to_bytes(8, "big"))


def test_mount_writes_only_a_layer_link(go_registry: GoRegistry) -> None:
    """A cross-repository mount answers 201 and writes the target's layer link, nothing else."""
    client = RegistryClient(go_registry.url)
    layer = make_layer({"a.txt": b"mounted\n"})
    client.push_blob("library/demo", layer.data)
    response = client.mount_blob("team/app/web", layer.digest, "library/demo")
    assert response.status == 201
    assert response.header("Docker-Content-Digest") == layer.digest
    target = go_registry.root / V2 / "repositories/team/app/web"
    assert _files_under(target) == [f"_layers/sha256/{layer.hex}/link"]
    assert client.get_blob("team/app/web", layer.digest).body == layer.data
    # Mounting from a repository without the blob starts an ordinary upload instead.
    assert client.mount_blob("other", layer.digest, "nowhere").status == 202


def _make_repositories(client: RegistryClient, names: list[str]) -> None:
    for name in names:  # in 2.8 a repository with only a layer link is listed
        client.push_blob(name, b"catalog\n")


def test_catalog_pages_follow_link_headers_across_nested_names(go_registry: GoRegistry) -> None:
    """Nested names come in walk order; ``Link: <...>; rel="next"`` leads to the next page."""
    client = RegistryClient(go_registry.url)
    _make_repositories(client, ["b/x", "a/b/c", "a", "a/b", "c"])
    everything = ["a", "a/b", "a/b/c", "b/x", "c"]
    assert client.catalog_pages() == [everything]
    assert client.catalog_pages(n=2) == [["a", "a/b"], ["a/b/c", "b/x"], ["c"]]
    assert client.catalog_pages(n=1) == [[name] for name in everything]
    assert client.catalog_page(n=4) == (everything[:4], "/v2/_catalog?last=b%2Fx&n=4")
    # A page holding exactly the rest has no Link.
    assert client.catalog_page(n=5) == (everything, None)
    assert client.catalog_page(n=2, last="a/b") == (["a/b/c", "b/x"], "/v2/_catalog?last=b%2Fx&n=2")


def test_go_catalog_pagination_loses_a_parent_of_a_digit_child(go_registry: GoRegistry) -> None:
    """Go 2.8's known bug (storage-layout.md §10.3): paging with n=1 never returns ``x``.

    ``x/0`` is walked before ``x`` (``0`` < ``_layers``) but ``last`` filters in component
    order, where ``x`` < ``x/0``. Following ``Link`` is no better: the first page has none.
    """
    client = RegistryClient(go_registry.url)
    _make_repositories(client, ["x-y", "x/z", "x", "x/0"])
    assert client.catalog_pages() == [["x/0", "x", "x/z", "x-y"]]
    assert client.catalog_by_cursor(n=1) == [["x/0"], ["x/z"], ["x-y"], []]
    assert client.catalog_page(n=1) == (["x/0"], None)
    # With n=2, following Link returns x/0 on two pages.
    assert client.catalog_pages(n=2) == [["x/0", "x"], ["x/0", "x/z"], ["x-y"]]


# -- skopeo and umoci -------------------------------------------------------------------


def test_skopeo_copies_a_generated_oci_layout_into_the_go_registry(
    go_registry: GoRegistry, tmp_path: Path
) -> None:
    """skopeo reads our layout and pushes the same bytes (``--preserve-digests``)."""
    children = [build_image("sk", oci=True, architecture=a) for a in ("amd64", "arm64")]
    index = oci_index(children)
    blobs = [b for child in children for b in (*child.blobs, child.manifest)]
    layout = write_oci_layout(tmp_path / "layout", {"one": children[0], "all": index}, *blobs)

    skopeo_copy(f"oci:{layout}:one", f"docker://{go_registry.host}/sk/one:v1", "--preserve-digests")
    skopeo_copy(
        f"oci:{layout}:all", f"docker://{go_registry.host}/sk/all:v1", "--all", "--preserve-digests"
    )

    client = RegistryClient(go_registry.url)
    got = client.get_manifest("sk/one", "v1")
    assert (got.body, got.header("Content-Type")) == (
        children[0].manifest.data,
        mt.OCI_IMAGE_MANIFEST,
    )
    assert client.get_manifest("sk/all", "v1").body == index.data
    for child in children:
        assert client.get_manifest("sk/all", child.manifest.digest).body == child.manifest.data
        for blob in child.blobs:
            assert client.get_blob("sk/all", blob.digest).body == blob.data
    raw = run_skopeo(
        "inspect", "--raw", "--tls-verify=false", f"docker://{go_registry.host}/sk/all:v1"
    )
    assert raw.encode() == index.data


def test_umoci_reads_a_generated_oci_layout(tmp_path: Path) -> None:
    """umoci lists the ref names and parses manifest, config and history of an image."""
    image = build_image("umoci", oci=True)
    layout = write_oci_layout(tmp_path / "layout", {"v1": image, "v2": image})
    index = json.loads((layout / "index.json").read_bytes())
    assert [m["annotations"][REF_NAME] for m in index["manifests"]] == ["v1", "v2"]
    assert run_umoci("ls", "--layout", str(layout)).split() == ["v1", "v2"]
    stat = json.loads(run_umoci("stat", "--image", f"{layout}:v1", "--json"))
    assert [entry["layer"]["digest"] for entry in stat["history"]] == [
        layer.digest for layer in image.layers
    ]


# -- garbage collection -----------------------------------------------------------------


def _stopped_registry_with(
    factory: GoRegistryFactory, image: Image, *, extra: bytes = b""
) -> GoRegistry:
    registry = factory()
    client = RegistryClient(registry.url)
    client.push_image("repo", image, tag="v1")
    if extra:
        client.push_blob("repo", extra)
    registry.stop()
    return registry


def test_garbage_collect_dry_run_keeps_a_fully_tagged_root(
    go_registry_factory: GoRegistryFactory,
) -> None:
    image = build_image("gc", layer_count=2)
    registry = _stopped_registry_with(go_registry_factory, image)
    before = _files_under(registry.root)
    output = garbage_collect(registry.config_path, dry_run=True)
    # Config, two layers and the manifest itself.
    assert "4 blobs marked, 0 blobs and 0 manifests eligible for deletion" in output
    assert "eligible for deletion:" not in output
    assert f"repo: marking manifest {image.manifest.digest}" in output
    assert _files_under(registry.root) == before


def test_garbage_collect_dry_run_lists_an_unreferenced_blob(
    go_registry_factory: GoRegistryFactory,
) -> None:
    """The counter-check of the test above: an unreferenced blob is reported, not deleted."""
    image = build_image("gc", layer_count=2)
    stray = b"referenced by nothing\n"
    registry = _stopped_registry_with(go_registry_factory, image, extra=stray)
    output = garbage_collect(registry.config_path, dry_run=True, delete_untagged=True)
    assert f"blob eligible for deletion: {sha256(stray)}" in output
    assert _blob_data(registry.root, sha256(stray)).exists()
    garbage_collect(registry.config_path)
    assert not _blob_data(registry.root, sha256(stray)).exists()
    assert _blob_data(registry.root, image.manifest.digest).exists()


def test_garbage_collect_reports_failure_with_output(tmp_path: Path) -> None:
    """2.8 fails on a root without a ``repositories`` directory; the error carries why."""
    with GoRegistry(tmp_path / "root", work_dir=tmp_path / "work") as registry:
        config = registry.config_path
    with pytest.raises(PeerError, match="Path not found: /docker/registry/v2/repositories"):
        garbage_collect(config, dry_run=True)


# -- the harness itself -----------------------------------------------------------------


def test_go_registry_listens_on_loopback_and_stops_by_pid(tmp_path: Path) -> None:
    registry = GoRegistry(tmp_path / "root")
    assert registry.host == f"127.0.0.1:{registry.port}"
    assert registry.url == f"http://127.0.0.1:{registry.port}"
    assert RegistryClient(registry.url).ping().body == b"{}"
    config = registry.config_path.read_text()
    assert f'addr: "127.0.0.1:{registry.port}"' in config
    assert f'rootdirectory: "{tmp_path / "root"}"' in config
    work_dir = registry.config_path.parent
    registry.stop()
    assert not registry.running
    assert not work_dir.exists()  # a temporary work directory is removed on stop
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", registry.port), timeout=1)
    registry.stop()  # idempotent


def test_go_registry_start_failure_shows_the_log(tmp_path: Path) -> None:
    """A registry that cannot bind its port fails at once, naming the reason."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        with pytest.raises(PeerError, match="address already in use"):
            GoRegistry(tmp_path / "root", port=port)


def test_redis_server_answers_and_dies_on_kill(redis_server: RedisServer) -> None:
    assert redis_server.url == f"redis://127.0.0.1:{redis_server.port}/0"
    assert redis_server.ping()
    assert redis_server.command("SET", "key", "value") == b"OK"
    assert redis_server.command("GET", "key") == b"value"
    assert redis_server.command("CONFIG", "GET", "bind") == [b"bind", b"127.0.0.1"]
    with pytest.raises(PeerError, match="unknown command"):
        redis_server.command("NO-SUCH-COMMAND")
    redis_server.kill()
    assert not redis_server.running
    assert not redis_server.ping()
    with pytest.raises(ConnectionRefusedError):
        redis_server.command("PING")


def test_go_registry_keeps_its_blob_descriptor_cache_in_redis(
    go_registry_factory: GoRegistryFactory, redis_server: RedisServer
) -> None:
    """``blob_descriptor_cache=<redis url>`` makes the registry write storage-layout.md §6 keys."""
    registry = go_registry_factory(blob_descriptor_cache=redis_server.url)
    client = RegistryClient(registry.url)
    digest = client.push_blob("repo", b"cached\n")
    keys = redis_server.command("KEYS", "*")
    assert isinstance(keys, list)
    assert set(keys) == {
        f"blobs::{digest}".encode(),
        b"repository::repo::blobs",
        f"repository::repo::blobs::{digest}".encode(),
    }
    fields = redis_server.command("HGETALL", f"blobs::{digest}")
    assert isinstance(fields, list)
    assert dict(zip(fields[::2], fields[1::2], strict=True)) == {  # field order varies
        b"digest": digest.encode(),
        b"size": b"7",
        b"mediatype": b"application/octet-stream",
    }
    assert redis_server.command("SMEMBERS", "repository::repo::blobs") == [digest.encode()]


def test_require_program_skips_without_the_env_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_REQUIRE_PEERS, raising=False)
    with pytest.raises(pytest.skip.Exception, match="definitely-not-installed is not installed"):
        require_program("definitely-not-installed")


def test_require_program_fails_with_the_env_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_REQUIRE_PEERS, "1")
    with pytest.raises(pytest.fail.Exception, match=f"{ENV_REQUIRE_PEERS}=1 requires every peer"):
        require_program("definitely-not-installed")


def test_require_program_finds_an_installed_program() -> None:
    assert Path(require_program("sh")).name == "sh"


def test_skopeo_refuses_a_remote_registry() -> None:
    with pytest.raises(ValueError, match=r"may only reach 127\.0\.0\.1"):
        skopeo_copy("docker://example.com/a:b", "oci:/nonexistent:x")
