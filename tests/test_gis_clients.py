"""The service read by the GIS clients people use: QGIS 3.22 and GDAL 3.6 (Debian packages).

QGIS runs under Debian's /usr/bin/python3 (python3-qgis) offscreen, in one subprocess that
loads the WMS, OGC API – Features and vector-tile layers and identifies on the WMS
(tests/gis_clients/qgis_probe.py, which prints what QGIS saw as JSON). GDAL is driven
through its command-line tools with the drivers' defaults (`ogrinfo`, `ogr2ogr`,
`gdalinfo`, `gdal_translate`). `scripts/dev.sh test` installs both (with-gis-clients); a
missing client fails these tests unless AREALSJEKK_SKIP_GIS_CLIENTS=1 says to skip them.
Every request goes to the live test server on 127.0.0.1.
"""

import json
import math
import os
import re
import shutil
import subprocess
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import rasterio
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Point, box
from sqlalchemy import text

from app.db import get_engine
from tests.rule_fixtures import load_vector_layer

pytestmark = [pytest.mark.keep_layers, pytest.mark.slow]

PROBE = Path(__file__).parent / "gis_clients" / "qgis_probe.py"
DEBIAN_PYTHON = Path("/usr/bin/python3")
SKIP_ENV = "AREALSJEKK_SKIP_GIS_CLIENTS"

# Two deposits near Kongsberg (EPSG:25832), 5 km apart, and the map around the first.
DEPOSIT = box(540_000, 6_610_000, 541_000, 6_611_000)
FAR_DEPOSIT = box(545_000, 6_610_000, 546_000, 6_611_000)
MAP_BBOX = (539_500.0, 6_609_500.0, 541_500.0, 6_611_500.0)
CLICK = (540_500.0, 6_610_500.0)  # the middle of the map, on the first deposit
REGIONAL_RGB = (0xB0, 0x62, 0x2A)  # layers/styles/mineral_deposits.xml, regional
# The same fill (opacity 0.55) on an opaque image's white background (WMS 1.3.0, 7.3.3.10).
ON_WHITE = tuple(0.55 * c + 0.45 * 255 for c in REGIONAL_RGB)
# Wild reindeer areas: one Polygon and one MultiPolygon in the same layer.
REINDEER = [
    {
        "geometry": box(550_000, 6_620_000, 552_000, 6_622_000),
        "name": "Nord",
        "category": "leveområde",
    },
    {
        "geometry": MultiPolygon(
            [
                box(553_000, 6_620_000, 554_000, 6_621_000),
                box(555_000, 6_620_000, 556_000, 6_621_000),
            ]
        ),
        "name": "Sør",
        "category": "funksjonsområde",
    },
]
# Two railway stations; the north-eastern one is a corner of the layer's extent.
HUBS = [
    {"geometry": Point(540_000, 6_612_000), "name": "Sørstasjon", "hub_type": "jernbanestasjon"},
    {"geometry": Point(541_000, 6_612_500), "name": "Nordstasjon", "hub_type": "jernbanestasjon"},
]
EDGE_BBOX = (540_750.0, 6_612_250.0, 541_250.0, 6_612_750.0)  # 5 m pixels around Nordstasjon
EMPTY = "cultural_environments"  # a vector layer never loaded here: an empty collection
TILE_ZOOM = 12
TO_CRS84 = Transformer.from_crs(25832, "OGC:CRS84", always_xy=True)
TO_MERCATOR = Transformer.from_crs(25832, 3857, always_xy=True)
MERCATOR_HALF = 20_037_508.342789244


def client_missing(what: str) -> None:
    """Fail (or skip, when the environment opts out) because a GIS client is missing."""
    message = f"{what}; `bash scripts/dev.sh test` installs python3-qgis and gdal-bin"
    if os.environ.get(SKIP_ENV) == "1":
        pytest.skip(f"{message} ({SKIP_ENV}=1)")
    pytest.fail(message, pytrace=False)


def local_env() -> dict[str, str]:
    """The environment for a client: no proxy, so requests go straight to 127.0.0.1."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env.update({"NO_PROXY": "*", "no_proxy": "*", "GDAL_HTTP_TIMEOUT": "30"})
    return env


def gdal(*args: str) -> subprocess.CompletedProcess:
    """Run one of GDAL's command-line tools; fail with its output when it fails."""
    if shutil.which(args[0]) is None:
        client_missing(f"GDAL's {args[0]} is not installed")
    done = subprocess.run(
        args, capture_output=True, text=True, timeout=120, env=local_env(), check=False
    )
    if done.returncode != 0:
        pytest.fail(f"{' '.join(args)} failed ({done.returncode}):\n{done.stderr}{done.stdout}")
    return done


def crs84(geometry) -> list[float]:
    """A CRS84 bbox enclosing an EPSG:25832 geometry."""
    return list(TO_CRS84.transform_bounds(*geometry.bounds))


def to_mercator(geometry):
    """An EPSG:25832 geometry in EPSG:3857."""
    return shapely.transform(geometry, lambda xy: np.column_stack(TO_MERCATOR.transform(*xy.T)))


def tile_of(lon: float, lat: float, zoom: int) -> tuple[int, int]:
    """The WebMercatorQuad (XYZ) column and row holding a point."""
    n = 2**zoom
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def tile_bounds(x: int, y: int, zoom: int) -> list[float]:
    """A WebMercatorQuad tile's [minx, miny, maxx, maxy] in EPSG:3857."""
    size = 2 * MERCATOR_HALF / 2**zoom
    minx = -MERCATOR_HALF + x * size
    maxy = MERCATOR_HALF - y * size
    return [minx, maxy - size, minx + size, maxy]


def deposit_tile() -> tuple[int, int]:
    """The zoom-12 tile holding the first deposit's centre."""
    lon, lat = TO_CRS84.transform(*DEPOSIT.centroid.coords[0])
    return tile_of(lon, lat, TILE_ZOOM)


@pytest.fixture(scope="module")
def gis_layers(tmp_path_factory):
    """The deposits, reindeer areas and stations, loaded once for the module."""
    folder = tmp_path_factory.mktemp("gis-layers")
    deposits = [
        {"geometry": DEPOSIT, "name": "Testmoen", "importance": "regional"},
        {"geometry": FAR_DEPOSIT, "name": "Fjernmoen", "importance": "nasjonal"},
    ]
    load_vector_layer("mineral_deposits", deposits, folder)
    load_vector_layer("villrein_areas", REINDEER, folder)
    load_vector_layer("transport_hubs", HUBS, folder)
    yield
    with get_engine().begin() as connection:
        connection.execute(text("TRUNCATE layer_version RESTART IDENTITY CASCADE"))


@pytest.fixture(scope="module")
def qgis(live_server, gis_layers, tmp_path_factory) -> dict:
    """Run every QGIS check in one subprocess; return its JSON report."""
    if not DEBIAN_PYTHON.exists():
        client_missing(f"{DEBIAN_PYTHON} (Debian's Python, for python3-qgis) is missing")
    env = local_env()
    # Debian's Python with Debian's packages only: nothing of the project's virtualenv.
    for name in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"):
        env.pop(name, None)
    env["QT_QPA_PLATFORM"] = "offscreen"
    probe = subprocess.run(
        [str(DEBIAN_PYTHON), "-c", "import qgis.core"], capture_output=True, text=True, env=env
    )
    if probe.returncode != 0:
        client_missing(f"PyQGIS is not importable by {DEBIAN_PYTHON}: {probe.stderr.strip()}")
    out = tmp_path_factory.mktemp("qgis")
    runtime = out / "runtime"
    runtime.mkdir(mode=0o700)
    env["XDG_RUNTIME_DIR"] = str(runtime)
    env["HOME"] = str(out)  # QGIS's settings and caches stay in the test's folder
    x, y = deposit_tile()
    plan = {
        "base": live_server,
        "out_dir": str(out),
        "wms": {
            "layer": "mineral_deposits",
            "crs": "EPSG:25832",
            "bbox": list(MAP_BBOX),
            "size": 200,
            "point": list(CLICK),
        },
        "wms_4326": {
            "bbox": crs84(box(*MAP_BBOX)),
            "size": 200,
            "point": list(TO_CRS84.transform(*CLICK)),
        },
        "wms_edge": {"layer": "transport_hubs", "bbox": list(EDGE_BBOX), "size": 100},
        "collections": ["mineral_deposits", "villrein_areas", EMPTY],
        "raster_tiles": {
            "template": f"{live_server}/ogcapi/collections/mineral_deposits/map/tiles/"
            "WebMercatorQuad/{z}/{y}/{x}",
            "zmax": 18,
        },
        "tiles": {
            "template": f"{live_server}/ogcapi/collections/mineral_deposits/tiles/"
            "WebMercatorQuad/{z}/{y}/{x}",
            "zmax": 16,
            "z": TILE_ZOOM,
            "x": x,
            "y": y,
            "extent": tile_bounds(x, y, TILE_ZOOM),
            "layer_name": "mineral_deposits",
        },
    }
    (out / "plan.json").write_text(json.dumps(plan), "utf-8")
    done = subprocess.run(
        [str(DEBIAN_PYTHON), str(PROBE), str(out / "plan.json")],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    (out / "report.json").write_text(done.stdout, "utf-8")  # for a look after a failure
    # The report is the last line; QGIS crashing on its way out after it does no harm.
    lines = done.stdout.strip().splitlines()
    if not lines or not lines[-1].startswith("{"):
        pytest.fail(f"the QGIS probe failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return json.loads(lines[-1])


def no_error(check: dict) -> dict:
    """A check of the QGIS report, failing with QGIS's own error and log if it had one."""
    assert "error" not in check or not check["error"], (
        f"QGIS: {check.get('error')}\nlog: {check.get('log')}\n{check.get('trace', '')}"
    )
    return check


# --- QGIS ---------------------------------------------------------------------------------


def test_qgis_is_3_22(qgis):
    """The probe ran the QGIS of the acceptance (Debian's 3.22)."""
    assert qgis["qgis_version"].startswith("3.22.")


def test_qgis_loads_the_wms_layer_and_renders_it(qgis):
    """The WMS layer is valid in EPSG:25832, covers its data and draws the deposit."""
    wms = no_error(qgis["wms"])
    assert wms["valid"] and wms["crs"] == "EPSG:25832"
    minx, miny, maxx, maxy = wms["extent"]
    assert minx <= FAR_DEPOSIT.bounds[0] and maxx >= FAR_DEPOSIT.bounds[2]
    assert minx <= DEPOSIT.bounds[0] and miny <= DEPOSIT.bounds[1] and maxy >= DEPOSIT.bounds[3]
    image = wms["render"]
    assert image["errors"] == []
    assert 0 < image["drawn_pixels"] < image["width"] * image["height"]
    assert tuple(image["centre_rgba"][:3]) == pytest.approx(REGIONAL_RGB, abs=3)
    assert image["centre_rgba"][3] > 0


def test_qgis_draws_whole_markers_at_the_edge_of_a_layer_extent(qgis):
    """A station at a corner of its layer's extent is drawn whole, not cut by the extent.

    QGIS 3.22 asks a WMS only for the part of the map inside the layer's advertised extent,
    so an extent drawn tight around the points would halve the markers on its edges.
    """
    edge = no_error(qgis["wms_edge"])
    image = edge["render"]
    assert image["errors"] == [], image
    quarters = image["quarters"]
    # The marker (11 px) is round around the station in the middle of the image.
    assert quarters["ne"] > 10 and quarters["sw"] > 10, quarters
    assert quarters["ne"] == pytest.approx(quarters["sw"], abs=6), quarters


def test_qgis_renders_the_wms_as_jpeg(qgis):
    """QGIS asking for image/jpeg gets the deposit flattened on the white BGCOLOR."""
    jpeg = no_error(qgis["wms_jpeg"])
    image = jpeg["render"]
    assert image["errors"] == [], image
    assert image["centre_rgba"][3] == 255, image  # JPEG has no alpha
    assert tuple(image["centre_rgba"][:3]) == pytest.approx(ON_WHITE, abs=8), image


def test_qgis_identify_in_feature_mode(qgis):
    """Identify on the WMS layer gives the deposit with its attributes and its geometry.

    QGIS 3.22 takes a GetFeatureInfo answer as JSON only when the header is spelled
    `Content-Type`, and draws the identified feature from its GeoJSON geometry.
    """
    wms = no_error(qgis["wms"])
    assert wms["can_identify"] and wms["identifies_features"]
    found = wms["identify"]
    assert found["valid"], found
    assert found["string_results"] == [], f"QGIS could not read the answer: {found}"
    assert len(found["features"]) == 1, found
    feature = found["features"][0]
    assert feature["sublayer"] == "mineral_deposits"
    assert feature["attributes"]["name"] == "Testmoen"
    assert feature["attributes"]["importance"] == "regional"
    assert feature["geometry_type"] in ("Polygon", "MultiPolygon"), feature
    # In the map's CRS, easting first: the feature lands where it is drawn.
    assert feature["geometry_bbox"] == pytest.approx(list(DEPOSIT.bounds), abs=1.0)


def test_qgis_identify_in_epsg_4326(qgis):
    """Identify in EPSG:4326 (latitude-first BBOX in WMS 1.3.0) finds the deposit where it is.

    QGIS keeps longitude first inside; the answer's geometry must land on the deposit.
    """
    found = no_error(qgis["wms_4326"])["identify"]
    assert found["valid"] and found["string_results"] == [], found
    assert [f["attributes"]["name"] for f in found["features"]] == ["Testmoen"], found
    assert found["features"][0]["geometry_bbox"] == pytest.approx(crs84(DEPOSIT), abs=1e-5)


def test_qgis_loads_oapif_collections(qgis):
    """OAPIF layers: counts, fields, one Multi* geometry type, CRS and extent."""
    minerals = no_error(qgis["oapif"]["mineral_deposits"])
    assert minerals["valid"]
    assert minerals["feature_count"] == minerals["features_read"] == 2
    assert {"name", "importance"} <= set(minerals["fields"])
    assert minerals["wkb_type"] == "MultiPolygon"
    assert minerals["geometry_types"] == ["MultiPolygon"]
    assert minerals["crs"] == "EPSG:4326"  # QGIS 3.22 reads OGC API items in CRS84
    expected = crs84(DEPOSIT.union(FAR_DEPOSIT))
    assert minerals["extent"] == pytest.approx(expected, abs=1e-4)

    reindeer = no_error(qgis["oapif"]["villrein_areas"])
    assert reindeer["feature_count"] == reindeer["features_read"] == 2
    assert reindeer["wkb_type"] == "MultiPolygon"  # a Polygon and a MultiPolygon were loaded
    assert reindeer["geometry_types"] == ["MultiPolygon"]
    assert {"name", "category"} <= set(reindeer["fields"])


def test_qgis_loads_an_empty_collection(qgis):
    """A collection without features loads as a valid, empty layer.

    QGIS 3.22's OAPIF provider takes fields only from a first page of items (it reads no
    queryables or schema), so an empty collection has none there; GDAL reads the schema
    (test_gdal_reads_the_fields_of_an_empty_collection).
    """
    empty = no_error(qgis["oapif"][EMPTY])
    assert empty["valid"]
    assert empty["feature_count"] == empty["features_read"] == 0


def test_qgis_loads_the_vector_tiles(qgis):
    """A vector tile layer on the collection's WebMercatorQuad tiles decodes and draws.

    The tile's MVT layer is named like the collection: a style for that name draws it.
    """
    tiles = no_error(qgis["vector_tiles"])
    assert tiles["valid"] and tiles["source_type"] == "xyz"
    for name in ("render_all", "render_named"):
        image = tiles[name]
        assert image["errors"] == [], image
        assert image["drawn_pixels"] > 0, f"{name}: QGIS drew no feature of the tile ({tiles})"
    # As many pixels as the deposit covers of the 256-pixel tile (edges drawn or not).
    x, y = deposit_tile()
    tile = box(*tile_bounds(x, y, TILE_ZOOM))
    in_mercator = to_mercator(DEPOSIT).intersection(tile)
    pixels = in_mercator.area / (tile.area / 256**2)
    assert tiles["render_named"]["drawn_pixels"] == pytest.approx(pixels, rel=0.15), tiles


def test_qgis_draws_the_map_tiles(qgis):
    """The WMS layer's map tiles as QGIS XYZ Tiles, drawn in EPSG:25832, show the deposit."""
    tiles = no_error(qgis["raster_tiles"])
    image = tiles["render"]
    assert image["errors"] == [], image
    assert tuple(image["centre_rgba"][:3]) == pytest.approx(REGIONAL_RGB, abs=6), image
    assert image["centre_rgba"][3] > 0 and image["corner_rgba"][3] == 0, image


# --- GDAL ---------------------------------------------------------------------------------


def ogrinfo_summary(live_server: str, collection: str) -> str:
    """`ogrinfo -ro -so` of a collection through GDAL's OAPIF driver."""
    return gdal("ogrinfo", "-ro", "-so", f"OAPIF:{live_server}/ogcapi", collection).stdout


def fields_of(summary: str) -> dict[str, str]:
    """The `name: Type` field lines of an ogrinfo summary."""
    lines = summary.split("Layer SRS WKT")[-1]
    return dict(re.findall(r"^(\w+): (\w+) \(", lines, flags=re.MULTILINE))


def test_gdal_oapif_reads_collections(live_server, gis_layers):
    """ogrinfo: feature count, one Multi Polygon geometry type, the fields."""
    summary = ogrinfo_summary(live_server, "mineral_deposits")
    assert "Feature Count: 2" in summary, summary
    assert "Geometry: Multi Polygon" in summary, summary
    assert {"name", "importance"} <= set(fields_of(summary)), summary

    reindeer = ogrinfo_summary(live_server, "villrein_areas")
    assert "Geometry: Multi Polygon" in reindeer, reindeer  # not "Unknown (any)"
    assert "Feature Count: 2" in reindeer, reindeer


def test_gdal_reads_the_fields_of_an_empty_collection(live_server, gis_layers):
    """GDAL takes an empty collection's fields from its schema.

    GDAL 3.6 reads a link of the /collections list spelled rel="describedBy" with type
    application/schema+json, to a schema of the GeoJSON feature (fields under `properties`).
    """
    summary = ogrinfo_summary(live_server, EMPTY)
    assert "Feature Count: 0" in summary, summary
    assert {"name", "category"} <= set(fields_of(summary)), summary


def test_gdal_ogr2ogr_copies_a_bbox_to_geopackage(live_server, gis_layers, tmp_path):
    """ogr2ogr with -spat (CRS84) copies only the deposit inside the box."""
    target = tmp_path / "deposits.gpkg"
    minlon, minlat, maxlon, maxlat = crs84(DEPOSIT.buffer(200))
    gdal(
        "ogr2ogr",
        "-f",
        "GPKG",
        str(target),
        f"OAPIF:{live_server}/ogcapi",
        "mineral_deposits",
        "-spat",
        *(str(v) for v in (minlon, minlat, maxlon, maxlat)),
    )
    summary = gdal("ogrinfo", "-ro", "-al", str(target)).stdout
    assert "Feature Count: 1" in summary, summary
    assert "Geometry: Multi Polygon" in summary, summary
    assert "name (String) = Testmoen" in summary, summary


def test_gdal_wms_translates_a_listed_layer_with_its_default_format(
    live_server, gis_layers, tmp_path
):
    """gdal_translate of a subdataset from the capabilities, with GDAL's default image format.

    GDAL asks for image/jpeg (opaque, TRANSPARENT=FALSE) unless told otherwise; the window
    is half deposit, half empty ground.
    """
    info = gdal("gdalinfo", f"WMS:{live_server}/wms?").stdout
    names = dict(re.findall(r"SUBDATASET_(\d+)_NAME=(\S+)", info))
    layer = next(
        (url for url in names.values() if re.search(r"LAYERS=mineral_deposits(&|$)", url)), None
    )
    assert layer is not None, info
    assert "FORMAT=" not in layer.upper(), layer  # so the driver's default format is used
    srs = re.search(r"SRS=EPSG:(\d+)", layer)
    assert srs is not None, layer
    to_srs = Transformer.from_crs(25832, int(srs.group(1)), always_xy=True)
    west, south, east, north = to_srs.transform_bounds(540_500, 6_610_000, 541_500, 6_611_000)
    target = tmp_path / "window.tif"
    done = gdal(
        "gdal_translate",
        "-projwin",
        *(str(v) for v in (west, north, east, south)),
        "-outsize",
        "64",
        "64",
        layer,
        str(target),
    )
    assert "ERROR" not in done.stderr, done.stderr
    with rasterio.open(target) as dataset:
        data = dataset.read()
    assert data.shape == (3, 64, 64), data.shape
    deposit, ground = data[:, 32, 12].astype(int), data[:, 32, 52].astype(int)
    assert tuple(deposit) == pytest.approx(ON_WHITE, abs=8), (deposit, ground)
    assert tuple(ground) == pytest.approx((255, 255, 255), abs=8), (deposit, ground)


def tile_url(live_server: str, x: int, y: int) -> str:
    """The URL of the deposits' WebMercatorQuad tile (tileMatrix/tileRow/tileCol)."""
    return (
        f"{live_server}/ogcapi/collections/mineral_deposits/tiles/WebMercatorQuad/"
        f"{TILE_ZOOM}/{y}/{x}"
    )


def extent_of(summary: str) -> list[float]:
    """The `Extent: (minx, miny) - (maxx, maxy)` of an ogrinfo summary."""
    found = re.search(r"Extent: \(([-\d.]+), ([-\d.]+)\) - \(([-\d.]+), ([-\d.]+)\)", summary)
    assert found is not None, summary
    return [float(v) for v in found.groups()]


def test_gdal_mvt_decodes_a_tile(live_server, gis_layers, tmp_path):
    """GDAL's MVT driver decodes a tile: one MVT layer named like the collection, in place.

    The tile is fetched as a web map fetches it; GDAL's /vsicurl/ would take an HTTP path
    without a .pbf/.mvt extension for a tile set directory.
    """
    x, y = deposit_tile()
    request = urllib.request.Request(
        tile_url(live_server, x, y), headers={"Accept": "application/vnd.mapbox-vector-tile"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "application/vnd.mapbox-vector-tile"
        body = response.read()
    tile = tmp_path / "tile.mvt"
    tile.write_bytes(body)
    summary = gdal(
        "ogrinfo",
        "-ro",
        "-al",
        *("-oo", f"X={x}", "-oo", f"Y={y}", "-oo", f"Z={TILE_ZOOM}"),
        *("-oo", "METADATA_FILE="),  # a single tile: no tile set metadata.json to look for
        f"MVT:{tile}",
    ).stdout
    layers = re.findall(r"^Layer name: (\S+)", summary, flags=re.MULTILINE)
    assert layers == ["mineral_deposits"], summary
    assert "Feature Count: 1" in summary, summary  # the far deposit is in another tile
    assert "name (String) = Testmoen" in summary, summary
    # Where the deposit is, in EPSG:3857, to the tile's grid (4096 cells of 2.4 m).
    assert extent_of(summary) == pytest.approx(list(to_mercator(DEPOSIT).bounds), abs=5), summary
