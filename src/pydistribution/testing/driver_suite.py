"""A conformance suite for anything that implements the ``StorageDriver`` protocol.

See [`DriverSuite`][pydistribution.testing.driver_suite.DriverSuite] for how to use it.
"""

from __future__ import annotations

from pydistribution.testing._driver_base import StorageListing
from pydistribution.testing._driver_batch import BatchTests
from pydistribution.testing._driver_concurrency import ConcurrencyTests
from pydistribution.testing._driver_content import ContentTests
from pydistribution.testing._driver_paths import PathTests
from pydistribution.testing._driver_streams import StreamTests
from pydistribution.testing._driver_walk import WalkTests

__all__ = ["DriverSuite", "StorageListing"]


class DriverSuite(PathTests, ContentTests, StreamTests, WalkTests, BatchTests, ConcurrencyTests):
    """Every driver conformance test; subclass it and provide the ``driver`` fixture.

    Provide ``driver`` in a subclass in a test module, returning a fresh, empty driver;
    pytest then runs the whole checklist of driver contract §11 against it (paths,
    content, streams, stat, list, move, delete, redirects, walks, batched operations,
    threads).
    Optional fixtures sharpen it:

    * ``storage_listing``: a callable listing everything in the driver's raw storage, so
      that files, directories or temporary files hidden from ``list`` fail the test that
      left them behind (every test must leave the store as it found it);
    * ``reopen``: a callable opening a *new* driver instance on the same storage, for the
      resume-after-restart test (by default the same instance is used).

    Class attributes scale the big tests (``large_file_size``, ``append_chunk_size``,
    ``concurrent_streams``, ``concurrent_stream_size``, ``concurrent_read_size``,
    ``mod_time_pause``); tests whose name contains ``large`` stream the biggest files and can
    be deselected with ``-k "not large"``. For example:

    ```python
    class TestMyDriver(DriverSuite):
        @pytest.fixture
        def driver(self, tmp_path: Path) -> StorageDriver:
            return CheckedDriver(MyRawDriver(tmp_path))

        @pytest.fixture
        def storage_listing(self, tmp_path: Path) -> Callable[[], list[str]]:
            return lambda: sorted(str(p) for p in tmp_path.rglob("*"))
    ```
    """
