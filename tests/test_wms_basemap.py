"""The map planners read: the offline base map, «Over skoggrensen», plan colours, the page's
base-map configuration and its Content-Security-Policy (issue 20, acceptance 2)."""

from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pytest
import rasterio
from fastapi.testclient import TestClient
from shapely.geometry import box

from app.db import get_sessionmaker
from app.main import create_app
from app.settings import Settings, get_settings
from layers.loader import current_versions
from layers.terrain_products import PROVENANCE_TAG, above_tree_line_path, hillshade_path
from spatial.plan_colours import get_plan_colours
from tests.plans import collection, encode, feature, housing_area
from tests.rule_fixtures import load_raster_layer, load_vector_layer
from tests.test_wms import getmap_params, pixels

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
# A 2 km square near Kongsberg: terrain rising from 800 m in the west to 1200 m in the east
# under a flat tree line at 1000 m, so the east half lies above it.
ORIGIN = (540_000.0, 6_612_000.0)
CELL = 10.0
SIZE = 200
BBOX = (540_000.0, 6_610_000.0, 542_000.0, 6_612_000.0)
UTM32 = {"type": "name", "properties": {"name": "EPSG:25832"}}
WMS_NS = "{http://www.opengis.net/wms}"


def load_raster(layer_id: str, values: np.ndarray, folder: Path, cell: float, origin) -> None:
    """Load a float32 grid as a raster layer into the service's raster directory."""
    load_raster_layer(layer_id, values, folder, origin, cell, raster_dir=get_settings().raster_dir)


@pytest.fixture
def terrain(tmp_path):
    """Terrain 800-1200 m west to east; the tree line at 1000 m over it, on 500 m cells."""
    columns = np.linspace(800.0, 1200.0, SIZE)
    load_raster("elevation", np.tile(columns, (SIZE, 1)), tmp_path, CELL, ORIGIN)
    load_raster(
        "tree_line", np.full((6, 6), 1000.0), tmp_path, 500.0, (ORIGIN[0] - 500, ORIGIN[1] + 500)
    )


def wms(client: TestClient, **params: object):
    return client.get("/wms", params={"SERVICE": "WMS", "VERSION": "1.3.0", **params})


def legend(client: TestClient, layer: str) -> np.ndarray:
    response = wms(client, REQUEST="GetLegendGraphic", LAYER=layer, FORMAT="image/png")
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    return pixels(response.content)


def test_above_tree_line_colours_the_terrain_above_and_leaves_the_rest_clear(client, terrain):
    """The east half (up to 200 m above) is shaded, the west half is transparent; a click
    says how far above or below the line the cell lies; the legend draws its classes."""
    with get_sessionmaker()() as session:
        current = current_versions(session)
    derived = above_tree_line_path(
        get_settings().raster_dir, current["elevation"], current["tree_line"]
    )
    with rasterio.open(derived) as dataset:
        assert f"tree_line v{current['tree_line'].version}" in dataset.tags()[PROVENANCE_TAG]
    image = pixels(wms(client, **getmap_params("above_tree_line", BBOX)).content)
    east, west = image[100, 180], image[100, 20]
    assert east[3] > 100 and west[3] == 0
    assert east[2] > east[1]  # blue-violet, not the findings' red or orange
    info = wms(
        client,
        REQUEST="GetFeatureInfo",
        LAYERS="above_tree_line",
        QUERY_LAYERS="above_tree_line",
        STYLES="",
        CRS="EPSG:25832",
        BBOX=",".join(map(str, BBOX)),
        WIDTH=200,
        HEIGHT=200,
        I=190,
        J=100,
        INFO_FORMAT="application/json",
    ).json()
    properties = info["features"][0]["properties"]
    assert properties["layer_title"] == "Over skoggrensen"
    assert properties["title"].endswith("m over skoggrensen")
    assert 170 < properties["value"] <= 200
    rows = legend(client, "above_tree_line")
    assert rows.shape[:2] == (4 * 22, 320)
    assert tuple(rows[11, 15, :3]) != (255, 255, 255)


def test_the_offline_base_map_draws_terrain_shade_lines_and_names(client, terrain, tmp_path):
    """`basemap` is listed in bokmål, opaque over the terrain, shaded by slope, with the
    municipality names on top; its legend renders."""
    capabilities = wms(client, REQUEST="GetCapabilities").text
    assert "<Name>basemap</Name>" in capabilities
    assert "Bakgrunnskart (eget, frakoblet)" in capabilities
    with get_sessionmaker()() as session:
        elevation = current_versions(session)["elevation"]
    assert hillshade_path(get_settings().raster_dir, elevation).is_file()
    image = pixels(wms(client, **getmap_params("basemap", BBOX)).content)
    assert (image[20:180, 20:180, 3] == 255).all()
    # County scale: Kongsberg's name is written on the map.
    county = wms(client, **getmap_params("basemap", (520_000, 6_590_000, 570_000, 6_640_000), 500))
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "basemap-kongsberg.png").write_bytes(county.content)
    drawn = pixels(county.content)
    dark_text = (drawn[..., :3].max(axis=2) < 120) & (drawn[..., 3] == 255)
    assert dark_text.sum() > 50
    rows = legend(client, "basemap")
    assert rows.shape[0] >= 2 * 22


def test_plan_colours_are_served_as_data(anonymous):
    """GET /api/v1/plan-colours gives each arealformål its tegneregler fills and title."""
    body = anonymous.get("/api/v1/plan-colours").json()
    assert body["arealformal"]["1110"] == {
        "fill": "#ffff33",
        "fill_existing": "#ffff99",
        "title": "Boligbebyggelse",
        "combined": False,
    }
    assert body["arealformal"]["1120"]["fill_existing"] == "#ffcc66"
    assert body["default"]["fill"].startswith("#")
    assert {"code": "5100", "title": "LNFR"} in body["legend"]
    assert body["arealbruksstatus"]["1"] == "Nåværende"


def blended(colour: str, opacity: float) -> tuple[int, int, int]:
    """A fill drawn at an opacity over white."""
    rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    return tuple(round(opacity * c + (1 - opacity) * 255) for c in rgb)


def test_proposals_and_the_adopted_plan_use_the_tegneregler_colours(client, tmp_path):
    """A framtidig 1110 area is drawn #ffff33; an adopted cabin area (1120 nåværende) is
    #ffcc66, not the warning orange; clicking names the arealformål, not internal ids."""
    housing = housing_area()
    zone = feature(
        box(541_000, 6_610_200, 541_400, 6_610_800).__geo_interface__,
        "H570_1",
        angittHensyn="H570_1",
        hensynsonenavn="H570_1",
    )
    plan = {"kommunenummer": "3303", "planidentifikasjon": "COL1", "plantype": 20, "planstatus": 2}
    upload = client.post(
        "/api/v1/proposals", content=encode(collection(housing, zone, plan=plan, crs=UTM32))
    )
    assert upload.status_code == 201, upload.text
    assert client.post("/api/v1/proposals/3303_COL1/publish").status_code == 200
    bbox = (539_500.0, 6_609_500.0, 541_500.0, 6_611_500.0)
    params = {**getmap_params("proposals", bbox), "TRANSPARENT": "FALSE"}
    image = pixels(wms(client, **params).content)
    assert tuple(image[100, 100, :3]) == pytest.approx(blended("#ffff33", 0.85), abs=3)
    # The hensynssone is hatched: thin dark lines over a clear inside.
    inside = image[80:120, 155:185, :3].max(axis=2)
    assert 0.05 < (inside < 200).mean() < 0.5 and (inside > 250).mean() > 0.3

    cabins = box(560_000, 6_620_000, 561_000, 6_621_000)
    record = {"geometry": cabins, "arealformal": 1120, "arealbruksstatus": 1}
    load_vector_layer("existing_kommuneplan", [record], tmp_path)
    around = (559_500.0, 6_619_500.0, 561_500.0, 6_621_500.0)
    params = {**getmap_params("existing_kommuneplan", around), "TRANSPARENT": "FALSE"}
    pixel = pixels(wms(client, **params).content)[100, 100]
    assert tuple(pixel[:3]) == pytest.approx(blended("#ffcc66", 0.6), abs=3)
    assert get_plan_colours().fill(1120, 1) == "#ffcc66"

    info = wms(
        client,
        REQUEST="GetFeatureInfo",
        LAYERS="proposals",
        QUERY_LAYERS="proposals",
        STYLES="",
        CRS="EPSG:25832",
        BBOX=",".join(map(str, bbox)),
        WIDTH=200,
        HEIGHT=200,
        I=100,
        J=100,
        INFO_FORMAT="application/json",
    ).json()
    properties = info["features"][0]["properties"]
    assert properties["title"] == "B1" and properties["layer_title"].startswith("Planforslag")
    labels = {f["label"]: f["value"] for f in properties["fields"]}
    assert labels["Arealformål"] == "1110 Boligbebyggelse"
    assert labels["Arealbruksstatus"] == "2 Framtidig"
    assert "id" not in properties and "fill" not in properties
    assert info["features"][0]["id"] is None
    rows = legend(client, "proposals")
    assert rows.shape[0] == (len(get_plan_colours().legend) + 2) * 22


def page_with(monkeypatch, basemap_url: str):
    """The map page of an app started with this base-map setting."""
    monkeypatch.setenv("AREALSJEKK_BASEMAP_URL", basemap_url)
    get_settings.cache_clear()
    try:
        with TestClient(create_app()) as browser:
            return browser.get("/")
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def img_src(response) -> list[str]:
    policy = response.headers["content-security-policy"]
    directive = next(d for d in policy.split("; ") if d.startswith("img-src "))
    return directive.split()[1:]


def test_the_page_gets_the_configured_base_map_and_the_csp_allows_only_its_origin(
    database, monkeypatch
):
    """Kartverket's cache is named on the map element and allowed in img-src, nothing more;
    offline, the page is told to use the WMS layer and img-src stays this service's own."""
    kartverket = (
        "https://cache.kartverket.no/v1/wmts/1.0.0/topo/default/webmercator/{z}/{y}/{x}.png"
    )
    page = page_with(monkeypatch, kartverket)
    assert img_src(page) == ["'self'", "data:", "blob:", "https://cache.kartverket.no"]
    assert 'data-basemap-kind="xyz"' in page.text
    assert f'data-basemap-url="{kartverket}"' in page.text
    assert 'data-basemap-attribution="© Kartverket"' in page.text
    offline = page_with(monkeypatch, "offline")
    assert img_src(offline) == ["'self'", "data:", "blob:"]
    assert 'data-basemap-kind="wms"' in offline.text
    assert 'data-basemap-layer="basemap"' in offline.text


@pytest.mark.parametrize(
    "url",
    [
        "http://tiles.example.org/{z}/{x}/{y}.png",  # plain http to another host
        "https://tiles.example.org/tiles.png",  # no {z}/{x}/{y}
        "javascript:alert(1)//{z}{x}{y}",
    ],
)
def test_a_base_map_url_that_is_no_https_tile_template_is_refused(url):
    """Only an https tile template (or loopback http) is accepted, so img-src stays narrow."""
    with pytest.raises(ValueError, match="basemap_url"):
        Settings(basemap_url=url)
    assert Settings(basemap_url="").basemap_url == "offline"
    assert Settings(basemap_url="offline").basemap_origin is None


def test_every_listed_layer_has_a_legend(client, terrain):
    """GetLegendGraphic draws a legend for every layer the capabilities list."""
    capabilities = wms(client, REQUEST="GetCapabilities").text
    root = ElementTree.fromstring(capabilities)
    names = [
        layer.findtext(f"{WMS_NS}Name")
        for layer in root.iter(f"{WMS_NS}Layer")
        if layer.find(f"{WMS_NS}Name") is not None
    ]
    assert {"basemap", "basemap_labels", "above_tree_line", "proposals"} <= set(names)
    for name in names:
        if name == "findings":  # the group: its layers have the legends
            continue
        assert legend(client, name).shape[1] == 320, name
