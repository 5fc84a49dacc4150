"""Crash injection for registry storage: kill an operation at every step, check what is left.

A `Scenario` builds a registry (``setup``) and runs one storage operation on it
(``operation``). `run_crash_points` first runs the operation whole to count its
mutating steps, then once per crash point ``N`` on a fresh copy of the set-up root,
crashing after ``N`` steps, and opens the root fresh and checks it with
`check_root`: ``verify`` must find nothing, every tag's image must read whole (each
manifest, each child of an index, each blob hashed), and every tag must point where it
pointed before the operation or where the whole operation points it.

Modes (`MODES`):

* ``inmemory``: the in-memory driver, a `CrashingDriver` that raises
  `Crash` at the crash point (the tree left in memory is the crash state);
* ``filesystem``: the filesystem driver in a forked child that ``os._exit``-s at the
  crash point of its driver calls;
* ``filesystem-os``: the same, counting the driver's own disk steps (``open``,
  ``write``, ``fsync``, ``mkdir``, ``rename``, ``unlink``, ``rmdir``) instead, so a
  crash also falls inside one driver call.

`run_random_kills` is the slower variant: a child runs the whole operation on the
filesystem driver and is sent ``SIGKILL`` after a random delay. The forking modes need a
POSIX system and a process without other threads.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal, NoReturn

import attrs

from pydistribution import mediatypes
from pydistribution._public import claim_exports
from pydistribution.digest import Digest, digest_stream
from pydistribution.errors import DistributionError, RepositoryUnknownError
from pydistribution.storage import Registry, RegistryOptions
from pydistribution.storage.driver.filesystem import FilesystemDriver
from pydistribution.storage.driver.inmemory import InMemoryDriver
from pydistribution.storage.verify import verify
from pydistribution.testing._crashdriver import Crash, CrashingDriver, StepCounter, os_steps

if TYPE_CHECKING:
    from pydistribution.storage import RegistryRepository
    from pydistribution.storage.driver import StorageDriver

__all__ = [
    "MODES",
    "Crash",
    "CrashFailure",
    "CrashReport",
    "CrashingDriver",
    "Mode",
    "Scenario",
    "StepCounter",
    "TagState",
    "check_root",
    "evenly",
    "os_steps",
    "run_crash_points",
    "run_random_kills",
    "tag_state",
]

Mode = Literal["inmemory", "filesystem", "filesystem-os"]
MODES: Final[tuple[Mode, ...]] = ("inmemory", "filesystem", "filesystem-os")

TagState = dict[tuple[str, str], Digest]
"""``(repository, tag) -> manifest digest`` of every tag that resolves."""

_CRASHED: Final = 75
_FAILED: Final = 76


def _delete_enabled() -> RegistryOptions:
    return RegistryOptions(delete_enabled=True)


@attrs.frozen(kw_only=True)
class Scenario:
    """One storage operation to crash, with the registry it runs on.

    Attributes:
        name: what the operation is, for reports.
        setup: builds the registry the operation starts from; returns what the
            operation needs (an upload id, a manifest), or ``None``.
        operation: the operation, given the registry and what ``setup`` returned. It
            must make the same steps on every run.
        options: the registry options of both (deletes enabled by default).
    """

    name: str
    setup: Callable[[Registry], object]
    operation: Callable[[Registry, object], object]
    options: RegistryOptions = attrs.field(factory=_delete_enabled)


@attrs.frozen(kw_only=True)
class CrashFailure:
    """A crash point that left a state the checks reject.

    Attributes:
        point: steps completed before the crash (the whole run's step count when the
            operation was not interrupted).
        step: the step the crash fell on.
        problems: what the checks found.
    """

    point: int
    step: str
    problems: tuple[str, ...]

    def describe(self) -> str:
        """One line per problem, headed by the crash point."""
        lines = [f"crash point {self.point} (before {self.step}):"]
        lines += [f"  {p}" for p in self.problems]
        return "\n".join(lines)


@attrs.frozen(kw_only=True)
class CrashReport:
    """What a crash run tried and what it found.

    Attributes:
        scenario: the scenario's name.
        mode: one of `MODES`, or ``sigkill``.
        steps: mutating steps of the whole operation (0 for ``sigkill``).
        points: crash points tried.
        failures: the crash points whose state failed the checks.
        seconds: how long the run took.
        interrupted: crash points that cut the operation short (a random kill may
            land after the operation finished).
    """

    scenario: str
    mode: str
    steps: int
    points: int
    failures: tuple[CrashFailure, ...]
    seconds: float
    interrupted: int

    @property
    def ok(self) -> bool:
        """Whether every crash point left an acceptable state."""
        return not self.failures

    def describe(self) -> str:
        """A summary line, then every failure."""
        head = (
            f"{self.scenario} [{self.mode}]: {self.points} crash points"
            f" ({self.interrupted} interrupting) of {self.steps} steps,"
            f" {len(self.failures)} failed, {self.seconds:.2f} s"
        )
        return "\n".join([head, *(f.describe() for f in self.failures)])


def evenly(total: int, limit: int | None) -> list[int]:
    """Up to ``limit`` crash points out of ``range(total)``, spread evenly, ends included."""
    if limit is None or total <= limit:
        return list(range(total))
    if limit <= 1:
        return [0][:limit]
    return sorted({round(i * (total - 1) / (limit - 1)) for i in range(limit)})


# -- checks ------------------------------------------------------------------------------


def _read_blob(repository: RegistryRepository, digest: Digest) -> str | None:
    with repository.blobs().open(digest) as stream:
        actual, _ = digest_stream(stream, digest.algorithm)
    if actual != digest:
        return f"blob {digest} reads back as {actual}"
    return None


def _read_image(repository: RegistryRepository, digest: Digest, depth: int = 0) -> list[str]:
    manifest = repository.manifests().get(digest)
    problems: list[str] = []
    for reference in manifest.references():
        if mediatypes.is_index(manifest.media_type) and depth < 8:
            problems += _read_image(repository, reference.digest, depth + 1)
        elif (problem := _read_blob(repository, reference.digest)) is not None:
            problems.append(problem)
    return problems


def tag_state(registry: Registry) -> TagState:
    """Every tag of every repository that resolves, with its manifest digest."""
    found: TagState = {}
    for name in registry.enumerate():
        tags = registry.repository(name).tags()
        try:
            listed = tags.all()
        except RepositoryUnknownError:
            continue
        for tag in listed:
            try:
                found[(name, tag)] = tags.get(tag).digest
            except DistributionError:
                continue
        # A tag listed but unresolvable is reported by check_root.
    return found


def check_root(
    registry: Registry,
    *,
    before: TagState | None = None,
    after: TagState | None = None,
) -> list[str]:
    """What is wrong with ``registry``: ``verify`` problems and unreadable tagged images.

    With ``before`` and ``after``, also every tag that points neither where it pointed
    before the operation nor where the whole operation points it.
    """
    problems = [
        f"verify: {p.kind} at {p.location}" + (f" ({p.detail})" if p.detail else "")
        for p in verify(registry, workers=1).problems
    ]
    for name in registry.enumerate():
        repository = registry.repository(name)
        try:
            tags = repository.tags().all()
        except RepositoryUnknownError:
            continue
        for tag in tags:
            try:
                problems += _read_image(repository, repository.tags().get(tag).digest)
            except DistributionError as exc:
                problems.append(f"tag {name}:{tag} cannot be read whole: {exc!r}")
    if before is not None and after is not None:
        now = tag_state(registry)
        for key in sorted(set(before) | set(after) | set(now)):
            if now.get(key) not in {before.get(key), after.get(key)}:
                problems.append(
                    f"tag {key[0]}:{key[1]} is {now.get(key)}, neither the old"
                    f" {before.get(key)} nor the new {after.get(key)}"
                )
    return problems


# -- running -----------------------------------------------------------------------------


class _Roots:
    """Fresh copies of a scenario's starting root, one per crash point."""

    def __init__(self, scenario: Scenario, mode: str, workdir: Path) -> None:
        self._scenario = scenario
        self._mode = mode
        self._workdir = workdir
        self._count = 0
        self.state: object = None
        self.before: TagState = {}
        if mode != "inmemory":
            template = workdir / "template"
            shutil.rmtree(template, ignore_errors=True)
            registry = Registry(FilesystemDriver(template, fsync=False), options=scenario.options)
            self.state = scenario.setup(registry)
            self.before = tag_state(registry)
            self._template = template

    def fresh(self) -> tuple[StorageDriver, Path | None]:
        """A driver over a new copy of the starting root, and its directory."""
        if self._mode == "inmemory":
            driver = InMemoryDriver()
            self.state = self._scenario.setup(Registry(driver, options=self._scenario.options))
            self.before = tag_state(Registry(driver, options=self._scenario.options))
            return driver, None
        self._count += 1
        copy = self._workdir / f"point-{self._count}"
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(self._template, copy, symlinks=True)
        return FilesystemDriver(copy, fsync=True), copy

    def reopen(self, driver: StorageDriver, copy: Path | None) -> Registry:
        """The crash state, opened as a new process would open it."""
        fresh = driver if copy is None else FilesystemDriver(copy)
        return Registry(fresh, options=self._scenario.options)

    def close(self) -> None:
        if self._mode != "inmemory":
            shutil.rmtree(self._template, ignore_errors=True)


def _run_counted(
    scenario: Scenario, mode: str, driver: StorageDriver, state: object, counter: StepCounter
) -> None:
    registry = Registry(
        driver if mode == "filesystem-os" else CrashingDriver(driver, counter),
        options=scenario.options,
    )
    if mode == "filesystem-os":
        with os_steps(counter):
            scenario.operation(registry, state)
    else:
        scenario.operation(registry, state)


def _exit_child(code: int, pipe: int, message: str) -> NoReturn:
    # Straight to the pipe and out: a killed process runs no clean-up either.
    os.write(pipe, message.encode("utf-8", "replace")[:60000])
    os._exit(code)


def _in_child(work: Callable[[Callable[[int, str], None]], None]) -> tuple[int, str]:
    """Run ``work`` in a forked child; its exit code and its last message."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child ends in os._exit
        os.close(read_end)
        try:
            work(lambda step, what: _exit_child(_CRASHED, write_end, what))
        except BaseException as exc:  # noqa: BLE001 - anything the child meets is a report
            _exit_child(_FAILED, write_end, f"{type(exc).__name__}: {exc}")
        _exit_child(0, write_end, "")
    os.close(write_end)
    try:
        _, status = os.waitpid(pid, 0)
        chunks = []
        while chunk := os.read(read_end, 65536):
            chunks.append(chunk)
    finally:
        os.close(read_end)
    code = os.waitstatus_to_exitcode(status)
    return code, b"".join(chunks).decode("utf-8", "replace")


def _crash_once(
    scenario: Scenario, mode: str, driver: StorageDriver, state: object, point: int | None
) -> tuple[str, str | None]:
    """Run the operation to ``point``; the step it crashed on and any unexpected error."""
    if mode == "inmemory":
        counter = StepCounter(point)
        try:
            _run_counted(scenario, mode, driver, state, counter)
        except Crash as crash:
            return crash.what, None
        except Exception as exc:  # noqa: BLE001 - reported as the finding it is
            return "(no crash)", f"the operation failed: {type(exc).__name__}: {exc}"
        return "(no crash)", None

    def work(on_crash: Callable[[int, str], None]) -> None:
        _run_counted(scenario, mode, driver, state, StepCounter(point, on_crash))

    code, message = _in_child(work)
    if code == _CRASHED:
        return message, None
    if code == 0:
        return "(no crash)", None
    return "(no crash)", f"the operation failed in the child (exit {code}): {message}"


def run_crash_points(
    scenario: Scenario,
    mode: Mode,
    workdir: Path,
    *,
    limit: int | None = None,
) -> CrashReport:
    """Crash ``scenario`` at every step (or ``limit`` steps spread evenly) and check each.

    ``workdir`` holds the filesystem roots (created, and emptied afterwards).
    """
    began = time.monotonic()
    workdir.mkdir(parents=True, exist_ok=True)
    roots = _Roots(scenario, mode, workdir)
    failures: list[CrashFailure] = []
    try:
        # The whole operation: its step count and where it leaves the tags.
        driver, copy = roots.fresh()
        counter = StepCounter()
        _run_counted(scenario, mode, driver, roots.state, counter)
        whole = roots.reopen(driver, copy)
        after = tag_state(whole)
        before = roots.before
        problems = check_root(whole)
        if problems:
            failures.append(
                CrashFailure(point=counter.steps, step="(no crash)", problems=tuple(problems))
            )
        _remove(copy)
        points = evenly(counter.steps, limit)
        for point in points:
            driver, copy = roots.fresh()
            step, error = _crash_once(scenario, mode, driver, roots.state, point)
            problems = [error] if error is not None else []
            problems += check_root(roots.reopen(driver, copy), before=before, after=after)
            if problems:
                failures.append(CrashFailure(point=point, step=step, problems=tuple(problems)))
            _remove(copy)
    finally:
        roots.close()
    return CrashReport(
        scenario=scenario.name,
        mode=mode,
        steps=counter.steps,
        points=len(points),
        failures=tuple(failures),
        seconds=time.monotonic() - began,
        interrupted=len(points),
    )


def _remove(copy: Path | None) -> None:
    if copy is not None:
        shutil.rmtree(copy, ignore_errors=True)


_LATE_KILL_RETRIES = 2
"""How many times a kill that landed after the operation finished is tried again."""


def run_random_kills(
    scenario: Scenario, workdir: Path, *, kills: int, seed: int = 0
) -> CrashReport:
    """``SIGKILL`` a child running ``scenario`` on the filesystem at ``kills`` random moments.

    The delays, counted from the moment the child starts the operation, are uniform over
    the time one whole run takes (measured first). A kill that lands after the child
    finished is tried again on a fresh root with a quarter of the delay, twice at most
    (on a loaded machine the parent wakes late and the child outruns every kill); if it
    still lands late it counts as a point all the same (`CrashReport.interrupted` tells).
    """
    began = time.monotonic()
    workdir.mkdir(parents=True, exist_ok=True)
    roots = _Roots(scenario, "filesystem", workdir)
    rng = random.Random(seed)
    failures: list[CrashFailure] = []
    interrupted = 0
    try:
        driver, copy = roots.fresh()
        start = time.monotonic()
        _run_plain(scenario, driver, roots.state)
        duration = time.monotonic() - start
        before, after = roots.before, tag_state(roots.reopen(driver, copy))
        _remove(copy)
        for point in range(kills):
            delay = rng.uniform(0, duration)
            for retry in range(_LATE_KILL_RETRIES + 1):
                driver, copy = roots.fresh()
                step = f"SIGKILL after {delay * 1000:.2f} ms"
                killed, problems = _kill_after(scenario, driver, roots.state, delay)
                problems += check_root(roots.reopen(driver, copy), before=before, after=after)
                _remove(copy)
                if killed or problems or retry == _LATE_KILL_RETRIES:
                    break
                delay /= 4
            interrupted += killed
            if problems:
                failures.append(CrashFailure(point=point, step=step, problems=tuple(problems)))
    finally:
        roots.close()
    return CrashReport(
        scenario=scenario.name,
        mode="sigkill",
        steps=0,
        points=kills,
        failures=tuple(failures),
        seconds=time.monotonic() - began,
        interrupted=interrupted,
    )


def _run_plain(scenario: Scenario, driver: StorageDriver, state: object) -> None:
    scenario.operation(Registry(driver, options=scenario.options), state)


def _kill_after(
    scenario: Scenario, driver: StorageDriver, state: object, delay: float
) -> tuple[bool, list[str]]:
    """Run the operation in a child and kill it after ``delay`` seconds.

    Returns whether the kill cut the operation short, and any unexpected failure.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child ends in os._exit
        code = 0
        try:
            os.close(read_end)
            os.write(write_end, b"!")
            _run_plain(scenario, driver, state)
        except BaseException:  # noqa: BLE001 - the exit code is the report
            code = _FAILED
        os._exit(code)
    os.close(write_end)
    try:
        os.read(read_end, 1)  # the child has started the operation
        time.sleep(delay)
    finally:
        os.close(read_end)
    os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code not in {0, -signal.SIGKILL}:
        return False, [f"the operation failed in the child (exit {code})"]
    return code == -signal.SIGKILL, []


claim_exports(globals())
