"""Link files: a bare digest, ASCII, no trailing newline (storage-layout document §2.1)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydistribution.digest import Digest
from pydistribution.errors import DigestInvalidError, DigestUnsupportedError, PathNotFoundError
from pydistribution.storage import _paths

if TYPE_CHECKING:
    from pydistribution.storage.driver import StorageDriver

__all__ = ["link_blob", "read_link", "write_link"]


def read_link(driver: StorageDriver, path: str) -> Digest | None:
    """The digest a link names, or ``None`` when the link is missing or unreadable.

    Readers treat a missing, empty or corrupt link exactly like an absent one, as the Go
    layout requires of them; surrounding whitespace is tolerated on read.
    """
    try:
        content = driver.get_content(path)
    except PathNotFoundError:
        return None
    try:
        return Digest.parse(content.decode("ascii").strip())
    except (UnicodeDecodeError, DigestInvalidError, DigestUnsupportedError):
        return None


def write_link(driver: StorageDriver, path: str, digest: Digest) -> None:
    """Write ``digest`` as a link file in the exact form the Go registry writes."""
    driver.put_content(path, str(digest).encode("ascii"))


def link_blob(driver: StorageDriver, repository: str, canonical: Digest, requested: Digest) -> None:
    """Link blob ``canonical`` into ``repository``, plus an alias link for ``requested``.

    The alias (a link under the caller's digest naming the sha256 target) is written
    only when the caller named the blob by another digest, as the Go registry does.
    """
    write_link(driver, _paths.layer_link(repository, canonical), canonical)
    if requested != canonical:
        write_link(driver, _paths.layer_link(repository, requested), canonical)
