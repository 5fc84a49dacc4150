"""Notifications: Go's webhook events for pushes, pulls, mounts and deletes.

A receiver on 127.0.0.1 records what the server posts. The app runs in process
(``configured_app`` as ``pydistribution serve`` builds it from a ``config.yml``).
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from pydistribution import mediatypes
from pydistribution.errors import ConfigurationError
from pydistribution.server import ServerConfig, configured_app
from pydistribution.server.notifications import EndpointConfig, Event, NotificationsConfig
from pydistribution.storage import Registry, RegistryOptions
from pydistribution.storage.driver.inmemory import InMemoryDriver
from pydistribution.testing.peers._process import free_port
from tests.interop.images import build_image
from tests.server._receiver import Receiver, wait_until
from tests.server._support import push_blob, push_image, sha256

IMAGE = build_image("events")


@pytest.fixture
def registry() -> Registry:
    return Registry(InMemoryDriver(), options=RegistryOptions(delete_enabled=True))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.stop()


def _config(endpoint: dict[str, Any], **notifications: Any) -> ServerConfig:
    return ServerConfig.parse(
        {"version": 0.1, "notifications": {"endpoints": [endpoint], **notifications}}
    )


def _summary(events: list[dict[str, Any]]) -> list[tuple[str, str, str, int | None, str]]:
    return [
        (
            e["action"],
            e["target"].get("mediaType", ""),
            e["target"].get("digest", ""),
            e["target"].get("size"),
            e["target"].get("tag", ""),
        )
        for e in events
    ]


@pytest.mark.parametrize("envelope", ["v1", "v2"])
def test_every_event_of_a_push_and_a_pull(
    registry: Registry, receiver: Receiver, envelope: str
) -> None:
    endpoint = {"name": "hook", "url": receiver.url, "headers": {"Authorization": ["Bearer x"]}}
    config = _config(endpoint, envelope=envelope)
    manifest = IMAGE.manifest
    with TestClient(configured_app(registry, config), headers={"User-Agent": "tests/1"}) as c:
        push_image(c, "team/app", IMAGE, tag="v1")
        assert c.head("/v2/team/app/manifests/v1").status_code == 200
        assert c.get("/v2/team/app/manifests/v1").status_code == 200
        for blob in IMAGE.blobs:
            assert c.get(f"/v2/team/app/blobs/{blob.digest}").content == blob.data
        events = receiver.wait_for(8)
        time.sleep(0.2)  # nothing more arrives: the HEAD was no pull
        assert len(receiver.events()) == 8
    blobs = [(b.digest, b.size) for b in IMAGE.blobs]
    octet = mediatypes.OCTET_STREAM
    assert _summary(events) == [
        *(("push", octet, digest, size, "") for digest, size in blobs),
        ("push", manifest.media_type, manifest.digest, manifest.size, "v1"),
        ("pull", manifest.media_type, manifest.digest, manifest.size, "v1"),
        *(("pull", octet, digest, size, "") for digest, size in blobs),
    ]
    first = receiver.posts[0]
    wanted = f"application/vnd.docker.distribution.events.{envelope}+json"
    assert first.headers["content-type"] == wanted
    assert first.headers["authorization"] == "Bearer x"
    push = events[3]
    assert push["target"]["repository"] == "team/app"
    assert push["target"]["url"] == f"http://testserver/v2/team/app/manifests/{manifest.digest}"
    assert ("length" in push["target"]) == (envelope == "v1")
    assert push["request"]["method"] == "PUT"
    assert push["request"]["useragent"] == "tests/1"
    assert push["request"]["host"] == "testserver"
    assert len(push["request"]["id"]) == 32
    assert push["actor"] == {}
    assert push["source"]["addr"] == f"{socket.gethostname()}:5000"
    assert {e["source"]["instanceID"] for e in events} == {push["source"]["instanceID"]}
    assert len({e["id"] for e in events}) == 8
    assert all(e["timestamp"].endswith("Z") for e in events)
    pull = events[5]
    assert pull["target"]["url"] == f"http://testserver/v2/team/app/blobs/{IMAGE.config.digest}"
    assert pull["request"]["method"] == "GET"


def test_mount_deletes_and_session_uploads(registry: Registry, receiver: Receiver) -> None:
    config = _config({"name": "hook", "url": receiver.url})
    data = b"uploaded in a session"
    with TestClient(configured_app(registry, config)) as c:
        started = c.post("/v2/one/blobs/uploads/")
        assert started.status_code == 202
        location = started.headers["location"]
        assert c.patch(location, content=data).status_code == 202
        assert c.put(location, params={"digest": sha256(data)}).status_code == 201
        mounted = c.post(f"/v2/two/blobs/uploads/?mount={sha256(data)}&from=one")
        assert mounted.status_code == 201
        digest = push_image(c, "one", IMAGE, tag="gone")
        assert c.delete("/v2/one/manifests/gone").status_code == 202
        assert c.delete(f"/v2/one/manifests/{digest}").status_code == 202
        assert c.delete(f"/v2/two/blobs/{sha256(data)}").status_code == 202
        assert c.get("/v2/one/manifests/gone").status_code == 404
        events = receiver.wait_for(9)
    targets = [(e["action"], e["target"]) for e in events]
    assert targets[0] == (
        "push",
        {
            "mediaType": mediatypes.OCTET_STREAM,
            "digest": sha256(data),
            "size": len(data),
            "repository": "one",
            "url": f"http://testserver/v2/one/blobs/{sha256(data)}",
        },
    )
    assert targets[1] == (
        "mount",
        {
            "mediaType": mediatypes.OCTET_STREAM,
            "digest": sha256(data),
            "size": len(data),
            "repository": "two",
            "fromRepository": "one",
            "url": f"http://testserver/v2/two/blobs/{sha256(data)}",
        },
    )
    assert [a for a, _ in targets[2:6]] == ["push"] * 4
    assert targets[6:] == [
        ("delete", {"repository": "one", "tag": "gone"}),
        ("delete", {"repository": "one", "digest": digest}),
        ("delete", {"repository": "two", "digest": sha256(data)}),
    ]


def test_ignored_actions_and_media_types_are_not_sent(
    registry: Registry, receiver: Receiver
) -> None:
    endpoint = {
        "name": "hook",
        "url": receiver.url,
        "ignoredmediatypes": [mediatypes.OCTET_STREAM],
        "ignore": {"actions": ["pull"], "mediatypes": [IMAGE.manifest.media_type]},
    }
    other = build_image("other", oci=True)
    seen: list[Event] = []
    config = _config(endpoint)
    with TestClient(configured_app(registry, config, listeners=[seen.append])) as c:
        push_image(c, "app", IMAGE, tag="docker")
        push_image(c, "app", other, tag="oci")
        accept = {"Accept": mediatypes.OCI_IMAGE_MANIFEST}
        assert c.get("/v2/app/manifests/oci", headers=accept).status_code == 200
        events = receiver.wait_for(1)
        wait_until(lambda: True if len(seen) == 9 else None)
    assert _summary(events) == [
        ("push", other.manifest.media_type, other.manifest.digest, other.manifest.size, "oci")
    ]
    assert [e.action for e in seen] == ["push"] * 8 + ["pull"]  # listeners see everything


def test_a_receiver_down_for_a_while_gets_the_queued_events_later(
    registry: Registry, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    endpoint = {
        "name": "late",
        "url": f"http://127.0.0.1:{port}/events",
        "threshold": 2,
        "backoff": "100ms",
        "queuesize": 5,
    }
    blobs = [f"blob {i}".encode() for i in range(8)]
    app = configured_app(registry, _config(endpoint))
    caplog.set_level(logging.WARNING, logger="pydistribution.server.notifications")
    with TestClient(app) as c:
        for data in blobs:
            push_blob(c, "app", data)
        time.sleep(0.5)  # a few failed posts and backoffs
        receiver = Receiver(port)
        try:
            events = receiver.wait_for(5)
            time.sleep(0.3)
            assert len(receiver.events()) == 5
        finally:
            receiver.stop()
    assert [e["target"]["digest"] for e in events] == [sha256(d) for d in blobs[:5]]
    assert "notification queue late is full (5 events): 1 events dropped so far" in caplog.text
    assert "notification endpoint late failed 2 times in a row" in caplog.text


def test_a_receiver_that_never_answers_does_not_slow_requests(registry: Registry) -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(100)  # connections are accepted by the kernel and never answered
    url = f"http://127.0.0.1:{silent.getsockname()[1]}/events"
    endpoint = {"name": "silent", "url": url, "timeout": "60s", "threshold": 1}
    app = configured_app(registry, _config(endpoint))
    try:
        with TestClient(app) as c:
            started = time.monotonic()
            for i in range(30):
                push_blob(c, "app", f"blob {i}".encode())
                assert c.get(f"/v2/app/blobs/{sha256(f'blob {i}'.encode())}").status_code == 200
            elapsed = time.monotonic() - started
    finally:
        silent.close()
    # Each post waits up to 60 s for an answer that never comes: had a request waited for
    # its event, the first would have taken a minute.
    assert elapsed < 30


def test_the_notifications_section_as_go_writes_it() -> None:
    config = ServerConfig.parse(
        {
            "notifications": {
                "events": {"includereferences": True},
                "endpoints": [
                    {
                        "name": "alistener",
                        "disabled": False,
                        "url": "https://my.listener.com/event",
                        "headers": {"Authorization": ["Bearer <token>"]},
                        "timeout": "1s",
                        "threshold": 10,
                        "backoff": "1s",
                        "ignoredmediatypes": ["application/octet-stream"],
                        "ignore": {
                            "mediatypes": ["application/json"],
                            "actions": ["pull"],
                        },
                    },
                    {"name": "off", "disabled": True, "url": "http://x/"},
                    {"url": "http://127.0.0.1:1/", "timeout": 500000000, "colour": "red"},
                ],
            }
        }
    )
    assert config.notifications == NotificationsConfig(
        endpoints=(
            EndpointConfig(
                name="alistener",
                url="https://my.listener.com/event",
                headers={"Authorization": ("Bearer <token>",)},
                ignored_media_types=frozenset({"application/octet-stream", "application/json"}),
                ignored_actions=frozenset({"pull"}),
            ),
            EndpointConfig(
                name="http://127.0.0.1:1/",
                url="http://127.0.0.1:1/",
                timeout=EndpointConfig(name="x", url="http://x").timeout / 2,
            ),
        ),
        envelope="v2",
    )
    assert config.warnings == (
        "notifications.events.includereferences: not supported by this server, ignored",
        "notifications.endpoints[2].colour: unknown key, ignored",
    )
    assert ServerConfig.parse({"notifications": {"endpoints": []}}).notifications is None


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"endpoints": [{"url": "ftp://x"}]}, "notifications.endpoints[0].url"),
        ({"endpoints": [{"url": "http://x", "threshold": 0}]}, "[0].threshold"),
        ({"endpoints": [{"url": "http://x", "backoff": "soon"}]}, "[0].backoff"),
        ({"endpoints": [{"url": "http://x", "ignore": {"actions": ["x"]}}]}, "ignore.actions"),
        ({"endpoints": "http://x"}, "notifications.endpoints: expected a list"),
        ({"envelope": "v3", "endpoints": [{"url": "http://x"}]}, "notifications.envelope"),
        ({"endpoints": [{"url": "http://x"}, {"url": "http://x"}]}, "the same name"),
    ],
)
def test_invalid_notifications_are_refused(section: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message.replace("[", r"\[")):
        ServerConfig.parse({"notifications": section})
