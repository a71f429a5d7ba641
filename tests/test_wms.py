"""WMS 1.3.0/1.1.1 tested with real clients: OWSLib and GDAL's WMS driver (through rasterio)."""

import urllib.request
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode
from xml.etree import ElementTree

import numpy as np
import pytest
import rasterio
from owslib.wms import WebMapService
from pyproj import Transformer
from rasterio.io import MemoryFile
from shapely.geometry import Point, Polygon, box
from sqlalchemy import text

from app.db import get_sessionmaker
from app.wms import render, worker
from tests.plans import collection, encode, housing_area
from tests.rule_fixtures import load_vector_layer

# A regional gravel deposit near Kongsberg (EPSG:25832) and the map extent around it.
DEPOSIT = box(540_000, 6_610_000, 541_000, 6_611_000)
MAP_BBOX = (539_500.0, 6_609_500.0, 541_500.0, 6_611_500.0)
REGIONAL_RGB = (0xB0, 0x62, 0x2A)  # layers/styles/mineral_deposits.xml, regional
UTM32 = {"type": "name", "properties": {"name": "EPSG:25832"}}


@pytest.fixture
def deposits(tmp_path):
    """One regional deposit loaded as the mineral_deposits layer."""
    record = {"geometry": DEPOSIT, "name": "Testmoen", "importance": "regional"}
    load_vector_layer("mineral_deposits", [record], tmp_path)


def pixels(png: bytes) -> np.ndarray:
    """Decode a PNG into a (height, width, bands) array."""
    with MemoryFile(png) as memory, memory.open() as image:
        return np.moveaxis(image.read(), 0, -1)


def test_owslib_reads_capabilities_1_3_0_and_1_1_1(live_server, deposits):
    """Every guideline layer, proposals, findings by severity and the matrix are listed."""
    for version in ("1.3.0", "1.1.1"):
        service = WebMapService(f"{live_server}/wms", version=version)
        names = set(service.contents)
        assert {"mineral_deposits", "tree_line", "villrein_corridors", "municipalities"} <= names
        assert {"proposals", "matrix_zones", "findings_conflict", "findings_warning"} <= names
        layer = service["mineral_deposits"]
        assert "NLOD" in layer.abstract or "test" in layer.abstract
        crs = {c[4] if isinstance(c, tuple) else c for c in layer.crsOptions}
        assert {"EPSG:25832", "EPSG:25833", "EPSG:4326", "EPSG:3857"} <= crs
        west, south, east, north = layer.boundingBoxWGS84
        assert 7 < west < east < 11.5 and 59 < south < north < 61.5
        assert "GetLegendGraphic" in layer.styles["mineral_deposits"]["legend"]
        assert set(service.getOperationByName("GetFeatureInfo").formatOptions) >= {
            "application/json",
            "text/html",
            "text/xml",
        }


def test_owslib_getmap_pixel_has_the_layer_colour(live_server, deposits):
    """The deposit fills the middle of the map in its style's colour; corners are transparent."""
    service = WebMapService(f"{live_server}/wms", version="1.3.0")
    response = service.getmap(
        layers=["mineral_deposits"],
        styles=[""],
        srs="EPSG:25832",
        bbox=MAP_BBOX,
        size=(200, 200),
        format="image/png",
        transparent=True,
    )
    image = pixels(response.read())
    assert image.shape == (200, 200, 4)
    assert tuple(image[100, 100, :3]) == pytest.approx(REGIONAL_RGB, abs=2)
    assert image[100, 100, 3] == pytest.approx(0.55 * 255, abs=2)
    assert image[5, 5, 3] == 0


def test_wms_1_3_0_epsg_4326_uses_latitude_first(client, deposits):
    """In 1.3.0 the EPSG:4326 BBOX is lat/lon; the same deposit lands in the middle."""
    to_wgs84 = Transformer.from_crs(25832, 4326, always_xy=True)
    lon, lat = to_wgs84.transform(540_500, 6_610_500)
    bbox = f"{lat - 0.005},{lon - 0.01},{lat + 0.005},{lon + 0.01}"
    response = client.get(
        "/wms",
        params={
            "SERVICE": "WMS",
            "VERSION": "1.3.0",
            "REQUEST": "GetMap",
            "LAYERS": "mineral_deposits",
            "STYLES": "",
            "CRS": "EPSG:4326",
            "BBOX": bbox,
            "WIDTH": 100,
            "HEIGHT": 100,
            "FORMAT": "image/png",
            "TRANSPARENT": "TRUE",
        },
    )
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert tuple(pixels(response.content)[50, 50, :3]) == pytest.approx(REGIONAL_RGB, abs=2)


def test_gdal_wms_driver_reads_a_map(live_server, deposits):
    """GDAL's WMS driver (a client we did not write) reads the layer through rasterio."""
    url = (
        f"WMS:{live_server}/wms?SERVICE=WMS&VERSION=1.1.1&REQUEST=GetMap"
        "&LAYERS=mineral_deposits&SRS=EPSG:25832&FORMAT=image/png&TRANSPARENT=TRUE"
        "&BBOX=" + ",".join(str(v) for v in MAP_BBOX)
    )
    with rasterio.Env(GDAL_HTTP_TIMEOUT=20), rasterio.open(url) as dataset:
        assert dataset.crs.to_epsg() == 25832
        window = rasterio.windows.from_bounds(*MAP_BBOX, transform=dataset.transform)
        data = dataset.read(window=window, out_shape=(dataset.count, 64, 64))
    centre = data[:3, 32, 32]
    assert tuple(centre) == pytest.approx(REGIONAL_RGB, abs=3)


@pytest.mark.parametrize(
    ("info_format", "expected"),
    [
        ("application/json", '"importance": "regional"'),
        ("text/html", "Testmoen"),
        ("text/xml", 'value="regional"'),
    ],
)
def test_getfeatureinfo_in_each_format(client, deposits, info_format, expected):
    """Clicking the middle of the map returns the deposit's attributes."""
    params = {
        "SERVICE": "WMS",
        "VERSION": "1.3.0",
        "REQUEST": "GetFeatureInfo",
        "LAYERS": "mineral_deposits",
        "QUERY_LAYERS": "mineral_deposits",
        "STYLES": "",
        "CRS": "EPSG:25832",
        "BBOX": ",".join(str(v) for v in MAP_BBOX),
        "WIDTH": 200,
        "HEIGHT": 200,
        "I": 100,
        "J": 100,
        "INFO_FORMAT": info_format,
    }
    response = client.get("/wms", params=params)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(info_format)
    assert expected in response.text
    params.update({"I": 2, "J": 2})
    assert "regional" not in client.get("/wms", params=params).text


def test_getlegendgraphic(client):
    """The legend has one row per style rule, drawn by Mapnik."""
    response = client.get(
        "/wms",
        params={
            "SERVICE": "WMS",
            "REQUEST": "GetLegendGraphic",
            "LAYER": "mineral_deposits",
            "FORMAT": "image/png",
        },
    )
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    image = pixels(response.content)
    assert image.shape[:2] == (4 * 22, 320)
    swatch = tuple(image[22 + 11, 15, :3])  # second row: regional
    assert swatch != (255, 255, 255)


def test_getlegendgraphic_of_the_findings_group(client):
    """The group a client adds as one layer (LAYERS=findings) has a legend too: a row per
    severity."""
    params = {"SERVICE": "WMS", "REQUEST": "GetLegendGraphic", "FORMAT": "image/png"}
    response = client.get("/wms", params={**params, "LAYER": "findings"})
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert pixels(response.content).shape[:2] == (5 * 22, 320)


def exception_code(response) -> str:
    root = ElementTree.fromstring(response.content)
    assert root.tag.endswith("ServiceExceptionReport")
    return next(root.iter()).find("*").get("code")


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"SERVICE": "WMS", "VERSION": "1.3.0"}, "MissingParameterValue"),
        (
            {
                "REQUEST": "GetMap",
                "VERSION": "1.3.0",
                "LAYERS": "nope",
                "CRS": "EPSG:25832",
                "BBOX": "0,0,1,1",
                "WIDTH": 10,
                "HEIGHT": 10,
                "FORMAT": "image/png",
            },
            "LayerNotDefined",
        ),
        (
            {
                "REQUEST": "GetMap",
                "VERSION": "1.3.0",
                "LAYERS": "municipalities",
                "CRS": "EPSG:32632",
                "BBOX": "0,0,1,1",
                "WIDTH": 10,
                "HEIGHT": 10,
                "FORMAT": "image/png",
            },
            "InvalidCRS",
        ),
        (
            {
                "REQUEST": "GetMap",
                "VERSION": "1.1.1",
                "LAYERS": "municipalities",
                "SRS": "EPSG:32632",
                "BBOX": "0,0,1,1",
                "WIDTH": 10,
                "HEIGHT": 10,
                "FORMAT": "image/png",
            },
            "InvalidSRS",
        ),
        (
            {
                "REQUEST": "GetMap",
                "VERSION": "1.3.0",
                "LAYERS": "municipalities",
                "CRS": "EPSG:25832",
                "BBOX": "5,0,1,1",
                "WIDTH": 10,
                "HEIGHT": 10,
                "FORMAT": "image/png",
            },
            "InvalidParameterValue",
        ),
        (
            {
                "REQUEST": "GetMap",
                "VERSION": "1.3.0",
                "LAYERS": "municipalities",
                "CRS": "EPSG:25832",
                "BBOX": "0,0,1,1",
                "WIDTH": 99999,
                "HEIGHT": 10,
                "FORMAT": "image/png",
            },
            "InvalidParameterValue",
        ),
        (
            {
                "REQUEST": "GetMap",
                "VERSION": "1.3.0",
                "LAYERS": "municipalities",
                "CRS": "EPSG:25832",
                "BBOX": "0,0,1,1",
                "WIDTH": 10,
                "HEIGHT": 10,
                "FORMAT": "image/gif",
            },
            "InvalidFormat",
        ),
        (
            {
                "REQUEST": "GetMap",
                "VERSION": "1.3.0",
                "LAYERS": "municipalities",
                "STYLES": "fancy",
                "CRS": "EPSG:25832",
                "BBOX": "0,0,1,1",
                "WIDTH": 10,
                "HEIGHT": 10,
                "FORMAT": "image/png",
            },
            "StyleNotDefined",
        ),
        ({"REQUEST": "GetMap", "VERSION": "1.3.0", "CRS": "EPSG:25832"}, "MissingParameterValue"),
        ({"REQUEST": "DescribeLayer", "VERSION": "1.3.0"}, "OperationNotSupported"),
    ],
)
def test_bad_requests_get_service_exception_reports(client, params, code):
    """Bad requests are answered with a spec-shaped ServiceExceptionReport and its code."""
    response = client.get("/wms", params=params)
    assert response.status_code == 400
    assert exception_code(response) == code
    expected_type = "application/vnd.ogc.se_xml" if params.get("VERSION") == "1.1.1" else "text/xml"
    assert response.headers["content-type"].startswith(expected_type)


def test_findings_are_coloured_by_severity(client, deposits):
    """Housing over the deposit gives a G3 conflict, drawn red in findings_conflict."""
    housing = housing_area()
    plan = {"kommunenummer": "3303", "planidentifikasjon": "WMS1", "plantype": 20, "planstatus": 2}
    upload = client.post(
        "/api/v1/proposals", content=encode(collection(housing, plan=plan, crs=UTM32))
    )
    assert upload.status_code == 201, upload.text
    assert client.post("/api/v1/proposals/3303_WMS1/publish").status_code == 200
    assert client.post(upload.json()["links"][0]["href"] + "/checks").status_code == 201
    params = {
        "SERVICE": "WMS",
        "VERSION": "1.3.0",
        "REQUEST": "GetMap",
        "LAYERS": "findings_conflict",
        "STYLES": "",
        "CRS": "EPSG:25832",
        "BBOX": ",".join(str(v) for v in MAP_BBOX),
        "WIDTH": 200,
        "HEIGHT": 200,
        "FORMAT": "image/png",
        "TRANSPARENT": "TRUE",
    }
    red, green, blue, alpha = pixels(client.get("/wms", params=params).content)[100, 100]
    assert (red, green, blue) == pytest.approx((0xD3, 0x2F, 0x2F), abs=3) and alpha > 100
    # The group draws every severity, conflicts on top of the warning under them.
    params["LAYERS"] = "findings"
    red, green, blue, _ = pixels(client.get("/wms", params=params).content)[100, 100]
    assert red > green + 60 and red > blue + 60


def getmap_params(layers: str, bbox: tuple[float, ...], size: int = 200) -> dict[str, object]:
    """GetMap parameters for a square transparent PNG in EPSG:25832."""
    return {
        "SERVICE": "WMS",
        "VERSION": "1.3.0",
        "REQUEST": "GetMap",
        "LAYERS": layers,
        "STYLES": "",
        "CRS": "EPSG:25832",
        "BBOX": ",".join(str(v) for v in bbox),
        "WIDTH": size,
        "HEIGHT": size,
        "FORMAT": "image/png",
        "TRANSPARENT": "TRUE",
    }


def test_getmap_after_a_new_layer_version_draws_the_new_version(client, deposits, tmp_path):
    """Parsed maps are reused between GetMaps, yet a newly loaded version is drawn at once."""
    params = getmap_params("mineral_deposits", MAP_BBOX)
    before = pixels(client.get("/wms", params=params).content)
    assert before[100, 100, 3] > 0 and before[190, 10, 3] == 0
    # Version 2 has only a deposit in the south-west corner of the map.
    moved = {"geometry": box(539_500, 6_609_500, 539_700, 6_609_700), "name": "Nymoen"}
    load_vector_layer("mineral_deposits", [{**moved, "importance": "regional"}], tmp_path)
    after = pixels(client.get("/wms", params=params).content)
    assert after[100, 100, 3] == 0
    assert tuple(after[190, 10, :3]) == pytest.approx(REGIONAL_RGB, abs=2)


def test_concurrent_getmaps_draw_the_same_images_as_one_at_a_time(live_server, deposits):
    """Requests share parsed maps, but never one map at the same time."""
    views = [
        (MAP_BBOX, 200),
        ((540_000.0, 6_610_000.0, 541_000.0, 6_611_000.0), 256),
        ((539_000.0, 6_609_000.0, 543_000.0, 6_613_000.0), 300),
    ]
    urls = [
        f"{live_server}/wms?" + urlencode(getmap_params("mineral_deposits", bbox, size))
        for bbox, size in views
    ]

    def fetch(url: str) -> np.ndarray:
        with urllib.request.urlopen(url, timeout=60) as response:
            return pixels(response.read())

    expected = [fetch(url) for url in urls]
    with ThreadPoolExecutor(max_workers=8) as pool:
        images = list(pool.map(fetch, urls * 10))
    for index, image in enumerate(images):
        np.testing.assert_array_equal(image, expected[index % len(urls)])


def test_a_render_process_keeps_parsed_maps_and_drops_the_least_recently_used(monkeypatch):
    """The parsed-map cache lives in the render process: a definition is parsed once, and the
    cache keeps at most MAP_CACHE_SIZE of them, least recently used dropped first."""
    monkeypatch.setattr(worker, "MAP_CACHE_SIZE", 2)
    monkeypatch.setattr(worker, "_maps", type(worker._maps)())
    definitions = [f'<Map srs="epsg:25832" background-color="#00000{i}"/>' for i in range(3)]
    first = worker.parsed_map(definitions[0])
    assert worker.parsed_map(definitions[0]) is first
    worker.parsed_map(definitions[1])
    worker.parsed_map(definitions[0])  # used last: kept
    worker.parsed_map(definitions[2])  # one too many: drops definitions[1]
    assert list(worker._maps) == [definitions[0], definitions[2]]
    assert worker.parsed_map(definitions[0]) is first
    png = worker.render_png(definitions[2], (0.0, 0.0, 10.0, 10.0), 4, 3, "png32")
    assert pixels(png).shape == (3, 4, 4)


def draw_heritage_site_on_200_m_pixels(client, tmp_path, geometry, name: str) -> np.ndarray:
    """Load one heritage site and draw a 20 km view of 100 x 100 pixels around it."""
    record = {"geometry": geometry, "name": name, "category": "lokalitet"}
    load_vector_layer("heritage_protected", [record], tmp_path)
    view = (530_500.0, 6_600_500.0, 550_500.0, 6_620_500.0)
    return pixels(client.get("/wms", params=getmap_params("heritage_protected", view, 100)).content)


def test_features_far_smaller_than_a_pixel_are_still_drawn(client, tmp_path):
    """A 2 m heritage site with 65 vertices still shows on a map with 200 m pixels (it is
    drawn as its bounding box, a dot of about one pixel)."""
    # In the middle of pixel (50, 50); its vertices are 0.1 m apart, a 2,000th of a pixel.
    site = Point(540_600, 6_610_400).buffer(1.0, quad_segs=16)
    image = draw_heritage_site_on_200_m_pixels(client, tmp_path, site, "Gravrøys")
    assert image[50, 50, 3] > 100
    assert image[10, 10, 3] == 0


def test_a_needle_thinner_than_a_pixel_draws_no_spike_past_its_tip(client, tmp_path):
    """A sliver 1 km long and 1 m wide ends where it ends: its 0.06° tip gets no long mitre."""
    # 200 m pixels: the needle runs along row 50 from column 47.5 to its tip at column 52.5.
    needle = Polygon([(540_000, 6_610_399.5), (541_000, 6_610_400), (540_000, 6_610_400.5)])
    image = draw_heritage_site_on_200_m_pixels(client, tmp_path, needle, "Steingard")
    assert image[50, 50, 3] > 100
    inked_columns = np.flatnonzero(image[:, :, 3].max(axis=0))
    assert inked_columns.max() <= 54  # the tip's pixel and the stroke's half pixel past it


def test_what_the_renderer_reads_thins_outlines_and_boxes_sub_pixel_features():
    """With 200 m pixels: a 2 m site comes as its box, a 2 km outline without the vertices
    that lie within 100 m of the one kept before them."""
    layer_sql = (
        "(SELECT 1 AS id, ST_Buffer(ST_Point(540600, 6610400, 25832), 1, 16) AS geom "
        "UNION ALL SELECT 2, ST_Buffer(ST_Point(540600, 6610400, 25832), 1000, 16)) AS t"
    )
    sql = render.thinned_sql(layer_sql)
    sql = sql.replace("!pixel_width!", "200").replace(
        "!bbox!", "ST_MakeEnvelope(530500, 6600500, 550500, 6620500, 25832)"
    )
    with get_sessionmaker()() as session:
        rows = session.execute(
            text(f"SELECT id, ST_AsText(px_geom), ST_NPoints(px_geom) FROM {sql} ORDER BY id")
        ).all()
    site, outline = rows
    assert site[1].startswith("POLYGON((540599") and site[2] == 5
    assert 5 <= outline[2] < 65  # 16 segments to a quarter circle of 1.57 km: 98 m apart
