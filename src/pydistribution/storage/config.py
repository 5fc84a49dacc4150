"""Open registry storage from a root URL or from a Go registry ``config.yml``.

A *root* names where a registry's layout lives:

| root | storage |
| --- | --- |
| ``/var/lib/registry``, ``./data`` (a bare path) | filesystem driver at that directory |
| ``file:///var/lib/registry`` | filesystem driver at that directory |
| ``memory://`` | a fresh in-memory driver |
| ``s3://bucket/prefix?region=...`` | the ``s3`` driver; query keys are its Go parameters |
| ``/etc/docker/registry/config.yml`` (a ``.yml`` or ``.yaml`` file) | its ``storage`` section |

The Go configuration's storage section is handed to the driver factory as it is
(``rootdirectory`` and so on), and the registry options come from ``storage.delete``,
``storage.redirect``, ``storage.cache`` and ``validation``. Reading YAML needs PyYAML
(``pip install 'pydistribution[cli]'``);
[`registry_from_config()`][pydistribution.storage.config.registry_from_config] takes an already
parsed mapping and needs nothing.
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from pydistribution.descriptor import Platform
from pydistribution.errors import ConfigurationError
from pydistribution.storage._options import IndexValidation, RegistryOptions
from pydistribution.storage._registry import Registry
from pydistribution.storage.cache import BlobDescriptorCache, MemoryBlobDescriptorCache
from pydistribution.storage.driver import StorageDriver
from pydistribution.storage.driver.factory import create_driver

__all__ = [
    "load_config",
    "open_driver",
    "open_registry",
    "options_from_config",
    "registry_from_config",
]

# Keys of the Go storage section that configure the registry, not a driver.
_NON_DRIVER_KEYS: Final = frozenset({"delete", "redirect", "cache", "maintenance", "tag"})
_CONFIG_SUFFIXES: Final = (".yml", ".yaml")


def _section(config: Mapping[str, object], key: str, where: str) -> Mapping[str, object]:
    value = config.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"{where}{key}: expected a mapping")
    return value


def _flag(section: Mapping[str, object], key: str, where: str, default: bool) -> bool:
    value = section.get(key, default)
    if not isinstance(value, bool):
        raise ConfigurationError(f"{where}{key}: expected true or false")
    return value


def _strings(section: Mapping[str, object], key: str, where: str) -> tuple[str, ...]:
    value = section.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigurationError(f"{where}{key}: expected a list of strings")
    return tuple(value)


def options_from_config(config: Mapping[str, object]) -> RegistryOptions:
    """The registry options a Go ``config.yml`` asks for.

    Raises:
        ConfigurationError: a section has the wrong shape.
    """
    storage = _section(config, "storage", "")
    delete = _section(storage, "delete", "storage.")
    redirect = _section(storage, "redirect", "storage.")
    validation = _section(config, "validation", "")
    manifests = _section(validation, "manifests", "validation.")
    urls = _section(manifests, "urls", "validation.manifests.")
    indexes = _section(manifests, "indexes", "validation.manifests.")
    disabled = _flag(validation, "disabled", "validation.", False)
    platforms = indexes.get("platforms", "all")
    if not isinstance(platforms, str):
        raise ConfigurationError("validation.manifests.indexes.platforms: expected a string")
    mode: IndexValidation = "all"
    if platforms.lower() == "none" or disabled:
        mode = "none"
    elif platforms.lower() == "list":
        mode = "list"
    entries = indexes.get("platformlist") or []
    if not isinstance(entries, list):
        raise ConfigurationError("validation.manifests.indexes.platformlist: expected a list")
    platform_list: list[Platform] = []
    for entry in entries:
        if not isinstance(entry, Mapping):
            raise ConfigurationError("validation.manifests.indexes.platformlist: expected maps")
        platform_list.append(
            Platform(architecture=str(entry.get("architecture", "")), os=str(entry.get("os", "")))
        )
    allow = _strings(urls, "allow", "validation.manifests.urls.")
    deny = _strings(urls, "deny", "validation.manifests.urls.")
    if disabled and not allow and not deny:
        # With validation disabled Go applies no URL policy at all.
        allow = (".*",)
    try:
        return RegistryOptions(
            delete_enabled=_flag(delete, "enabled", "storage.delete.", False),
            redirect=not _flag(redirect, "disable", "storage.redirect.", False),
            url_allow=allow,
            url_deny=deny,
            index_validation=mode,
            index_platforms=tuple(platform_list),
        )
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(f"invalid registry options: {exc}") from exc


def _driver_section(config: Mapping[str, object]) -> tuple[str, Mapping[str, object]]:
    storage = _section(config, "storage", "")
    drivers = [key for key in storage if key not in _NON_DRIVER_KEYS]
    if len(drivers) != 1:
        found = ", ".join(sorted(drivers)) or "none"
        raise ConfigurationError(f"storage: exactly one driver must be configured (found {found})")
    name = drivers[0]
    return name, _section(storage, name, "storage.")


def _cache_from_config(config: Mapping[str, object]) -> BlobDescriptorCache | None:
    storage = _section(config, "storage", "")
    cache = _section(storage, "cache", "storage.")
    kind = cache.get("blobdescriptor")
    if kind in (None, ""):
        return None
    if kind == "inmemory":
        size = cache.get("blobdescriptorsize", 10_000)
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise ConfigurationError("storage.cache.blobdescriptorsize: expected a positive number")
        return MemoryBlobDescriptorCache(size)
    if kind == "redis":
        # Imported here: redis-py is the redis extra, and only this cache needs it.
        from pydistribution.storage.cache.redis import redis_cache_from_config

        return redis_cache_from_config(config)
    raise ConfigurationError(f"storage.cache.blobdescriptor: unknown cache {kind!r}")


def registry_from_config(config: Mapping[str, object]) -> Registry:
    """A [`Registry`][pydistribution.storage.Registry] as the Go registry would build it from
    ``config``.

    Raises:
        ConfigurationError: no or several drivers, or a badly shaped section.
        UnknownDriverError: the driver is not registered.
        DriverParameterError: a driver parameter is wrong.
    """
    name, parameters = _driver_section(config)
    driver = create_driver(name, parameters)
    return Registry(driver, options=options_from_config(config), cache=_cache_from_config(config))


def load_config(path: str | os.PathLike[str]) -> Mapping[str, object]:
    """Parse a Go registry ``config.yml``.

    Raises:
        ConfigurationError: the file is not YAML or not a mapping.
        OSError: the file cannot be read.
    """
    try:
        import yaml
    except ImportError as exc:
        raise ImportError(
            "reading config.yml needs PyYAML: pip install 'pydistribution[cli]'"
        ) from exc
    text = Path(path).read_text(encoding="utf-8")
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(document, Mapping):
        raise ConfigurationError(f"{path}: expected a YAML mapping at the top")
    return document


def open_driver(root: str) -> StorageDriver:
    """The storage driver a root URL or path names (config files excluded).

    Raises:
        ConfigurationError: the URL scheme is unknown or the URL is malformed.
        UnknownDriverError: the scheme's driver is not installed.
        DriverParameterError: a parameter in the URL is wrong.
    """
    parsed = urllib.parse.urlsplit(root)
    scheme = parsed.scheme.lower()
    if scheme in {"", "file"} or (len(scheme) == 1 and os.name == "nt"):
        path = parsed.path if scheme == "file" else root
        if scheme == "file" and parsed.netloc not in {"", "localhost"}:
            raise ConfigurationError(f"{root}: file URLs name a local path (file:///path)")
        if not path:
            raise ConfigurationError("an empty root path")
        return create_driver("filesystem", {"rootdirectory": urllib.parse.unquote(path)})
    if scheme in {"memory", "inmemory"}:
        return create_driver("inmemory", {})
    if scheme == "s3":
        if not parsed.netloc:
            raise ConfigurationError(f"{root}: an s3 root names a bucket (s3://bucket/prefix)")
        parameters: dict[str, object] = dict(urllib.parse.parse_qsl(parsed.query))
        parameters["bucket"] = parsed.netloc
        if parsed.path.strip("/"):
            parameters["rootdirectory"] = "/" + parsed.path.strip("/")
        return create_driver("s3", parameters)
    raise ConfigurationError(f"{root}: unknown storage root scheme {scheme!r}")


def open_registry(root: str, *, options: RegistryOptions | None = None) -> Registry:
    """The registry a root names: a path, ``file://``, ``memory://``, ``s3://`` or a config.

    ``options`` overrides the options a config file would give.

    Raises:
        ConfigurationError: the root or the configuration is invalid.
        UnknownDriverError: the driver is not installed.
        DriverParameterError: a driver parameter is wrong.
        OSError: a config file cannot be read.
    """
    if root.endswith(_CONFIG_SUFFIXES) and Path(root).is_file():
        config = load_config(root)
        registry = registry_from_config(config)
        if options is None:
            return registry
        return Registry(registry.driver, options=options, cache=_cache_from_config(config))
    return Registry(open_driver(root), options=options)
