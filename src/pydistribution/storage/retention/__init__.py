"""Retention policies for registry storage: which tags to keep, and pull times.

`RetentionPolicy` says which tags of which repositories to keep; `apply_retention`
removes the others (only the tags: garbage collection with ``delete_untagged`` then
deletes what nothing kept reaches); `PullTimes` records when tags were pulled, in
``/pydistribution-pull-times.json`` beside the Go layout.
"""

from __future__ import annotations

from pydistribution._public import claim_exports
from pydistribution.storage.retention._apply import RetentionReport, TagDecision, apply_retention
from pydistribution.storage.retention._policy import RetentionPolicy
from pydistribution.storage.retention._pulls import PULL_TIMES_PATH, PullTimes

__all__ = [
    "PULL_TIMES_PATH",
    "PullTimes",
    "RetentionPolicy",
    "RetentionReport",
    "TagDecision",
    "apply_retention",
]

claim_exports(globals())
