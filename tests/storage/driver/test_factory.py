"""The driver factory: built-ins, registration, entry points, Go-style parameters."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from pydistribution.errors import (
    DriverAlreadyRegisteredError,
    DriverParameterError,
    UnknownDriverError,
)
from pydistribution.storage.driver import StorageDriver
from pydistribution.storage.driver.factory import (
    ENTRY_POINT_GROUP,
    bool_parameter,
    create_driver,
    int_parameter,
    limit_parameter,
    register_driver,
    registered_drivers,
    str_parameter,
    unregister_driver,
)
from pydistribution.storage.driver.filesystem import FilesystemDriver
from pydistribution.storage.driver.inmemory import InMemoryDriver


@pytest.fixture
def registered() -> Iterator[list[str]]:
    """Names registered by the test; unregistered afterwards to restore the table."""
    names: list[str] = []
    yield names
    for name in names:
        unregister_driver(name)


def modules_after(code: str) -> list[str]:
    script = f"import sys\n{code}\nprint(__import__('json').dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True)
    return list(json.loads(out.stdout))


def test_builtins() -> None:
    """``filesystem`` and ``inmemory`` are registered as lazy entries."""
    drivers = registered_drivers()
    assert drivers["filesystem"] == "pydistribution.storage.driver.filesystem:from_parameters"
    assert drivers["inmemory"] == "pydistribution.storage.driver.inmemory:from_parameters"
    assert isinstance(create_driver("inmemory"), InMemoryDriver)


def test_registry_view_is_read_only() -> None:
    with pytest.raises(TypeError):
        registered_drivers()["x"] = "m:f"  # type: ignore[index]


def test_importing_the_factory_imports_no_driver() -> None:
    """Built-in drivers are imported only when created; the testing package is cheap."""
    loaded = modules_after("import pydistribution.storage.driver.factory, pydistribution.testing")
    assert "pydistribution.storage.driver.filesystem" not in loaded
    assert "pydistribution.storage.driver.inmemory" not in loaded
    assert "pytest" not in loaded
    loaded = modules_after(
        "from pydistribution.storage.driver.factory import create_driver\ncreate_driver('inmemory')"
    )
    assert "pydistribution.storage.driver.inmemory" in loaded
    assert "pydistribution.storage.driver.filesystem" not in loaded


def test_unknown_driver() -> None:
    with pytest.raises(UnknownDriverError, match=r"'nosuch'.*filesystem, inmemory"):
        create_driver("nosuch", {})


def test_register_and_create(registered: list[str]) -> None:
    """A registered factory receives a read-only copy of the parameters."""
    received: list[Mapping[str, object]] = []

    def factory(parameters: Mapping[str, object]) -> StorageDriver:
        received.append(parameters)
        return InMemoryDriver()

    register_driver("custom", factory)
    registered.append("custom")
    params = {"key": "value"}
    assert isinstance(create_driver("custom", params), InMemoryDriver)
    assert received == [params]
    with pytest.raises(TypeError):
        received[0]["key"] = "changed"  # type: ignore[index]
    assert "custom" in registered_drivers()


def test_register_twice(registered: list[str]) -> None:
    register_driver("twice", lambda parameters: InMemoryDriver())
    registered.append("twice")
    with pytest.raises(DriverAlreadyRegisteredError, match="'twice'"):
        register_driver("twice", lambda parameters: InMemoryDriver())
    with pytest.raises(DriverAlreadyRegisteredError, match="'filesystem'"):
        register_driver("filesystem", lambda parameters: InMemoryDriver())


@pytest.mark.parametrize(
    ("name", "factory", "error"),
    [
        ("", "m:f", ValueError),
        ("x", "no-colon", ValueError),
        ("x", None, TypeError),
        ("x", 42, TypeError),
    ],
)
def test_register_nothing(name: str, factory: object, error: type[Exception]) -> None:
    """Registering an empty name or a non-factory is a programming error."""
    with pytest.raises(error):
        register_driver(name, factory)  # type: ignore[arg-type]


def test_unregister() -> None:
    with pytest.raises(UnknownDriverError):
        unregister_driver("never-registered")
    with pytest.raises(ValueError, match="built-in"):
        unregister_driver("inmemory")


def test_lazy_string_entry(
    registered: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ``"module:attr"`` registration imports its module on first use only."""
    (tmp_path / "lazy_driver_mod.py").write_text(
        "from pydistribution.storage.driver.inmemory import InMemoryDriver\n"
        "def create(parameters):\n"
        "    return InMemoryDriver()\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "lazy_driver_mod", raising=False)
    register_driver("lazy", "lazy_driver_mod:create")
    registered.append("lazy")
    assert "lazy_driver_mod" not in sys.modules
    assert isinstance(create_driver("lazy"), InMemoryDriver)
    assert "lazy_driver_mod" in sys.modules


def test_entry_points(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Names not registered are looked up in the entry-point group, at creation time."""
    (tmp_path / "ep_driver_mod.py").write_text(
        "from pydistribution.storage.driver.inmemory import InMemoryDriver\n"
        "def create(parameters):\n"
        "    return InMemoryDriver()\n"
    )
    dist = tmp_path / "ep_driver-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: ep-driver\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\nfromentrypoint = ep_driver_mod:create\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert isinstance(create_driver("fromentrypoint"), InMemoryDriver)
    assert "fromentrypoint" not in registered_drivers()


# -- the filesystem factory and Go's parameter parsing ------------------------------------


def test_filesystem_parameters(tmp_path: Path) -> None:
    """``rootdirectory`` sets the root; other keys (Go's ``useragent``) are ignored."""
    driver = create_driver(
        "filesystem",
        {"rootdirectory": str(tmp_path), "maxthreads": "50", "fsync": "false", "useragent": "x"},
    )
    assert isinstance(driver, FilesystemDriver)
    assert driver.root == str(tmp_path.resolve())


def test_filesystem_default_root() -> None:
    driver = create_driver("filesystem", {})
    assert isinstance(driver, FilesystemDriver)
    assert driver.root.endswith("/var/lib/registry")


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"rootdirectory": ""}, "'rootdirectory': must not be empty"),
        ({"rootdirectory": 5}, "'rootdirectory': expected a string"),
        ({"maxthreads": "many"}, "'maxthreads': parameter must be an integer, 'many' invalid"),
        ({"maxthreads": 2.5}, "'maxthreads': invalid value 2.5"),
        ({"fsync": "maybe"}, "'fsync': expected a boolean"),
    ],
)
def test_filesystem_bad_parameters(parameters: dict[str, object], message: str) -> None:
    with pytest.raises(DriverParameterError, match=f"^filesystem: parameter {message}"):
        create_driver("filesystem", parameters)


@pytest.mark.parametrize(
    ("value", "limit"),
    [
        (None, 100),
        (200, 200),
        (10, 25),
        (0, 25),
        (-3, 25),
        ("200", 200),
        ("10", 25),
        ("0x40", 64),
        ("0o77", 63),
        ("0b1000000", 64),
        ("077", 63),
        ("1_000", 1000),
        ("0x_ff", 255),
        (str(1 << 63), 1 << 63),
    ],
    ids=repr,
)
def test_limit_like_go(value: object, limit: int) -> None:
    """``maxthreads`` parses like Go's ``GetLimitFromParameter`` (min 25, default 100)."""
    assert limit_parameter("d", {"k": value}, "k", minimum=25, default=100) == limit


@pytest.mark.parametrize(
    "value",
    ["", " 5", "5 ", "+5", "-5", "08", "1__0", "_1", "1_", "0x", "12a", str(1 << 64), True, 1.0],
    ids=repr,
)
def test_limit_rejects_like_go(value: object) -> None:
    with pytest.raises(DriverParameterError, match=r"^d: parameter 'k': "):
        limit_parameter("d", {"k": value}, "k", minimum=25, default=100)


@pytest.mark.parametrize(
    ("value", "number"),
    [
        (None, 7),
        (5, 5),
        (0, 0),
        (-5, -5),
        ("42", 42),
        ("+42", 42),
        ("-42", -42),
        ("0x10", 16),
        ("-0x10", -16),
        ("0o17", 15),
        ("017", 15),
        ("0b101", 5),
        ("1_000", 1000),
        (str((1 << 63) - 1), (1 << 63) - 1),
        (str(-(1 << 63)), -(1 << 63)),
    ],
    ids=repr,
)
def test_int_like_go(value: object, number: int) -> None:
    """Strings are parsed like Go's ``strconv.ParseInt(s, 0, 64)``; nothing is clamped."""
    low, high = -(1 << 63), (1 << 63) - 1
    assert int_parameter("d", {"k": value}, "k", default=7, low=low, high=high) == number


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "must be an integer"),
        ("5MiB", "must be an integer"),
        ("--5", "must be an integer"),
        ("+-5", "must be an integer"),
        ("08", "must be an integer"),
        ("1__0", "must be an integer"),
        (str(1 << 63), "must be an integer"),
        (True, "invalid value"),
        (1.5, "invalid value"),
        (4, "between 5 and 10 \\(inclusive\\), not 4"),
        ("11", "between 5 and 10 \\(inclusive\\), not 11"),
    ],
    ids=repr,
)
def test_int_rejects_like_go(value: object, message: str) -> None:
    with pytest.raises(DriverParameterError, match=r"^d: parameter 'k': .*" + message):
        int_parameter("d", {"k": value}, "k", default=7, low=5, high=10)


@pytest.mark.parametrize(
    ("value", "result"),
    [
        (None, True),
        (True, True),
        (False, False),
        ("1", True),
        ("t", True),
        ("TRUE", True),
        ("True", True),
        ("0", False),
        ("f", False),
        ("False", False),
        ("FALSE", False),
    ],
    ids=repr,
)
def test_bool_like_go(value: object, result: bool) -> None:
    """Strings are parsed like Go's ``strconv.ParseBool``."""
    assert bool_parameter("d", {"k": value}, "k", True) is result


@pytest.mark.parametrize("value", ["yes", "tRUE", "", 1, 0], ids=repr)
def test_bool_rejects(value: object) -> None:
    with pytest.raises(DriverParameterError, match="expected a boolean"):
        bool_parameter("d", {"k": value}, "k", True)


def test_str_parameter_accepts_paths(tmp_path: Path) -> None:
    assert str_parameter("d", {"k": tmp_path}, "k", "x") == str(tmp_path)
    assert str_parameter("d", {}, "k", "default") == "default"
