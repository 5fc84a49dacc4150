"""Build storage drivers by name from configuration parameters (driver contract §8).

A process-wide table maps a driver name to a factory: a callable that takes the
parameters mapping (the registry configuration's ``storage.<name>`` section) and returns
a ``StorageDriver``. The built-in drivers are lazy ``"module:attribute"`` entries, so
creating one imports its module (and its optional dependency) only then; the table is
filled when this module is defined, independent of what else was imported. Third-party
drivers are added with [`register_driver()`][pydistribution.storage.driver.factory.register_driver],
or found through the entry-point group
[`ENTRY_POINT_GROUP`][pydistribution.storage.driver.factory.ENTRY_POINT_GROUP] when a name is not in
the table.

Parameter values may arrive as strings, integers or booleans (YAML, environment
overrides), so factories convert leniently with `bool_parameter`, `int_parameter`,
`limit_parameter` and `str_parameter`. Unknown keys are ignored, as in Go: the Go
registry passes e.g. ``useragent`` to every driver.
"""

from __future__ import annotations

import importlib
import os
import re
import threading
from collections.abc import Callable, Mapping
from importlib.metadata import entry_points
from types import MappingProxyType
from typing import Final, TypeAlias

from pydistribution.errors import (
    DriverAlreadyRegisteredError,
    DriverParameterError,
    UnknownDriverError,
)
from pydistribution.storage.driver._protocol import StorageDriver

__all__ = [
    "ENTRY_POINT_GROUP",
    "DriverFactory",
    "bool_parameter",
    "create_driver",
    "int_parameter",
    "limit_parameter",
    "register_driver",
    "registered_drivers",
    "str_parameter",
    "unregister_driver",
]

DriverFactory: TypeAlias = Callable[[Mapping[str, object]], StorageDriver]
"""Builds a driver from its parameters; raises ``DriverParameterError`` on bad ones."""

ENTRY_POINT_GROUP: Final = "pydistribution.storage_drivers"
"""Entry points in this group name a third-party factory as ``"module:attribute"``."""

_BUILTIN: Final[Mapping[str, str]] = MappingProxyType(
    {
        "filesystem": "pydistribution.storage.driver.filesystem:from_parameters",
        "inmemory": "pydistribution.storage.driver.inmemory:from_parameters",
        # boto3 is imported only when an S3 driver is created; "s3aws" is Go's alias.
        "s3": "pydistribution.storage.driver.s3:from_parameters",
        "s3aws": "pydistribution.storage.driver.s3:from_parameters",
    }
)

_lock = threading.Lock()
_registry: dict[str, DriverFactory | str] = dict(_BUILTIN)

# strconv.ParseUint and ParseInt with base 0: a base prefix or a leading 0 (octal), "_"
# between digits (ParseInt also takes one leading sign).
_GO_DIGITS: Final = (
    (re.compile(r"0[xX](?:_?[0-9a-fA-F])+"), 16, 2),
    (re.compile(r"0[oO](?:_?[0-7])+"), 8, 2),
    (re.compile(r"0[bB](?:_?[01])+"), 2, 2),
    (re.compile(r"0(?:_?[0-7])*"), 8, 0),
    (re.compile(r"[1-9](?:_?[0-9])*"), 10, 0),
)
_GO_TRUE: Final = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_GO_FALSE: Final = frozenset({"0", "f", "F", "FALSE", "false", "False"})


def register_driver(name: str, factory: DriverFactory | str) -> None:
    """Register a driver factory under ``name``.

    Args:
        name: the driver name used in configuration (``storage.<name>``).
        factory: the factory, or ``"module:attribute"`` naming it (imported on first
            use).

    Raises:
        DriverAlreadyRegisteredError: ``name`` is taken (built-in names included).
        ValueError: ``name`` is empty, or ``factory`` is a string without ``:``.
        TypeError: ``factory`` is neither callable nor a string.
    """
    if not name:
        raise ValueError("a storage driver name must not be empty")
    if isinstance(factory, str):
        if ":" not in factory:
            raise ValueError(f"expected 'module:attribute', got {factory!r}")
    elif not callable(factory):
        raise TypeError(f"a storage driver factory must be callable, not {factory!r}")
    with _lock:
        if name in _registry:
            raise DriverAlreadyRegisteredError(name)
        _registry[name] = factory


def unregister_driver(name: str) -> None:
    """Remove a driver registered with
    [`register_driver()`][pydistribution.storage.driver.factory.register_driver] (for tests).

    Raises:
        UnknownDriverError: ``name`` is not registered.
        ValueError: ``name`` is a built-in driver.
    """
    with _lock:
        if name in _BUILTIN:
            raise ValueError(f"the built-in storage driver {name!r} cannot be unregistered")
        if name not in _registry:
            raise UnknownDriverError(name, _registry)
        del _registry[name]


def registered_drivers() -> Mapping[str, DriverFactory | str]:
    """A read-only live view of the registered drivers (built-ins included).

    Entry-point drivers are not listed;
    [`create_driver()`][pydistribution.storage.driver.factory.create_driver] finds them by name.
    """
    return MappingProxyType(_registry)


def create_driver(name: str, parameters: Mapping[str, object] | None = None) -> StorageDriver:
    """Build the driver registered as ``name`` from its configuration ``parameters``.

    Raises:
        UnknownDriverError: no driver is registered or advertised under ``name``
            (Go: "StorageDriver not registered").
        DriverParameterError: a parameter is missing or has a bad value.
        DriverAlreadyRegisteredError: several installed packages advertise ``name``.
        ImportError: the driver's module or optional dependency is missing.
    """
    factory = _registry.get(name)
    if factory is None:
        factory = _from_entry_points(name)
    if isinstance(factory, str):
        factory = _load(factory)
    return factory(MappingProxyType(dict(parameters or {})))


def _from_entry_points(name: str) -> str:
    found = {ep.value for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == name}
    if not found:
        raise UnknownDriverError(name, _registry)
    if len(found) > 1:
        raise DriverAlreadyRegisteredError(name)
    return found.pop()


def _load(target: str) -> DriverFactory:
    module_name, _, attribute = target.partition(":")
    factory: DriverFactory = getattr(importlib.import_module(module_name), attribute)
    if not callable(factory):
        raise TypeError(f"{target} is not a storage driver factory")
    return factory


def bool_parameter(driver: str, parameters: Mapping[str, object], key: str, default: bool) -> bool:
    """Read a boolean: a ``bool``, or a string Go's ``strconv.ParseBool`` accepts.

    Raises:
        DriverParameterError: any other value.
    """
    value = parameters.get(key)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        if value in _GO_TRUE:
            return True
        if value in _GO_FALSE:
            return False
    raise DriverParameterError(driver, key, f"expected a boolean, got {value!r}")


def limit_parameter(
    driver: str, parameters: Mapping[str, object], key: str, *, minimum: int, default: int
) -> int:
    """Read a positive limit the way Go's ``base.GetLimitFromParameter`` does.

    A string is parsed like ``strconv.ParseUint(s, 0, 64)`` (decimal, ``0x``/``0o``/
    ``0b`` prefixes, a leading ``0`` for octal); an integer that is zero or negative
    means ``minimum``; a missing value means ``default``. The result is at least
    ``minimum``.

    Raises:
        DriverParameterError: a string that is not an unsigned integer, or a value of
            another type (booleans and floats included).
    """
    value = parameters.get(key)
    limit = default
    if value is None:
        pass
    elif isinstance(value, str):
        parsed = _parse_go_uint(value)
        if parsed is None:
            raise DriverParameterError(
                driver, key, f"parameter must be an integer, {value!r} invalid"
            )
        limit = parsed
    elif isinstance(value, int) and not isinstance(value, bool):
        limit = value if value > 0 else minimum
    else:
        raise DriverParameterError(driver, key, f"invalid value {value!r}")
    return max(limit, minimum)


def int_parameter(
    driver: str, parameters: Mapping[str, object], key: str, *, default: int, low: int, high: int
) -> int:
    """Read an integer between ``low`` and ``high`` (inclusive), as Go's drivers read sizes.

    A string is parsed like ``strconv.ParseInt(s, 0, 64)`` (an optional sign, then
    decimal, ``0x``/``0o``/``0b`` prefixes or a leading ``0`` for octal); a missing
    value means ``default``. Unlike
    [`limit_parameter()`][pydistribution.storage.driver.factory.limit_parameter], nothing is
    clamped: a
    value out of range is an error.

    Raises:
        DriverParameterError: a string that is not a 64-bit integer, a value of another
            type (booleans and floats included), or a number outside ``low..high``.
    """
    value = parameters.get(key)
    number = default
    if value is None:
        pass
    elif isinstance(value, str):
        parsed = _parse_go_int(value)
        if parsed is None:
            raise DriverParameterError(
                driver, key, f"parameter must be an integer, {value!r} invalid"
            )
        number = parsed
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        raise DriverParameterError(driver, key, f"invalid value {value!r}")
    if not low <= number <= high:
        raise DriverParameterError(
            driver, key, f"should be a number between {low} and {high} (inclusive), not {number}"
        )
    return number


def str_parameter(driver: str, parameters: Mapping[str, object], key: str, default: str) -> str:
    """Read a non-empty string (an ``os.PathLike`` is accepted too).

    Raises:
        DriverParameterError: the value is empty or not a string.
    """
    value = parameters.get(key)
    if value is None:
        return default
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str):
        raise DriverParameterError(driver, key, f"expected a string, got {value!r}")
    if not value:
        raise DriverParameterError(driver, key, "must not be empty")
    return value


def _parse_go_digits(text: str) -> int | None:
    for pattern, base, skip in _GO_DIGITS:
        if pattern.fullmatch(text):
            return int(text[skip:].replace("_", "") or "0", base)
    return None


def _parse_go_uint(text: str) -> int | None:
    number = _parse_go_digits(text)
    return number if number is not None and number < 1 << 64 else None


def _parse_go_int(text: str) -> int | None:
    sign, digits = (-1, text[1:]) if text[:1] == "-" else (1, text.removeprefix("+"))
    number = _parse_go_digits(digits)
    if number is None:
        return None
    number *= sign
    return number if -(1 << 63) <= number < 1 << 63 else None
