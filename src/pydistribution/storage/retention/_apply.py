"""Applying retention policies: decide per tag, untag what goes, report why.

`apply_retention` walks every repository a policy matches, decides for each tag (see
`RetentionPolicy`) and, unless ``dry_run``, removes the tags that go. Only tags are
removed here: the manifests and blobs they held are left to garbage collection with
``delete_untagged``, which keeps everything a kept tag still reaches (a manifest another
kept tag names, an index's children, the referrers of a kept subject). The report lists
every decision with its reasons; a tag that goes but whose manifest another kept tag of
the repository names says so.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timezone

import attrs

from pydistribution.errors import PathNotFoundError, TagUnknownError
from pydistribution.reference import Reference
from pydistribution.storage import _paths
from pydistribution.storage._registry import Registry
from pydistribution.storage.retention._policy import RetentionPolicy
from pydistribution.storage.retention._pulls import PullTimes

__all__ = ["RetentionReport", "TagDecision", "apply_retention"]

logger = logging.getLogger("pydistribution.storage.retention")


@attrs.frozen(kw_only=True)
class TagDecision:
    """What retention decided about one tag, and why.

    Attributes:
        repository: the repository.
        tag: the tag.
        digest: the manifest it pointed at.
        kept: whether it stays.
        reasons: the rules that keep it (``newest 3``, ``pushed within 7 days``, ...),
            or, for a tag that goes, the other kept tags naming the same manifest.
    """

    repository: str
    tag: str
    digest: str
    kept: bool
    reasons: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        """The decision as JSON values."""
        return {
            "repository": self.repository,
            "tag": self.tag,
            "digest": self.digest,
            "kept": self.kept,
            "reasons": list(self.reasons),
        }


@attrs.frozen(kw_only=True)
class RetentionReport:
    """The decisions of one retention run.

    Attributes:
        dry_run: nothing was removed.
        repositories: repositories a policy applied to.
        deleted: the tags removed (or, for a dry run, that would be).
        kept: the tags kept, each with its reasons.
    """

    dry_run: bool
    repositories: int
    deleted: tuple[TagDecision, ...]
    kept: tuple[TagDecision, ...]

    def to_json(self) -> dict[str, object]:
        """The report as JSON values."""
        return {
            "dry_run": self.dry_run,
            "repositories": self.repositories,
            "deleted": [d.to_json() for d in self.deleted],
            "kept": [d.to_json() for d in self.kept],
        }


def apply_retention(
    registry: Registry,
    policies: Sequence[RetentionPolicy],
    *,
    pulls: PullTimes | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
) -> RetentionReport:
    """Decide every tag of the repositories ``policies`` match; remove those that go.

    Args:
        registry: the storage (deletes must be enabled unless ``dry_run``).
        policies: the first that matches a repository is its policy.
        pulls: last pull times; without them ``keep_pulled_within`` keeps nothing.
        dry_run: only decide and report.
        now: the time durations count back from (default: now).

    Raises:
        UnsupportedError: a tag is to be removed and deletes are disabled.
        StorageDriverError: the storage failed.
    """
    now = now or datetime.now(timezone.utc)
    pulled = pulls.last_pulled() if pulls is not None else {}
    deleted: list[TagDecision] = []
    kept: list[TagDecision] = []
    visited = 0
    for name in registry.repositories():
        policy = next((p for p in policies if p.applies_to(name)), None)
        if policy is None:
            continue
        visited += 1
        decisions = _decide(registry, name, policy, pulled, now)
        kept_digests: dict[str, list[str]] = {}
        for decision in decisions:
            if decision.kept:
                kept_digests.setdefault(decision.digest, []).append(decision.tag)
                kept.append(decision)
        tags = registry.repository(Reference(path=name)).tags()
        for decision in decisions:
            if decision.kept:
                continue
            others = kept_digests.get(decision.digest, [])
            held = tuple(f"manifest stays: also tagged {t}" for t in others)
            decision = attrs.evolve(decision, reasons=held)
            if not dry_run:
                try:
                    tags.untag(decision.tag)
                except TagUnknownError:
                    continue  # removed meanwhile by someone else
                logger.info("retention removed %s:%s", name, decision.tag)
            deleted.append(decision)
    return RetentionReport(
        dry_run=dry_run, repositories=visited, deleted=tuple(deleted), kept=tuple(kept)
    )


def _decide(
    registry: Registry,
    name: str,
    policy: RetentionPolicy,
    pulled: dict[tuple[str, str], float],
    now: datetime,
) -> list[TagDecision]:
    tags = registry.repository(Reference(path=name)).tags()
    entries: list[tuple[float, str, str]] = []
    for tag in tags.all():
        try:
            digest = str(tags.get(tag).digest)
            info = registry.driver.stat(_paths.tag_current_link(name, tag))
        except (TagUnknownError, PathNotFoundError):
            continue  # removed while we looked
        entries.append((info.mod_time.timestamp(), tag, digest))
    entries.sort(key=lambda e: (-e[0], e[1]))  # newest first
    decisions = []
    stamp = now.timestamp()
    for rank, (pushed, tag, digest) in enumerate(entries):
        reasons = []
        if policy.keep_last is not None and rank < policy.keep_last:
            reasons.append(f"among the newest {policy.keep_last}")
        within = policy.keep_pushed_within
        if within is not None and stamp - pushed < within.total_seconds():
            reasons.append(f"pushed within {policy.keep_pushed_within}")
        if policy.keep_pulled_within is not None:
            last = max(pulled.get((name, tag), 0.0), pulled.get((name, digest), 0.0))
            if stamp - last < policy.keep_pulled_within.total_seconds():
                reasons.append(f"pulled within {policy.keep_pulled_within}")
        if policy.keep_matching is not None and policy.keep_matching.fullmatch(tag):
            reasons.append(f"matches {policy.keep_matching.pattern}")
        if policy.keep_not_matching is not None and not policy.keep_not_matching.fullmatch(tag):
            reasons.append(f"does not match {policy.keep_not_matching.pattern}")
        decisions.append(
            TagDecision(
                repository=name, tag=tag, digest=digest, kept=bool(reasons), reasons=tuple(reasons)
            )
        )
    return decisions
