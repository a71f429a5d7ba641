"""Comparing the findings of two checks (e.g. of two versions of a plan).

A fingerprint names the rule, the sub-check, the plan areas (by key: lokalId first) and the
layer features, so the same problem in a new version is recognised. A recognised finding is
"unchanged" when its severity and measured figures are the same, else "changed"; a new
finding nothing earlier matches is "new", and an old finding nothing matches is "resolved".
"""

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

NEW = "new"
UNCHANGED = "unchanged"
CHANGED = "changed"


def is_changed(before: Mapping[str, Any], after: Mapping[str, Any]) -> bool:
    """True when two findings with one fingerprint differ in severity or measured figures."""
    return before["severity"] != after["severity"] or before["measures"] != after["measures"]


@dataclass(frozen=True)
class Matches:
    """How a new check's findings continue an old check's, by position in each list."""

    previous: list[int | None]  # per new finding: the old finding it continues, or None
    comparison: list[str]  # per new finding: new, unchanged or changed
    resolved: list[int]  # old findings no new finding continues


def match_findings(old: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]]) -> Matches:
    """Pair each new finding with an old one of the same fingerprint.

    Findings that share a fingerprint within one check are paired in their order, so each
    old finding is continued at most once.
    """
    waiting: dict[str, deque[int]] = {}
    for index, finding in enumerate(old):
        waiting.setdefault(finding["fingerprint"], deque()).append(index)
    previous: list[int | None] = []
    comparison: list[str] = []
    for finding in new:
        queue = waiting.get(finding["fingerprint"])
        if queue:
            index = queue.popleft()
            previous.append(index)
            comparison.append(CHANGED if is_changed(old[index], finding) else UNCHANGED)
        else:
            previous.append(None)
            comparison.append(NEW)
    continued = {index for index in previous if index is not None}
    resolved = [index for index in range(len(old)) if index not in continued]
    return Matches(previous, comparison, resolved)


def compare_findings(
    old: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """Split findings into appeared, disappeared, changed and unchanged (see match_findings)."""
    matches = match_findings(old, new)
    appeared = []
    changed = []
    unchanged = 0
    for finding, index, comparison in zip(new, matches.previous, matches.comparison, strict=True):
        if comparison == NEW:
            appeared.append(finding)
        elif comparison == CHANGED:
            changed.append(
                {"fingerprint": finding["fingerprint"], "from": old[index], "to": finding}
            )
        else:
            unchanged += 1

    def by_fingerprint(item: Mapping[str, Any]) -> str:
        return item["fingerprint"]

    return {
        "appeared": sorted(appeared, key=by_fingerprint),
        "disappeared": sorted((old[i] for i in matches.resolved), key=by_fingerprint),
        "changed": sorted(changed, key=by_fingerprint),
        "unchanged_count": unchanged,
    }
