"""New cabin areas: the plan areas guidelines 1 and 2 of Buskerudplanen §6.2.4 apply to."""

from spatial.rules.base import CodeSet, Rule
from spatial.rules.model import CheckFeature, CheckPlan, Finding
from spatial.rules.selection import new_areas


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

    def no_new_cabin_areas(self) -> Finding:
        """The finding of a plan without new or expanded cabin areas."""
        return self.finding(
            "no_new_cabin_areas",
            "info",
            [],
            "Planen har ingen nye eller utvidede områder for fritidsbebyggelse.",
            "Ingen.",
        )
