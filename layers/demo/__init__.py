"""Synthetic demo data for every guideline layer, over the real geography of Buskerud.

Real guideline data (NGU, Riksantikvaren, Miljødirektoratet, SSB, Kartverket's DTM) cannot
be shipped with the project, so `arealsjekk demo-data` builds a clearly labelled synthetic
set instead. Only the municipality and county boundaries are real (Kartverket, CC BY 4.0);
every feature, attribute and raster cell here is made up. Every file says so.

The data are deterministic: one fixed seed, a separate random generator per layer (so a
change in one layer does not move features in another), no clocks. The same bytes come out
on every run, which keeps the demo findings in `samples/README.md` true.

One module per layer family: `terrain` (the rasters), `settlements` (tettsteder and
transport hubs), `minerals`, `heritage`, `nature` (recreation, wild reindeer, intact
nature), `forest` (AR5 skog), `plans` (adopted kommuneplaner) and `buildings` (matrikkel
building points in and around them); `base`, `shapes`, `geography` and `sample_sites` hold
what they share. Which guideline reads a layer is said once, in its registry file
(layers/config/).

The builders work in Arealsjekk's internal attributes; the files are written in the real
schemas of the agencies' downloads (`schemas`: source-layer names, field names, code
values) and loaded with the same source layers and `--set` constants an operator gives for
the real data, so the first run exercises the configs' field and value maps. The transport
hubs are written as NSR's NeTEx stop place export (`stops`) and read by the NeTEx reader.

Reasoning behind the shapes:

- Rasters: a terrain model and a tree-line surface (`terrain.py` explains them).
- Vectors are placed relative to the same geography: gravel deposits on valley floors
  (hard-rock quarries on valley sides), heritage sites along valleys and near towns,
  trapping pits (fangstgroper) in the mountains, recreation areas around towns and in the
  mountains, wild reindeer areas on the western plateaus and Norefjell-Reinsjøfjell,
  intact nature (INON zones) by distance from the valleys, towns and mountain roads in
  the west, urban settlements and stations at real places. Every feature is clipped to
  the county boundary.
- A few features are fixed rather than random, because the sample plans in `samples/`
  exercise them: the regional gravel deposit north of Kongsberg, the selected cultural
  landscape Steinsletta at Hole/Ringerike, a heritage site next to the Hole plan, the
  adopted cabin areas in Hemsedal, a B recreation area on the Hemsedal mountainside and
  the cultural environment at Tuv that the quick-tour sample's H570_1 partly covers.
  Random features keep out of the sample plans' areas so the findings stay as promised.
"""

import json
import zipfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import shapely
from sqlalchemy.orm import Session

from layers.demo import buildings, forest, heritage, minerals, nature, plans, settlements
from layers.demo.base import DEMO_LICENCE, DEMO_NOTE, DEMO_SOURCE, DEMO_SOURCE_DATE, Feature
from layers.demo.geography import Geography
from layers.demo.schemas import SCHEMAS, real_properties, source_layer_of
from layers.demo.stops import write_netex
from layers.demo.terrain import RASTER_TITLES, elevation_array, tree_line_array, write_raster
from layers.loader import LoadOptions, LoadResult, Progress, load_layer
from layers.registry import get_registry
from layers.sources.files import Constant
from spatial.crs import CANONICAL_SRID

__all__ = ["DEMO_LICENCE", "VECTOR_BUILDERS", "build_demo_data", "load_demo_data", "load_options"]

# Zip members carry a date; a fixed one keeps the demo's bytes the same on every run.
ZIP_DATE = (2026, 1, 1, 0, 0, 0)

VECTOR_BUILDERS: dict[str, Callable[[Geography], list[Feature]]] = {
    # Order matters where layers avoid each other: settlements come first.
    "tettsteder": settlements.tettsteder,
    "transport_hubs": settlements.transport_hubs,
    "mineral_deposits": minerals.mineral_deposits,
    "heritage_protected": heritage.heritage_protected,
    "cultural_environments": heritage.cultural_environments,
    "municipal_heritage_plans": heritage.municipal_heritage_plans,
    "recreation_areas": nature.recreation_areas,
    "state_recreation_areas": nature.state_recreation_areas,
    "villrein_areas": nature.villrein_areas,
    "villrein_corridors": nature.villrein_corridors,
    "intact_nature": nature.intact_nature,
    "existing_kommuneplan": plans.existing_kommuneplan,
    "buildings": buildings.buildings,
    "forest_mask": forest.forest_mask,
}


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 2)
    if isinstance(value, list | tuple):
        return [_rounded(item) for item in value]
    return value


def _geojson(name: str, features: list[tuple[str, Feature]]) -> str:
    """A GeoJSON collection named like the source layer, one feature per line."""
    lines = []
    for feature_id, (geometry, properties) in features:
        feature = {
            "type": "Feature",
            "id": feature_id,
            "properties": properties,
            "geometry": _rounded(shapely.geometry.mapping(geometry)),
        }
        lines.append(json.dumps(feature, ensure_ascii=False, separators=(",", ":")))
    header = {
        "type": "FeatureCollection",
        "name": name,
        "description": DEMO_NOTE,
        "source": DEMO_SOURCE,
        "licence": DEMO_LICENCE,
        "crs": {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{CANONICAL_SRID}"}},
    }
    # One feature per line: small diffs, and readable without a GIS.
    members = [f" {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}" for k, v in header.items()]
    members.append(' "features": [\n' + ",\n".join(lines) + "\n ]")
    return "{\n" + ",\n".join(members) + "\n}\n"


def _write_vector(out_dir: Path, layer_id: str, features: list[Feature]) -> Path:
    """Write a layer's features in its real schema: GeoJSON, a zip of source layers, or NeTEx."""
    config = get_registry()[layer_id]
    if "netex" in config.readers:  # NSR's stops come as NeTEx XML, not as a feature file
        return write_netex(out_dir / f"{layer_id}.xml", config, features)
    schema = SCHEMAS.get(layer_id)
    if schema is None:
        raise ValueError(f"{layer_id}: no real schema to write the demo data in (demo/schemas.py)")
    by_layer: dict[str, list[tuple[str, Feature]]] = {s.name: [] for s in schema.source_layers}
    for number, (geometry, properties) in enumerate(features, start=1):
        layer = source_layer_of(config, schema, properties)
        real = real_properties(config, schema, layer, properties)
        by_layer[layer.name].append((f"{layer_id}.{number}", (geometry, real)))
    if not schema.multi_layer:
        name = schema.source_layers[0].name
        path = out_dir / f"{layer_id}.geojson"
        path.write_text(_geojson(name, by_layer[name]), "utf-8")
        return path
    # Several source layers come as one download; a fixed member date keeps the bytes stable.
    path = out_dir / f"{layer_id}.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, members in by_layer.items():
            info = zipfile.ZipInfo(f"{name}.geojson", date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, _geojson(name, members).encode("utf-8"))
    return path


def load_options(layer_id: str) -> LoadOptions:
    """The options a demo layer is loaded with: its source layers and their --set constants."""
    options = LoadOptions(source=DEMO_SOURCE, licence=DEMO_LICENCE, source_date=DEMO_SOURCE_DATE)
    schema = SCHEMAS.get(layer_id)
    if schema is None or not schema.multi_layer:
        return options
    constants = tuple(
        Constant(attribute, value, layer.name)
        for layer in schema.source_layers
        for attribute, value in layer.constants.items()
    )
    names = tuple(layer.name for layer in schema.source_layers)
    return replace(options, source_layers=names, constants=constants)


def build_demo_data(out_dir: Path) -> dict[str, Path]:
    """Write the synthetic data of every registry layer into out_dir; return {layer_id: path}."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    registry = get_registry()
    missing = set(registry) - set(VECTOR_BUILDERS) - set(RASTER_TITLES)
    if missing:
        raise ValueError(f"no demo data for layer(s) {sorted(missing)}")

    paths: dict[str, Path] = {}
    dem, dem_transform = elevation_array()
    tree_line, tree_line_transform = tree_line_array()
    for layer_id, (array, transform) in {
        "elevation": (dem, dem_transform),
        "tree_line": (tree_line, tree_line_transform),
    }.items():
        paths[layer_id] = out_dir / f"{layer_id}.tif"
        write_raster(paths[layer_id], array, transform, RASTER_TITLES[layer_id])

    geo = Geography(dem, tree_line)
    for layer_id, builder in VECTOR_BUILDERS.items():
        paths[layer_id] = _write_vector(out_dir, layer_id, builder(geo))
    return {layer_id: paths[layer_id] for layer_id in registry}


def load_demo_data(
    session: Session,
    out_dir: Path,
    progress: Progress | None = None,
    raster_dir: Path | None = None,
) -> list[LoadResult]:
    """Build the demo data into out_dir and load every layer as labelled synthetic data.

    Each layer is loaded as an operator loads the real download (layers/README.md): the
    same source layers and --set constants, through the config's field and value maps.
    """
    return [
        load_layer(
            session,
            layer_id,
            path,
            load_options(layer_id),
            progress=progress,
            raster_dir=raster_dir,
        )
        for layer_id, path in build_demo_data(out_dir).items()
    ]
