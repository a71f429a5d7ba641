"""Comparing the findings of two checks (e.g. of two versions of a plan)."""

from collections.abc import Mapping, Sequence
from typing import Any


def compare_findings(
    old: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """Split findings into appeared, disappeared, changed and unchanged, by fingerprint.

    A fingerprint names the rule, the sub-check, the plan areas (by key: lokalId first) and
    the layer features, so the same problem in a new version is recognised; a finding
    whose severity or measured figures differ is "changed".
    """
    old_by_key = {f["fingerprint"]: f for f in old}
    new_by_key = {f["fingerprint"]: f for f in new}
    changed = []
    unchanged = 0
    for key in old_by_key.keys() & new_by_key.keys():
        before, after = old_by_key[key], new_by_key[key]
        if before["severity"] != after["severity"] or before["measures"] != after["measures"]:
            changed.append({"fingerprint": key, "from": before, "to": after})
        else:
            unchanged += 1
    return {
        "appeared": [new_by_key[k] for k in sorted(new_by_key.keys() - old_by_key.keys())],
        "disappeared": [old_by_key[k] for k in sorted(old_by_key.keys() - new_by_key.keys())],
        "changed": sorted(changed, key=lambda c: c["fingerprint"]),
        "unchanged_count": unchanged,
    }
