"""Building blocks for rule tests: fixture layers in the real PostGIS, plans, evaluation."""

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import rasterio
import yaml
from rasterio.transform import from_origin
from shapely import union_all
from shapely.geometry.base import BaseGeometry

from app.db import get_sessionmaker
from layers.loader import LoadOptions, load_layer
from layers.source import PostgisLayerSource
from spatial.plan_model import PlanMetadata
from spatial.rules.base import Rule
from spatial.rules.model import CheckFeature, CheckPlan, Finding, MunicipalityInfo
from spatial.rules.ruleset import RuleEntry, build_rule

RULE_SET = Path(__file__).parent.parent / "layers" / "rules" / "buskerudplanen-2026.yaml"


def rule(rule_id: str, **overrides: Any) -> Rule:
    """Build one rule of the shipped rule set (parameters may be overridden)."""
    document = yaml.safe_load(RULE_SET.read_text("utf-8"))
    entry = next(r for r in document["rules"] if r["id"] == rule_id)
    for name, value in overrides.items():
        entry["params"][name] = {"value": value, "reason": "test override"}
    return build_rule(RuleEntry.model_validate(entry), RULE_SET.name)


def load_vector_layer(
    layer_id: str, records: list[dict[str, Any]], folder: Path, licence: str = "test"
) -> None:
    """Load records ({'geometry': shapely geometry, **attributes}) in EPSG:25832 as a layer."""
    geometries = [r["geometry"] for r in records]
    attributes = [{k: v for k, v in r.items() if k != "geometry"} for r in records]
    frame = gpd.GeoDataFrame(attributes, geometry=geometries, crs=25832)
    path = folder / f"{layer_id}.geojson"
    frame.to_file(path, driver="GeoJSON", engine="pyogrio")
    with get_sessionmaker()() as session:
        load_layer(session, layer_id, path, LoadOptions(licence=licence), raster_dir=folder)


def load_raster_layer(
    layer_id: str,
    values: np.ndarray,
    folder: Path,
    origin: tuple[float, float],
    cell: float = 10.0,
    raster_dir: Path | None = None,
) -> None:
    """Load a float32 grid with its north-west corner at `origin` (EPSG:25832) as a layer
    (stored in `raster_dir`, by default the source's folder)."""
    path = folder / f"{layer_id}-source.tif"
    profile = {
        "driver": "GTiff",
        "width": values.shape[1],
        "height": values.shape[0],
        "count": 1,
        "dtype": "float32",
        "crs": "EPSG:25832",
        "transform": from_origin(*origin, cell, cell),
        "nodata": -9999.0,
    }
    with rasterio.open(path, "w", **profile) as dataset:
        dataset.write(values.astype("float32"), 1)
    with get_sessionmaker()() as session:
        load_layer(
            session, layer_id, path, LoadOptions(licence="test"), raster_dir=raster_dir or folder
        )


def area(key: str, geometry: BaseGeometry, fid: int, **attributes: Any) -> CheckFeature:
    """An arealformål area (pass arealformal=..., arealbruksstatus=...)."""
    return CheckFeature(id=fid, key=key, kind="arealformal", geometry=geometry, **attributes)


def zone(key: str, geometry: BaseGeometry, fid: int, code: int) -> CheckFeature:
    """A hensynssone with its code."""
    return CheckFeature(id=fid, key=key, kind="hensynssone", geometry=geometry, hensynssone=code)


def boundary(geometry: BaseGeometry, fid: int = 0) -> CheckFeature:
    """The plan boundary (planområde)."""
    return CheckFeature(id=fid, key="planomrade", kind="planomrade", geometry=geometry)


def make_plan(
    *features: CheckFeature,
    plantype: int = 20,
    kommunenummer: str = "3326",
    centrality_class: int = 4,
    municipality_geometry: BaseGeometry | None = None,
) -> CheckPlan:
    """A plan to check (kommuneplan by default; plantype 35 for a detaljregulering)."""
    metadata = PlanMetadata(kommunenummer, "TEST1", plantype, 2, "Testplan")
    geometry = municipality_geometry or union_all([f.geometry for f in features]).buffer(5000)
    municipality = MunicipalityInfo(kommunenummer, "Testkommune", centrality_class, geometry)
    return CheckPlan(metadata, tuple(features), municipality)


def evaluate(the_rule: Rule, plan: CheckPlan, raster_dir: Path) -> list[Finding]:
    """Evaluate a rule against the layers loaded in the test database."""
    with get_sessionmaker()() as session:
        return the_rule.evaluate(plan, PostgisLayerSource(session, raster_dir))
