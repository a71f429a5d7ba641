"""The synthetic demo data generator and the sample plans; no database needed."""

import hashlib
import json
import re
import zipfile
from collections import Counter
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine
from rasterio.features import geometry_mask
from shapely.geometry import shape
from shapely.prepared import prep

from layers.demo import build_demo_data, load_options
from layers.demo.base import COUNTY_FILE, GRID_NORTH, GRID_WEST, MUNICIPALITIES_FILE
from layers.demo.schemas import SCHEMAS
from layers.demo.settlements import TRANSPORT_HUBS
from layers.registry import get_registry
from layers.sources.netex import read_netex_stops
from layers.sources.stops import read_stop_source
from spatial.geometry import CoverageArea
from spatial.inputs.geojson import read_geojson
from spatial.plan_input import Boundaries, InputLimits, MunicipalityBoundary, prepare_plan
from spatial.plan_model import PreparedPlan

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
SAMPLE_FILES = sorted(SAMPLES.glob("*.geojson"))
VECTOR_FAMILIES = {
    "Polygon": {"Polygon", "MultiPolygon"},
    "LineString": {"LineString", "MultiLineString"},
    "Point": {"Point"},
}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    return build_demo_data(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def rasters(built) -> tuple[np.ndarray, np.ndarray]:
    with rasterio.open(built["elevation"]) as dataset:
        dem = dataset.read(1)
    with rasterio.open(built["tree_line"]) as dataset:
        tree_line = dataset.read(1)
    return dem, tree_line


@pytest.fixture(scope="module")
def county() -> shapely.Geometry:
    frame = gpd.read_file(COUNTY_FILE).to_crs(epsg=25832)
    return shapely.union_all(frame.geometry.values)


@pytest.fixture(scope="module")
def boundaries(county) -> Boundaries:
    frame = gpd.read_file(MUNICIPALITIES_FILE).to_crs(epsg=25832)
    municipalities = {
        row.kommunenummer: MunicipalityBoundary.build(
            row.kommunenummer, row.kommunenavn, row.geometry
        )
        for row in frame.itertuples()
    }
    return Boundaries(county=CoverageArea.build(county, 200), municipalities=municipalities)


@pytest.fixture(scope="module")
def plans(boundaries) -> dict[str, PreparedPlan]:
    limits = InputLimits(max_vertices=500_000, repair_max_area_change=0.01)
    return {
        path.name: prepare_plan(read_geojson(path.read_bytes(), 20_000), boundaries, limits)
        for path in SAMPLE_FILES
    }


def _collections(path: Path) -> list[dict]:
    """The GeoJSON collections of a demo file: one, or one per source layer in a zip."""
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            return [json.loads(archive.read(name)) for name in archive.namelist()]
    return [json.loads(path.read_text("utf-8"))]


def _features(path: Path) -> list[dict]:
    return [f for collection in _collections(path) for f in collection["features"]]


def _internal(layer_id: str, source_layer: str, properties: dict) -> dict:
    """Real fields and codes read back through the layer config, as a load maps them."""
    config = get_registry()[layer_id]
    schema = SCHEMAS.get(layer_id)
    constants = {}
    if schema is not None:
        constants = next(s.constants for s in schema.source_layers if s.name == source_layer)
    given = {key.lower(): value for key, value in properties.items()}
    internal = {}
    for name, attribute in config.attributes.items():
        column = next(
            (c.lower() for c in [name, *attribute.source_names] if c.lower() in given), None
        )
        value = constants.get(name, given.get(column))
        if value is not None and attribute.allowed is not None:
            value = attribute.map_value(str(value))
        if value is not None:
            internal[name] = value
    return internal


def _layer(built, layer_id: str) -> list[tuple[shapely.Geometry, dict]]:
    path = built[layer_id]
    if path.suffix == ".xml":  # NSR's NeTEx stops, read as a load reads them
        frame = read_stop_source(path, get_registry()[layer_id], load_options(layer_id)).frame
        frame = frame.to_crs(epsg=25832)
        return [
            (row.geometry, {"name": row.name, "hub_type": row.hub_type})
            for row in frame.itertuples()
        ]
    return [
        (shape(f["geometry"]), _internal(layer_id, collection["name"], f["properties"]))
        for collection in _collections(built[layer_id])
        for f in collection["features"]
    ]


def _area(plan: PreparedPlan, source_id: str) -> shapely.Geometry:
    return next(a.geometry for a in plan.areas if a.source_id == source_id)


def _cells(rasters, polygon, all_touched: bool) -> tuple[np.ndarray, np.ndarray]:
    """Elevation and tree line of the 50 m cells whose centre is inside (or that touch)."""
    dem, tree_line = rasters
    west, south, east, north = polygon.bounds
    col0, col1 = int((west - GRID_WEST) // 50) - 1, int((east - GRID_WEST) // 50) + 2
    row0, row1 = int((GRID_NORTH - north) // 50) - 1, int((GRID_NORTH - south) // 50) + 2
    transform = Affine(50.0, 0.0, GRID_WEST + col0 * 50, 0.0, -50.0, GRID_NORTH - row0 * 50)
    shape_ = (row1 - row0, col1 - col0)
    inside = ~geometry_mask([polygon], shape_, transform, all_touched=all_touched)
    rows, cols = np.nonzero(inside)
    rows, cols = rows + row0, cols + col0
    # A 500 m tree-line cell holds 10 x 10 DEM cells; the grids share their origin.
    return dem[rows, cols].astype(float), tree_line[rows // 10, cols // 10].astype(float)


# --- the generator ----------------------------------------------------------------------


def test_every_registry_layer_gets_a_file(built):
    registry = get_registry()
    assert set(built) == set(registry)
    for layer_id, path in built.items():
        assert path.is_file() and path.stat().st_size > 0
        if registry[layer_id].kind == "raster":
            assert path.suffix == ".tif"
        elif layer_id == "transport_hubs":  # NSR distributes stop places as NeTEx XML
            assert path.suffix == ".xml"
        else:  # a download of several source layers is a zip of them
            multi = SCHEMAS[layer_id].multi_layer
            assert path.suffix == (".zip" if multi else ".geojson"), layer_id


def test_the_same_bytes_come_out_every_run(built, tmp_path):
    again = build_demo_data(tmp_path)
    for layer_id, path in built.items():
        first = hashlib.sha256(path.read_bytes()).hexdigest()
        second = hashlib.sha256(again[layer_id].read_bytes()).hexdigest()
        assert first == second, layer_id


def test_transport_hubs_are_an_nsr_netex_export(built):
    """Every demo hub is a StopPlace as NSR writes it, read back at its place and type."""
    path = built["transport_hubs"]
    assert path.read_bytes().startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')
    assert b"<Description>SYNTHETIC DEMO DATA" in path.read_bytes()
    stops = read_netex_stops(path)
    assert len(stops) == len(TRANSPORT_HUBS)
    assert all(re.fullmatch(r"NSR:StopPlace:\d+", stop.id) for stop in stops)
    expected = {
        name: ("railStation" if hub_type == "jernbanestasjon" else "busStation", lon, lat)
        for name, hub_type, lon, lat in TRANSPORT_HUBS
    }
    for stop in stops:
        stop_type, lon, lat = expected[stop.name]
        assert stop.types == [stop_type], stop.name
        # WGS84 degrees, within a centimetre or so of the place given in settlements.py
        assert abs(stop.lon - lon) < 3e-7 and abs(stop.lat - lat) < 3e-7, stop.name
    # The config's readers.netex turns them into hubs: no stop is left out or unknown.
    hubs = _layer(built, "transport_hubs")
    types = Counter(props["hub_type"] for _, props in hubs)
    assert types == {"jernbanestasjon": 17, "regionalt knutepunkt": 11}


def test_elevation_is_a_plausible_dem(built):
    with rasterio.open(built["elevation"]) as dataset:
        assert dataset.crs.to_epsg() == 25832
        assert dataset.res == (50.0, 50.0)
        assert dataset.dtypes[0] == "float32"
        assert dataset.nodata == -9999
        assert dataset.block_shapes[0] == (512, 512)
        assert dataset.compression.name.lower() == "deflate"
        assert "SYNTHETIC" in dataset.tags()["TIFFTAG_IMAGEDESCRIPTION"]
        dem = dataset.read(1)
    assert 0.0 <= dem.min() and dem.max() <= 2000.0
    assert dem.max() > 1700  # Hallingskarvet
    third = dem.shape[1] // 3
    assert dem[:, :third].mean() > dem[:, -third:].mean() + 400


def test_tree_line_rises_from_east_to_west(built):
    with rasterio.open(built["tree_line"]) as dataset:
        assert dataset.crs.to_epsg() == 25832
        assert dataset.res == (500.0, 500.0)
        tree_line = dataset.read(1)
    assert 850.0 <= tree_line.min() and tree_line.max() <= 1150.0
    assert tree_line[:, :20].mean() > tree_line[:, -20:].mean() + 150


def test_vector_files_use_the_real_schema(built):
    """Source layers, field names and code values as the agencies distribute them."""
    for layer_id, schema in SCHEMAS.items():
        config = get_registry()[layer_id]
        real_fields = {n.lower() for a in config.attributes.values() for n in a.source_names}
        real_codes = {name: set(attribute.values) for name, attribute in config.attributes.items()}
        collections = _collections(built[layer_id])
        assert [c["name"] for c in collections] == [s.name for s in schema.source_layers]
        for collection in collections:
            for feature in collection["features"]:
                properties = feature["properties"]
                assert {key.lower() for key in properties} <= real_fields, layer_id
                for name, field_name in schema.fields.items():
                    value = properties.get(field_name)
                    if value is not None and real_codes[name]:
                        assert value in real_codes[name], (layer_id, name, value)
    recreation = _collections(built["recreation_areas"])[0]["features"]
    assert {f["properties"]["omraadeverdi"] for f in recreation} == {
        "SvaertViktigFriluftslivsomraade",
        "ViktigFriluftslivsomraade",
        "RegistrertFriluftslivsomraade",
    }
    deposits = _features(built["mineral_deposits"])
    assert "Nasjonal betydning" in {f["properties"]["rastoffBetydning"] for f in deposits}
    sites = _features(built["heritage_protected"])
    assert "AUT" in {f["properties"]["vernetype"] for f in sites}
    assert all("category" not in f["properties"] for f in sites)  # the source layer says it


def test_vector_attributes_follow_the_layer_config(built):
    for layer_id, config in get_registry().items():
        if config.kind != "vector":
            continue
        if built[layer_id].suffix != ".xml":  # NeTEx: see the transport hubs' own test
            for collection in _collections(built[layer_id]):
                assert collection["crs"]["properties"]["name"] == "urn:ogc:def:crs:EPSG::25832"
                assert "SYNTHETIC" in collection["description"]
        assert _layer(built, layer_id), layer_id
        for _, properties in _layer(built, layer_id):
            for name, attribute in config.attributes.items():
                value = properties.get(name)
                if attribute.required:
                    assert value is not None, (layer_id, name)
                if value is not None and attribute.allowed is not None:
                    assert value in attribute.allowed, (layer_id, name, value)
                if value is not None and attribute.type == "integer":
                    assert isinstance(value, int), (layer_id, name, value)


def test_vector_geometries_are_valid_and_inside_the_county(built, county):
    inside = prep(county.buffer(1.0))
    for layer_id, config in get_registry().items():
        if config.kind != "vector":
            continue
        for geometry, _ in _layer(built, layer_id):
            assert geometry.geom_type in VECTOR_FAMILIES[config.geometry_type], layer_id
            assert geometry.is_valid and not geometry.is_empty, layer_id
            assert inside.covers(geometry), layer_id


def test_layer_sizes_match_the_demo_design(built):
    counts = {
        layer_id: len(_features(path))
        for layer_id, path in built.items()
        if path.suffix in (".geojson", ".zip")
    }
    assert counts["mineral_deposits"] == 40
    assert counts["heritage_protected"] >= 290  # ~150 sites, their safety zones, one kulturmiljø
    assert counts["recreation_areas"] == 60
    assert 8 <= counts["state_recreation_areas"] <= 12
    assert {props["name"] for _, props in _layer(built, "villrein_areas")} >= {
        "Hardangervidda",
        "Nordfjella",
    }


# --- the sample plans ---------------------------------------------------------------------


def test_sample_plans_are_accepted_and_inside_their_municipality(plans, boundaries):
    ids = [plan.metadata.planidentifikasjon for plan in plans.values()]
    assert len(ids) == len(set(ids))
    for name, plan in plans.items():
        assert not plan.report.warnings, (name, plan.report.warnings)
        assert not plan.report.unknown_codes, name
        municipality = boundaries.municipalities[plan.metadata.kommunenummer].geometry
        for area in plan.areas:
            assert area.geometry.is_valid, (name, area.source_id)
            assert municipality.contains(area.geometry), (name, area.source_id)


def test_hemsedal_cabin_areas_meet_the_tree_line_as_promised(rasters, plans):
    plan = plans["hemsedal-kpa-2026.geojson"]
    # BFR10 reaches above the tree line on part of it.
    elevation, tree_line = _cells(rasters, _area(plan, "BFR10"), all_touched=False)
    assert 0.15 < (elevation > tree_line).mean() < 0.6
    # BFR11 lies wholly in the 100 m transition zone, with margin for any raster method.
    elevation, tree_line = _cells(rasters, _area(plan, "BFR11"), all_touched=True)
    assert (elevation < tree_line - 5).all() and (elevation > tree_line - 95).all()
    # BFR12 and LSF1 are clearly below it.
    for source_id in ("BFR12", "LSF1"):
        elevation, tree_line = _cells(rasters, _area(plan, source_id), all_touched=True)
        assert (elevation < tree_line - 150).all(), source_id


def test_hemsedal_expansion_is_above_the_line_only_where_already_adopted(built, rasters, plans):
    plan = plans["hemsedal-kpa-2026.geojson"]
    adopted = [
        geometry
        for geometry, props in _layer(built, "existing_kommuneplan")
        if props["kommunenummer"] == "3326" and props["arealformal"] == 1120
    ]
    for source_id in ("BFR1", "BFR2"):
        area = _area(plan, source_id)
        assert any(area.symmetric_difference(g).area < 1.0 for g in adopted), source_id
    expansion = _area(plan, "BFR13")
    elevation, tree_line = _cells(rasters, expansion, all_touched=False)
    assert (elevation > tree_line).sum() >= 10
    new_part = expansion.difference(shapely.union_all(adopted))
    assert 0.3 < new_part.area / expansion.area < 0.7
    elevation, tree_line = _cells(rasters, new_part, all_touched=True)
    assert (elevation < tree_line - 5).all() and (elevation > tree_line - 95).all()


def test_kongsberg_housing_overlaps_the_regional_gravel_deposit(built, plans):
    plan = plans["kongsberg-kpa-boliger.geojson"]
    deposit = next(
        geometry
        for geometry, props in _layer(built, "mineral_deposits")
        if props["importance"] == "regional" and props["name"] == "Skollenborg"
    )
    assert _area(plan, "B12").intersection(deposit).area > 50_000
    assert 0 < _area(plan, "N3").distance(deposit) < 100


def test_hole_plan_reaches_into_steinsletta(built, plans):
    plan = plans["hole-steinsletta-regulering.geojson"]
    steinsletta = next(
        geometry
        for geometry, props in _layer(built, "cultural_environments")
        if props["name"] == "Steinsletta" and props["category"] == "utvalgt kulturlandskap"
    )
    housing = _area(plan, "BFS1")
    assert 0 < housing.intersection(steinsletta).area < housing.area


def test_drammen_plan_is_near_the_station(built, plans):
    plan = plans["drammen-stasjon-regulering.geojson"]
    station = next(
        geometry
        for geometry, props in _layer(built, "transport_hubs")
        if props["name"] == "Drammen stasjon"
    )
    assert _area(plan, "BB1").distance(station) < 500
