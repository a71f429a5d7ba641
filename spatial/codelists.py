"""Norwegian plan code lists (SOSI Plan), kept as data in codelists.yaml."""

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Literal

import yaml

PlanLevel = Literal["kommuneplan", "reguleringsplan"]

# Plantype 10-22 are regional and municipal (kommune)plans with KpArealformål
# codes (pbl § 11-7); 30-35 are zoning plans with RpArealformål codes (pbl § 12-5).
KOMMUNEPLAN_TYPES = frozenset({10, 11, 20, 21, 22})
REGULERINGSPLAN_TYPES = frozenset({30, 31, 32, 33, 34, 35})
_FOLD_TABLE = str.maketrans({"å": "a", "ø": "o", "æ": "ae", "_": "", "-": "", " ": "", ".": ""})


@lru_cache(maxsize=4096)
def fold_name(name: str) -> str:
    """Fold an attribute, object type or layer name for matching: lower case, æ/ø/å spelt
    out, no separators ("Arealformål", "areal_formal" and "AREALFORMAL" all match)."""
    # Cached: a plan repeats the same few attribute names on every feature.
    return name.lower().translate(_FOLD_TABLE)


@dataclass(frozen=True)
class CodeLists:
    """The code lists used to interpret plan attributes."""

    version: str
    plantype: dict[int, str]
    planstatus: dict[int, str]
    arealbruksstatus: dict[int, str]
    kp_arealformal: dict[int, str]
    rp_arealformal: dict[int, str]
    hensynssone: dict[int, str]

    def arealformal(self, level: PlanLevel) -> dict[int, str]:
        """Return the arealformål code list for a kommuneplan or a reguleringsplan."""
        return self.kp_arealformal if level == "kommuneplan" else self.rp_arealformal


def plan_level(plantype: int) -> PlanLevel:
    """Return whether a plantype is a kommuneplan-level or a reguleringsplan-level plan."""
    return "kommuneplan" if plantype in KOMMUNEPLAN_TYPES else "reguleringsplan"


@lru_cache
def get_codelists() -> CodeLists:
    """Load and validate codelists.yaml once."""
    raw = yaml.safe_load(resources.files("spatial").joinpath("codelists.yaml").read_text("utf-8"))

    def table(name: str) -> dict[int, str]:
        entries = raw[name]
        out: dict[int, str] = {}
        for code, value in entries.items():
            out[int(code)] = value["name"] if isinstance(value, dict) else str(value)
        if not out:
            raise ValueError(f"codelists.yaml: list '{name}' is empty")
        return out

    return CodeLists(
        version=str(raw.get("version", "unknown")),
        plantype=table("plantype"),
        planstatus=table("planstatus"),
        arealbruksstatus=table("arealbruksstatus"),
        kp_arealformal=table("kp_arealformal"),
        rp_arealformal=table("rp_arealformal"),
        hensynssone=table("hensynssone"),
    )
