"""Reading stored land accounts where checks need them: the remaining cabin capacity."""

from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.reports.formatting import OSLO
from db.models import LandAccountOrm
from spatial.rules.model import CabinCapacity


def cabin_capacity(
    session: Session, kommunenummer: str, before: datetime | None = None
) -> CabinCapacity | None:
    """The municipality's cabin capacity from its latest land account (computed no later
    than `before`), or None without an account or adopted cabin areas."""
    query = select(LandAccountOrm).where(LandAccountOrm.kommunenummer == kommunenummer)
    if before is not None:
        query = query.where(LandAccountOrm.computed_at <= before)
    account = session.scalars(
        query.order_by(LandAccountOrm.computed_at.desc(), LandAccountOrm.id.desc()).limit(1)
    ).first()
    if account is None:
        return None
    capacity = account.totals.get("cabin_capacity") or {}
    if not capacity.get("areas"):
        return None
    return CabinCapacity(
        account_id=account.id,
        computed_on=account.computed_at.astimezone(OSLO).date(),
        unbuilt_m2=capacity["unbuilt_m2"],
        unbuilt_share_pct=capacity["unbuilt_share_pct"],
        lots=capacity["lots"],
        areas=capacity["areas"],
    )


def cabin_areas(
    session: Session,
    kommunenummer: str,
    finished_at: datetime | None,
    findings: Iterable[tuple[str, dict[str, Any]]],
) -> dict[str, Any]:
    """The new cabin areas a check measured (G1's `above_tree_line` findings, by their new
    part), beside the adopted cabin areas' remaining capacity from the latest land account
    the check could have read (§6.2.4: densify first)."""
    new = [
        m["new_area_m2"]
        for check, m in findings
        if check == "above_tree_line" and m.get("new_area_m2")
    ]
    capacity = cabin_capacity(session, kommunenummer, before=finished_at)
    return {
        "new_areas": len(new),
        "new_area_m2": round(sum(new), 1),
        "existing": None if capacity is None else asdict(capacity),
    }
