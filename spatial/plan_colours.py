"""Arealformål colours of the SOSI tegneregler for arealplaner, kept as data in plan_colours.yaml.

One table serves the WMS styles (proposals, existing_kommuneplan) and the map page
(GET /api/v1/plan-colours), so the map, its legend and the page always agree.
"""

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from spatial.codelists import get_codelists

_COLOUR = re.compile(r"#[0-9a-f]{6}")
# arealbruksstatus 1 is nåværende (existing) in KpArealbruksstatus; 2 framtidig, 3 videreutvikling.
EXISTING_STATUS = 1


@dataclass(frozen=True)
class PlanColour:
    """The tegneregler fills of one arealformål code."""

    code: int
    title: str
    fill: str
    fill_existing: str
    combined: bool

    def as_json(self) -> dict[str, Any]:
        """The code's entry in GET /api/v1/plan-colours."""
        return {
            "fill": self.fill,
            "fill_existing": self.fill_existing,
            "title": self.title,
            "combined": self.combined,
        }


@dataclass(frozen=True)
class PlanColours:
    """Every arealformål code's fills, the fill of codes not listed, and the legend's rows."""

    source: str
    arealformal: dict[int, PlanColour]
    default: PlanColour
    legend: dict[int, str]

    def colour(self, code: int | None) -> PlanColour:
        """The colours of a code; the default for a code the tegneregler do not list."""
        return self.arealformal.get(code, self.default) if code is not None else self.default

    def fill(self, code: int | None, arealbruksstatus: int | None) -> str:
        """The fill of an area: the nåværende shade for existing areas, else framtidig."""
        colour = self.colour(code)
        return colour.fill_existing if arealbruksstatus == EXISTING_STATUS else colour.fill

    def as_json(self) -> dict[str, Any]:
        """The table as GET /api/v1/plan-colours answers it."""
        return {
            "source": self.source,
            "arealformal": {str(c): v.as_json() for c, v in self.arealformal.items()},
            "default": self.default.as_json(),
            "legend": [{"code": str(c), "title": t} for c, t in self.legend.items()],
            "arealbruksstatus": {
                str(code): name for code, name in get_codelists().arealbruksstatus.items()
            },
        }


def _colour(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _COLOUR.fullmatch(value):
        raise ValueError(f"plan_colours.yaml: {where}: '{value}' is not a colour like #ffcc00")
    return value


@lru_cache
def get_plan_colours() -> PlanColours:
    """Load and check plan_colours.yaml once."""
    raw = yaml.safe_load(
        resources.files("spatial").joinpath("plan_colours.yaml").read_text("utf-8")
    )
    lists = get_codelists()
    names = {**lists.rp_arealformal, **lists.kp_arealformal}
    names.update({int(code): str(name) for code, name in raw.get("names", {}).items()})
    combined = {int(code) for code in raw.get("combined", [])}
    table: dict[int, PlanColour] = {}
    for code, value in raw["arealformal"].items():
        code = int(code)
        where = f"arealformal {code}"
        # Kommuneplan codes have [nåværende, framtidig]; reguleringsplan codes one colour.
        existing, future = value if isinstance(value, list) else (value, value)
        if code not in names:
            raise ValueError(f"plan_colours.yaml: {where} has no name in codelists.yaml or names")
        table[code] = PlanColour(
            code,
            names[code],
            _colour(future, where),
            _colour(existing, where),
            code in combined,
        )
    default = raw["default"]
    legend = {int(code): str(title) for code, title in raw["legend"].items()}
    missing = [code for code in legend if code not in table]
    if missing:
        raise ValueError(f"plan_colours.yaml: legend codes {missing} have no colour")
    return PlanColours(
        source=" ".join(str(raw["source"]).split()),
        arealformal=table,
        default=PlanColour(
            0,
            "Annet arealformål",
            _colour(default["fill"], "default"),
            _colour(default["existing"], "default"),
            False,
        ),
        legend=legend,
    )
