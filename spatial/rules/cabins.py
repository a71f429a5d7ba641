"""New cabin areas: the plan areas guidelines 1 and 2 of Buskerudplanen §6.2.4 apply to."""

from dataclasses import replace

from spatial.figures import fmt_daa, fmt_pct, thousands
from spatial.rules.base import CodeSet, Rule
from spatial.rules.model import CheckFeature, CheckPlan, Finding
from spatial.rules.selection import new_areas

# Findings on a new cabin area that say where it should not go also say what is left in the
# cabin areas already adopted: §6.2.4 wants them densified before new ones are opened.
DENSIFY_SEVERITIES = ("conflict", "warning")


class CabinAreaRule(Rule):
    """A rule over the new or expanded cabin areas of a plan (G1, G2)."""

    kommuneplan_purposes: CodeSet
    reguleringsplan_purposes: CodeSet
    tourism_purposes: CodeSet
    include_tourism_purposes: bool
    new_status: CodeSet

    def new_cabin_areas(self, plan: CheckPlan) -> list[CheckFeature]:
        """Return the new or expanded cabin areas (with tourism areas, if the set says so)."""
        extra = self.tourism_purposes if self.include_tourism_purposes else frozenset()
        return new_areas(
            plan,
            self.kommuneplan_purposes | extra,
            self.reguleringsplan_purposes | extra,
            self.new_status,
        )

    def with_remaining_capacity(self, plan: CheckPlan, findings: list[Finding]) -> list[Finding]:
        """Add the remaining capacity of the adopted cabin areas (the municipality's latest land
        account) to the conflicts and warnings on new cabin areas (§6.2.4: densify first)."""
        capacity = plan.municipality.cabin_capacity
        if capacity is None:
            return findings
        note = (
            f"Gjeldende kommuneplan har fortsatt {fmt_daa(capacity.unbuilt_m2)} ubebygd i "
            f"eksisterende områder for fritidsbebyggelse i {plan.municipality.name} "
            f"({fmt_pct(capacity.unbuilt_share_pct)} av arealet, anslagsvis "
            f"{thousands(capacity.lots)} tomter; "
            f"arealregnskap per {capacity.computed_on:%d.%m.%Y}). "
            "Etter §6.2.4 skal disse i hovedsak fortettes før nye områder tas i bruk."
        )
        measures = {
            "existing_cabin_unbuilt_m2": capacity.unbuilt_m2,
            "existing_cabin_unbuilt_pct": capacity.unbuilt_share_pct,
            "existing_cabin_lots": capacity.lots,
            "land_account_id": capacity.account_id,
        }
        return [
            replace(f, message=f"{f.message} {note}", measures={**f.measures, **measures})
            if f.severity in DENSIFY_SEVERITIES and f.plan_feature_ids
            else f
            for f in findings
        ]

    def no_new_cabin_areas(self) -> Finding:
        """The finding of a plan without new or expanded cabin areas."""
        return self.finding(
            "no_new_cabin_areas",
            "info",
            [],
            "Planen har ingen nye eller utvidede områder for fritidsbebyggelse.",
            "Ingen.",
        )
