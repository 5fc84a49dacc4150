"""The namespace suite over HTTP: `RemoteRegistry` against this server under uvicorn.

The same behaviour the suite demands of registry storage must survive the trip through
the HTTP API and back, so the server loses nothing the protocols promise.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from pydistribution.client import RemoteRegistry, RetryPolicy
from pydistribution.protocols import Namespace
from pydistribution.testing import NamespaceSuite
from tests.server._process import ROOT_VARIABLE, UvicornServer


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UvicornServer]:
    """One server for the module (starting one per test would double its time)."""
    root = tmp_path_factory.mktemp("root")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(ROOT_VARIABLE, str(root))
        with UvicornServer(root, workers=1) as running:
            yield running


@pytest.fixture
def server(shared_server: UvicornServer) -> UvicornServer:
    """The shared server over an emptied root: each test starts with no repositories."""
    for child in shared_server.root.iterdir():
        shutil.rmtree(child)
    return shared_server


class TestRemoteRegistryOnOurServer(NamespaceSuite):
    """Every namespace behaviour, over HTTP, against our own server."""

    @pytest.fixture
    def namespace(self, server: UvicornServer) -> Namespace:
        return RemoteRegistry(server.url, retry=RetryPolicy(attempts=2, initial_delay=0.01))
