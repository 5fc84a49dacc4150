"""Storage drivers: the filesystem-like layer under registry storage (driver contract).

[`StorageDriver`][pydistribution.storage.driver.StorageDriver] is what the storage layer and other
callers use; every driver is
exposed through [`CheckedDriver`][pydistribution.storage.driver.CheckedDriver], which validates
paths once ([`PATH_PATTERN`][pydistribution.storage.driver.PATH_PATTERN]),
names every error after the driver and enforces the
[`FileWriter`][pydistribution.storage.driver.FileWriter] rules, so a
driver author implements only [`RawDriver`][pydistribution.storage.driver.RawDriver] and
[`RawFileWriter`][pydistribution.storage.driver.RawFileWriter]. The
built-in drivers live in [`inmemory`][pydistribution.storage.driver.inmemory] and
[`filesystem`][pydistribution.storage.driver.filesystem];
[`factory`][pydistribution.storage.driver.factory]
builds any registered driver by name from configuration parameters. Importing this
package imports no driver.
"""

from __future__ import annotations

from pydistribution._public import claim_exports
from pydistribution.storage.driver._batch import BatchOperations
from pydistribution.storage.driver._checked import CheckedDriver, batch_operations
from pydistribution.storage.driver._paths import PATH_PATTERN, is_valid_path
from pydistribution.storage.driver._protocol import (
    DEFAULT_PARALLELISM,
    BatchDeleter,
    BatchMover,
    BatchStatter,
    EmptyDirectoryRemover,
    FileInfo,
    FileLister,
    FileWriter,
    LocalFiles,
    ParallelismHint,
    RawDriver,
    RawFileWriter,
    RawScanner,
    StorageDriver,
    TemporaryFileRemover,
    WalkAction,
    WalkFn,
)
from pydistribution.storage.driver._walk import Walker

__all__ = [
    "DEFAULT_PARALLELISM",
    "PATH_PATTERN",
    "BatchDeleter",
    "BatchMover",
    "BatchOperations",
    "BatchStatter",
    "CheckedDriver",
    "EmptyDirectoryRemover",
    "FileInfo",
    "FileLister",
    "FileWriter",
    "LocalFiles",
    "ParallelismHint",
    "RawDriver",
    "RawFileWriter",
    "RawScanner",
    "StorageDriver",
    "TemporaryFileRemover",
    "WalkAction",
    "WalkFn",
    "Walker",
    "batch_operations",
    "is_valid_path",
]

claim_exports(globals())
