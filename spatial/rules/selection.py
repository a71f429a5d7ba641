"""Which plan areas a rule applies to: purposes, new or existing, plan level."""

from collections.abc import Iterable

from spatial.rules.model import CheckFeature, CheckPlan


def new_areas(
    plan: CheckPlan,
    kommuneplan_purposes: Iterable[int],
    reguleringsplan_purposes: Iterable[int],
    new_status: Iterable[int],
) -> list[CheckFeature]:
    """Return areas with one of the purposes that are new decisions.

    In a kommuneplan an area is new when its arealbruksstatus is one of `new_status`
    (framtidig) or missing (unknown status is checked rather than skipped); in a
    reguleringsplan every area is new.
    """
    if plan.is_kommuneplan:
        purposes, statuses = frozenset(kommuneplan_purposes), frozenset(new_status)
        return [
            f
            for f in plan.areas()
            if f.arealformal in purposes
            and (f.arealbruksstatus is None or f.arealbruksstatus in statuses)
        ]
    purposes = frozenset(reguleringsplan_purposes)
    return [f for f in plan.areas() if f.arealformal in purposes]


def areas_except_status(
    plan: CheckPlan, purposes: Iterable[int], excluded_status: Iterable[int]
) -> list[CheckFeature]:
    """Return areas with one of the purposes, leaving out kommuneplan areas of a status."""
    purposes, excluded = frozenset(purposes), frozenset(excluded_status)
    return [
        f
        for f in plan.areas()
        if f.arealformal in purposes
        and not (plan.is_kommuneplan and f.arealbruksstatus in excluded)
    ]
