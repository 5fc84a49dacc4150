"""The one factory that turns what a user typed into storage objects.

Every command reaches images through here, so the commands see only protocols
(`Namespace`, `Repository`): this module is the one place in the CLI that knows which
backend a root or reference names. A reference is one of

- `oci:PATH[:TAG|@DIGEST]`, an OCI image layout (as skopeo names one);
- `docker-archive:PATH[:NAME:TAG|@N]` and `oci-archive:PATH[:REF]`, an image archive
  file (read in place as a source; written as a new file as a destination);
- `REPO[:TAG|@DIGEST]`, a repository of a registry storage ROOT (a path, `file://`,
  `memory://`, `s3://` or a Go `config.yml`);
- `docker://HOST[:PORT]/REPO[:TAG|@DIGEST]`, a repository of a remote registry, through
  the HTTP client (`_remote`); `docker://HOST` as a ROOT is the whole registry.

Roots are checked the same way for every command (a missing path, a file, a missing
config, a directory without `docker/registry/v2`), so a mistyped root is a one-line error
instead of an empty registry.
"""

from __future__ import annotations

import itertools
import os
import re
import sys
import urllib.parse
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Final

import attrs
import click

from pydistribution.cli._remote import DOCKER_PREFIX, open_remote, open_remote_registry
from pydistribution.descriptor import Descriptor
from pydistribution.digest import Digest
from pydistribution.errors import (
    ConfigurationError,
    InvalidReferenceError,
    LayoutInvalidError,
    PathNotFoundError,
    TagUnknownError,
)
from pydistribution.layout import Layout, LayoutRepository
from pydistribution.protocols import Namespace, Repository
from pydistribution.reference import parse_reference

if TYPE_CHECKING:
    # Imported where used, so that a command that touches no archive or storage root
    # (a docker:// to oci: copy) starts without loading them.
    from pydistribution.archive import ArchiveRepository, ArchiveWriter
    from pydistribution.storage import Registry

__all__ = [
    "ARCHIVE_PREFIXES",
    "REF_HELP",
    "ROOT_HELP",
    "Target",
    "directory_to_create",
    "finish_target",
    "name_in_archive",
    "open_migration_destination",
    "open_namespace",
    "open_registry_root",
    "open_target",
    "resolve",
    "split_root",
]

ROOT_HELP = "a path, file:///path, memory://, s3://bucket/prefix, or a Go config.yml"
REF_HELP = (
    "oci:PATH[:TAG|@DIGEST], docker://HOST/REPO[:TAG|@DIGEST], "
    "docker-archive:PATH[:NAME:TAG], oci-archive:PATH[:REF], "
    "or REPO[:TAG|@DIGEST] of a storage ROOT"
)
ARCHIVE_PREFIXES: Final = ("docker-archive:", "oci-archive:")

_V2: Final = Path("docker", "registry", "v2")
_CONFIG_SUFFIXES: Final = (".yml", ".yaml")
_DIGEST_SUFFIX: Final = re.compile(r"[:@]([a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+)$")
_SCAN_LIMIT: Final = 1000
"""At most this many entries of a root are looked into for a layout one level down."""


@attrs.frozen
class Target:
    """A repository and the tag or digest the user named in it (if any)."""

    repository: Repository
    reference: str | Digest | None
    label: str
    """What the user typed, for messages."""
    is_layout: bool = False


# -- roots --------------------------------------------------------------------------------


def _local_path(root: str) -> Path | None:
    parsed = urllib.parse.urlsplit(root)
    if parsed.scheme == "file":
        return Path(urllib.parse.unquote(parsed.path))
    if parsed.scheme == "" or (len(parsed.scheme) == 1 and os.name == "nt"):
        return Path(root)
    return None


def _relative(text: str, found: Path) -> str:
    """``found`` written the way the user wrote ``text`` (relative stays relative)."""
    if Path(text).is_absolute() or text.startswith("file:"):
        return str(found)
    return os.path.relpath(found)


def _nearby_layout(text: str, path: Path) -> str:
    resolved = path.resolve()
    for parent in resolved.parents:
        if (parent / _V2).is_dir():
            which = "the parent, " if parent == resolved.parent else ""
            return f"; did you mean {which}{_relative(text, parent)}?"
    try:
        with os.scandir(resolved) as entries:
            children = sorted(itertools.islice(entries, _SCAN_LIMIT), key=lambda e: e.name)
    except OSError:
        return ""
    for child in children:
        if child.is_dir() and (Path(child.path) / _V2).is_dir():
            return f"; did you mean {_relative(text, Path(child.path))}?"
    return ""


def _check_directory(text: str, path: Path, what: str) -> None:
    if not path.exists():
        raise ConfigurationError(f"{what}: no such storage root directory")
    if not path.is_dir():
        raise ConfigurationError(
            f"{what}: not a directory (a storage root is a directory or a Go config.yml)"
        )
    if not (path / _V2).is_dir():
        hint = _nearby_layout(text, path)
        raise ConfigurationError(f"{what}: no registry storage here (no docker/registry/v2){hint}")


def _config_root(config: Mapping[str, object]) -> str | None:
    storage = config.get("storage")
    if not isinstance(storage, Mapping):
        return None
    section = storage.get("filesystem")
    if not isinstance(section, Mapping):
        return None
    root = section.get("rootdirectory", "/var/lib/registry")
    return root if isinstance(root, str) else None


def _check_locally(root: str) -> bool:
    """Check a local root; whether it was one (else the driver must be asked)."""
    if root.endswith(_CONFIG_SUFFIXES):
        config_path = Path(root)
        if not config_path.exists():
            raise ConfigurationError(f"{root}: no such config file")
        if not config_path.is_file():
            raise ConfigurationError(f"{root}: not a file")
        from pydistribution.storage.config import load_config

        directory = _config_root(load_config(config_path))
        if directory is None:
            return False
        what = f"{root}: storage.filesystem.rootdirectory {directory}"
        _check_directory(directory, Path(directory), what)
        return True
    path = _local_path(root)
    if path is not None:
        _check_directory(root, path, root)
        return True
    # memory:// is empty by nature: nothing to check.
    return urllib.parse.urlsplit(root).scheme.lower() in {"memory", "inmemory"}


def _check_driver(root: str, registry: Registry) -> None:
    try:
        registry.driver.stat("/" + _V2.as_posix())
    except PathNotFoundError:
        raise ConfigurationError(
            f"{root}: no registry storage here (no docker/registry/v2)"
        ) from None


def open_registry_root(root: str, *, deletes: bool = False, must_exist: bool = True) -> Registry:
    """The registry storage ROOT names, checked first when it must exist.

    A path (or `file://` URL) must be a directory holding `docker/registry/v2`; when
    the layout is found above or one level below, the message says where. A config file
    must exist, and its filesystem root is checked the same way. Other drivers are asked
    for `/docker/registry/v2`; `memory://` is always empty and is not checked.

    With ``deletes``, deleting is allowed whatever the configuration says: its
    `storage.delete.enabled` governs the registry's HTTP API, not its operator.

    Raises:
        ConfigurationError: the root is invalid, missing, a file, or holds no registry
            storage.
        UnknownDriverError: the root's driver is not installed.
    """
    from pydistribution.storage.config import open_registry

    checked = _check_locally(root) if must_exist else True
    registry = open_registry(root)
    if not checked:
        _check_driver(root, registry)
    if deletes and not registry.options.delete_enabled:
        options = attrs.evolve(registry.options, delete_enabled=True)
        registry = open_registry(root, options=options)
    return registry


def open_migration_destination(root: str) -> tuple[Registry, Callable[[], None]]:
    """The root a migration writes, and what to call once everything is written.

    A local directory is written without a flush per file (as ``cp -a`` does) and
    flushed once at the end (``os.sync``): a migration that stops half-way is run
    again, and the verification that ends it re-hashes every blob. Other roots are
    opened as `open_registry_root` does.

    Raises:
        ConfigurationError: the root is invalid.
        UnknownDriverError: the root's driver is not installed.
    """
    path = None if root.endswith(_CONFIG_SUFFIXES) else _local_path(root)
    if path is None:
        return open_registry_root(root, must_exist=False), lambda: None
    from pydistribution.storage import Registry
    from pydistribution.storage.driver.factory import create_driver

    driver = create_driver("filesystem", {"rootdirectory": str(path), "fsync": False})
    return Registry(driver), os.sync


def open_namespace(root: str) -> Namespace:
    """The repositories of ROOT, seen through the `Namespace` protocol."""
    if root.startswith(DOCKER_PREFIX):
        return open_remote_registry(root[len(DOCKER_PREFIX) :].rstrip("/"))
    return open_registry_root(root)


# -- references -----------------------------------------------------------------------


def _split_layout(text: str) -> tuple[str, str | Digest | None]:
    body = text[len("oci:") :]
    reference: str | Digest | None = None
    match = _DIGEST_SUFFIX.search(body)
    if match is not None:
        reference = Digest.parse(match.group(1))
        path = body[: match.start()]
    else:
        # Like skopeo: the path ends at the first colon; the rest is the reference name.
        path, _, name = body.partition(":")
        reference = name or None
    if not path:
        raise ConfigurationError(f"{text}: an oci: reference needs a path (oci:PATH[:TAG])")
    return path, reference


def _open_layout(text: str, path: Path) -> Layout:
    if not path.exists():
        raise ConfigurationError(f"{text}: no such layout directory")
    if not path.is_dir():
        raise ConfigurationError(f"{text}: not a directory")
    try:
        return Layout.open(path)
    except LayoutInvalidError as exc:
        raise ConfigurationError(f"{text}: not an OCI image layout ({exc.reason})") from None


def _create_layout(text: str, path: Path) -> Layout:
    for parent in (path, *path.parents):
        if parent.exists():
            if not parent.is_dir():
                raise ConfigurationError(f"{text}: not a directory: {parent}")
            break
    if (path / "oci-layout").exists():
        return _open_layout(text, path)
    return Layout.create(path, exist_ok=True)


def _open_archive_source(text: str, *, compress: bool) -> Target:
    kind, _, body = text.partition(":")
    path, _, reference = body.partition(":")
    if not path:
        raise ConfigurationError(f"{text}: an archive reference needs a path ({kind}:PATH)")
    if not Path(path).is_file():
        raise ConfigurationError(f"{text}: no such archive file")
    from pydistribution.archive import open_docker_archive, open_oci_archive

    archive: ArchiveRepository
    if kind == "docker-archive":
        archive = open_docker_archive(path, compress=compress)
    else:
        if compress:
            raise ConfigurationError(f"{text}: --compress-layers applies to docker-archive")
        archive = open_oci_archive(path)
    chosen: str | Digest | None = None
    if reference:
        image = archive.find(reference)
    elif len(archive.images) == 1:
        image = archive.images[0]
    else:
        return Target(archive, None, text, is_layout=True)
    chosen = image.descriptor.digest
    for name in image.names:
        tag = name.rsplit("/", 1)[-1].rpartition(":")[2] or name
        try:
            if archive.tags().get(tag).digest == chosen:
                chosen = tag
                break
        except TagUnknownError:
            continue
    return Target(archive, chosen, text, is_layout=True)


def _open_archive_destination(text: str, source_name: str) -> Target:
    kind, _, body = text.partition(":")
    path, _, reference = body.partition(":")
    if not path:
        raise ConfigurationError(f"{text}: an archive reference needs a path ({kind}:PATH)")
    parent = Path(path).resolve().parent
    if not parent.is_dir():
        raise ConfigurationError(f"{text}: no such directory: {parent}")
    name, tag = source_name, None
    if kind == "docker-archive" and reference:
        try:
            ref = parse_reference(reference)
        except InvalidReferenceError as exc:
            raise ConfigurationError(f"{text}: invalid reference: {exc.reason}") from None
        if ref.digest is not None:
            raise ConfigurationError(f"{text}: a docker archive names images NAME:TAG")
        name, tag = str(ref.named()), ref.tag
    elif reference:
        tag = reference
    from pydistribution.archive import ArchiveWriter

    writer = ArchiveWriter(path, kind="docker" if kind == "docker-archive" else "oci", name=name)
    return Target(writer, tag, text, is_layout=True)


def _archive_writer(target: Target) -> ArchiveWriter | None:
    """The archive ``target`` writes, if it is one (the archive module is loaded only
    when an archive was opened)."""
    if "pydistribution.archive" not in sys.modules:
        return None
    from pydistribution.archive import ArchiveWriter

    writer = target.repository
    return writer if isinstance(writer, ArchiveWriter) else None


def name_in_archive(target: Target, name: str, descriptor: Descriptor) -> None:
    """Give an image one more ``NAME:TAG`` in a docker archive being written.

    Raises:
        ConfigurationError: the target is not a docker archive being written.
    """
    writer = _archive_writer(target)
    if writer is None or writer.format != "docker":
        raise ConfigurationError("--additional-tag names images in a docker-archive: DST")
    try:
        ref = parse_reference(name)
    except InvalidReferenceError as exc:
        raise ConfigurationError(f"{name}: invalid reference: {exc.reason}") from None
    if ref.digest is not None or ref.tag is None:
        raise ConfigurationError(f"{name}: an additional tag is NAME:TAG")
    writer.name_image(f"{ref.named()}:{ref.tag}", descriptor)


def finish_target(target: Target, *, succeeded: bool) -> None:
    """Write out an archive being written (or drop it after a failure); else nothing."""
    writer = _archive_writer(target)
    if writer is not None:
        if succeeded:
            writer.close()
        else:
            writer.abort()


def open_target(
    text: str,
    root: str | None,
    *,
    create: bool = False,
    deletes: bool = False,
    root_hint: str = "a ROOT before it",
    compress_layers: bool = False,
    source_name: str = "archive",
) -> Target:
    """The repository and reference ``text`` names (see the module for the forms).

    With ``create`` a missing layout or storage root is made (for a destination);
    otherwise it must exist and is checked first. ``root_hint`` says how the command
    takes a root, for the message when a storage reference comes without one. An archive
    destination is a new file, written by `finish_target`; ``source_name`` names its
    images when the reference gives no name. ``compress_layers`` gzips the layers of a
    docker archive source (a new manifest digest).

    Raises:
        ConfigurationError: the reference needs a ROOT, names a remote registry, or its
            root or layout is missing or invalid, or the text is not a reference.
        ArchiveInvalidError: an archive source is refused.
        TagUnknownError: an archive source has no image of that name.
    """
    if text.startswith(ARCHIVE_PREFIXES):
        if root is not None:
            raise ConfigurationError(f"{text}: an archive takes no storage ROOT")
        if create:
            return _open_archive_destination(text, source_name)
        return _open_archive_source(text, compress=compress_layers)
    if text.startswith(DOCKER_PREFIX):
        if root is not None:
            raise ConfigurationError(f"{text}: a docker:// reference takes no storage ROOT")
        remote, repo_path, in_remote = open_remote(text)
        return Target(remote.repository(parse_reference(repo_path)), in_remote, text)
    if text.startswith("oci:"):
        if root is not None:
            raise ConfigurationError(f"{text}: an oci: layout takes no storage ROOT")
        path_text, in_layout = _split_layout(text)
        path = Path(path_text)
        layout = _create_layout(text, path) if create else _open_layout(text, path)
        return Target(LayoutRepository(layout), in_layout, text, is_layout=True)
    if root is None:
        raise ConfigurationError(
            f"{text}: a repository of registry storage needs {root_hint} "
            "(or name a layout as oci:PATH)"
        )
    try:
        ref = parse_reference(text)
    except InvalidReferenceError as exc:
        raise ConfigurationError(f"{text}: invalid reference: {exc.reason}") from None
    if ref.domain:
        raise ConfigurationError(
            f"{text}: a storage root holds repositories without a registry host "
            f"(for a remote registry, name it docker://{text})"
        )
    registry = open_registry_root(root, deletes=deletes, must_exist=not create)
    reference: str | Digest | None = ref.digest if ref.digest is not None else ref.tag
    return Target(registry.repository(ref), reference, text)


def split_root(args: tuple[str, ...], names: str) -> tuple[str | None, list[str]]:
    """``[ROOT] NAMES...``: the ROOT (when given) and the other arguments.

    A command taking ``[ROOT] REF`` gets one or two arguments: with two, the first is the
    storage root; with one, the reference must name its own place (``oci:PATH``).

    Raises:
        click.UsageError: the number of arguments fits neither form.
    """
    count = len(names.split())
    if len(args) == count + 1:
        return args[0], list(args[1:])
    if len(args) == count:
        return None, list(args)
    raise click.UsageError(f"expected [ROOT] {names}, got {len(args)} arguments")


def resolve(target: Target) -> Digest:
    """The manifest digest the target names (tag `latest` when it names none).

    Without a tag or digest, a layout with a single tag uses it; otherwise `latest` must
    exist, and the message lists the tags when it does not.

    Raises:
        TagUnknownError: the tag does not exist.
        RepositoryUnknownError: the repository does not exist.
        ConfigurationError: no tag was named and there is no `latest` to default to.
    """
    if isinstance(target.reference, Digest):
        return target.reference
    tags = target.repository.tags()
    if target.reference is not None:
        return tags.get(target.reference).digest
    names = tags.all()
    if target.is_layout and len(names) == 1:
        return tags.get(names[0]).digest
    if "latest" not in names:
        shown = ", ".join(names[:10]) + (", ..." if len(names) > 10 else "")
        raise ConfigurationError(
            f"{target.label}: name a tag or digest (there is no latest; tags: {shown or 'none'})"
        )
    return tags.get("latest").digest


def directory_to_create(text: str, root: str | None) -> Path | None:
    """The topmost local directory opening ``text`` with ``create`` would make, if any.

    A command that fails before writing anything removes it, leaving nothing behind.
    """
    path: Path | None
    if text.startswith("oci:"):
        path = Path(_split_layout(text)[0])
    elif root is not None and not root.endswith(_CONFIG_SUFFIXES):
        path = _local_path(root)
    else:
        path = None
    if path is None or path.exists():
        return None
    top = path
    for parent in path.parents:
        if parent.exists():
            break
        top = parent
    return top
