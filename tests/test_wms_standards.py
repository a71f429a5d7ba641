"""WMS documents against the official OGC schemas, and the edges GIS clients hit (issue 21).

Capabilities 1.3.0 and exceptions 1.3.0 are validated with lxml against the OGC XSDs (and
the SLD 1.1 capabilities XSD that declares sld:GetLegendGraphic), capabilities and
exceptions 1.1.1 against the WMS 1.1.1 DTDs: all vendored in tests/data/ogc-wms/ (see its
SOURCE.md), resolved offline. Also: per-layer extents from the data, GetMap in JPEG and PNG8,
GetFeatureInfo JSON with geometries, and GetFeatureInfo on every queryable layer.
"""

import io
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pytest
from lxml import etree
from PIL import Image
from pyproj import Transformer
from shapely.geometry import Point, box, shape
from sqlalchemy import text

from app.check_runner import get_rule_set
from app.db import get_sessionmaker
from app.settings import get_settings
from app.wms.catalog import wms_layers
from app.wms.service import SYMBOL_REACH_M
from layers.demo import load_demo_data
from tests.plans import collection, encode, housing_area
from tests.rule_fixtures import load_raster_layer, load_vector_layer

SCHEMAS = Path(__file__).parent / "data" / "ogc-wms"
# Where the documents (and the schemas themselves) point; each is read from the copy here.
OGC = "http://schemas.opengis.net"
EXCEPTION_1_1_1 = f"{OGC}/wms/1.1.1/exception_1_1_1.dtd"
OFFICIAL = {
    f"{OGC}/wms/1.3.0/capabilities_1_3_0.xsd": "wms/1.3.0/capabilities_1_3_0.xsd",
    f"{OGC}/wms/1.3.0/exceptions_1_3_0.xsd": "wms/1.3.0/exceptions_1_3_0.xsd",
    f"{OGC}/sld/1.1.0/sld_capabilities.xsd": "sld/1.1.0/sld_capabilities.xsd",
    "http://www.w3.org/1999/xlink.xsd": "w3c/1999/xlink.xsd",
    "http://www.w3.org/2001/xml.xsd": "w3c/2001/xml.xsd",
    f"{OGC}/wms/1.1.1/WMS_MS_Capabilities.dtd": "wms/1.1.1/WMS_MS_Capabilities.dtd",
    EXCEPTION_1_1_1: "wms/1.1.1/exception_1_1_1.dtd",
}
WMS = "{http://www.opengis.net/wms}"
SLD = "{http://www.opengis.net/sld}"
DEPOSIT = box(540_000, 6_610_000, 541_000, 6_611_000)
MAP_BBOX = (539_500.0, 6_609_500.0, 541_500.0, 6_611_500.0)
REGIONAL_RGB = (0xB0, 0x62, 0x2A)  # layers/styles/mineral_deposits.xml, regional
UTM32 = {"type": "name", "properties": {"name": "EPSG:25832"}}
TO_WGS84 = Transformer.from_crs(25832, "OGC:CRS84", always_xy=True)


class OfflineSchemas(etree.Resolver):
    """Resolve the official schema URLs to the vendored copies; anything else is an error."""

    def resolve(self, url, pubid, context):
        if url not in OFFICIAL:
            raise AssertionError(f"schema {url} is not vendored in {SCHEMAS}")
        return self.resolve_filename(str(SCHEMAS / OFFICIAL[url]), context)


def offline_parser() -> etree.XMLParser:
    """A parser that never reads the network nor a DTD (DTDs are validated separately)."""
    parser = etree.XMLParser(no_network=True, load_dtd=False, resolve_entities=False)
    parser.resolvers.add(OfflineSchemas())
    return parser


# One schema for everything a 1.3.0 document may hold: WMS, the SLD 1.1 operations, OGC
# exceptions; imported by their official URLs, as the documents' xsi:schemaLocation names.
DRIVER = b"""<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:import namespace="http://www.opengis.net/wms"
    schemaLocation="http://schemas.opengis.net/wms/1.3.0/capabilities_1_3_0.xsd"/>
  <xs:import namespace="http://www.opengis.net/sld"
    schemaLocation="http://schemas.opengis.net/sld/1.1.0/sld_capabilities.xsd"/>
  <xs:import namespace="http://www.opengis.net/ogc"
    schemaLocation="http://schemas.opengis.net/wms/1.3.0/exceptions_1_3_0.xsd"/>
</xs:schema>"""


@pytest.fixture(scope="module")
def xsd() -> etree.XMLSchema:
    """The WMS 1.3.0 + SLD 1.1 + OGC exception schemas, compiled from the vendored files."""
    driver = etree.fromstring(DRIVER, offline_parser(), base_url=str(SCHEMAS / "driver.xsd"))
    return etree.XMLSchema(driver)


def dtd(url: str) -> etree.DTD:
    """The vendored DTD of an official DTD URL."""
    return etree.DTD(str(SCHEMAS / OFFICIAL[url]))


def assert_valid_xsd(schema: etree.XMLSchema, content: bytes) -> etree._Element:
    document = etree.fromstring(content, offline_parser())
    assert schema.validate(document), schema.error_log.filter_from_errors()[:5]
    return document


def assert_valid_dtd(content: bytes, root: str) -> etree._Element:
    """Check the DOCTYPE names the official DTD, and the document is valid against it."""
    document = etree.fromstring(content, offline_parser())
    info = document.getroottree().docinfo
    assert info.root_name == root and info.system_url in OFFICIAL, info.doctype
    checker = dtd(info.system_url)
    assert checker.validate(document), checker.error_log.filter_from_errors()[:5]
    return document


def wms(client, **params):
    return client.get("/wms", params={"SERVICE": "WMS", **params})


@pytest.fixture
def deposit(tmp_path):
    """One regional deposit loaded as the mineral_deposits layer."""
    record = {"geometry": DEPOSIT, "name": "Testmoen", "importance": "regional"}
    load_vector_layer("mineral_deposits", [record], tmp_path)


def publish_checked_plan(client, plan_collection: dict, plan_id: str) -> None:
    """Upload, publish and check a plan (so proposals and findings layers have data)."""
    upload = client.post("/api/v1/proposals", content=encode(plan_collection))
    assert upload.status_code == 201, upload.text
    assert client.post(f"/api/v1/proposals/{plan_id}/publish").status_code == 200
    check = client.post(upload.json()["links"][0]["href"] + "/checks")
    assert check.status_code == 201, check.text


@pytest.fixture
def housing_over_deposit(client, deposit) -> None:
    """A published, checked plan with housing over the deposit: a G3 conflict."""
    housing = housing_area()
    plan = {"kommunenummer": "3303", "planidentifikasjon": "STD1", "plantype": 20, "planstatus": 2}
    publish_checked_plan(client, collection(housing, plan=plan, crs=UTM32), "3303_STD1")


# --- Validation against the official schemas -------------------------------------------------


def test_capabilities_1_3_0_are_valid_against_the_ogc_xsd(client, xsd, housing_over_deposit):
    """With data in every kind of layer, the 1.3.0 capabilities validate (WMS + SLD 1.1)."""
    response = wms(client, REQUEST="GetCapabilities", VERSION="1.3.0")
    assert response.status_code == 200
    document = assert_valid_xsd(xsd, response.content)
    assert document.find(f"{WMS}Capability/{WMS}Request/{SLD}GetLegendGraphic") is not None
    # The check is real: a layer without its Title is refused.
    title = document.find(f".//{WMS}Layer/{WMS}Layer/{WMS}Title")
    title.getparent().remove(title)
    assert not xsd.validate(document)


def test_capabilities_1_1_1_are_valid_against_the_dtd(client, housing_over_deposit):
    """The 1.1.1 capabilities name WMS_MS_Capabilities.dtd and are valid against it."""
    response = wms(client, REQUEST="GetCapabilities", VERSION="1.1.1")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.ogc.wms_xml")
    document = assert_valid_dtd(response.content, "WMT_MS_Capabilities")
    assert document.find("Capability/Request/GetLegendGraphic/Format").text == "image/png"
    # The corrected capabilities_1_1_1.dtd accepts it too.
    assert etree.DTD(str(SCHEMAS / "wms/1.1.1/capabilities_1_1_1.dtd")).validate(document)
    # The check is real: an element out of order is refused.
    service = document.find("Service")
    service.append(service.find("Name"))
    assert not dtd(document.getroottree().docinfo.system_url).validate(document)


BAD_GETMAP = {
    "REQUEST": "GetMap",
    "LAYERS": "nope",
    "STYLES": "",
    "BBOX": "0,0,1,1",
    "WIDTH": "10",
    "HEIGHT": "10",
    "FORMAT": "image/png",
}


def test_exceptions_1_3_0_are_valid_against_the_ogc_xsd(client, xsd):
    """A 1.3.0 ServiceExceptionReport validates; it keeps code and locator."""
    response = wms(client, VERSION="1.3.0", CRS="EPSG:25832", **BAD_GETMAP)
    assert response.status_code == 400
    document = assert_valid_xsd(xsd, response.content)
    exception = document[0]
    assert (exception.get("code"), exception.get("locator")) == ("LayerNotDefined", "LAYERS")


def test_exceptions_1_1_1_are_valid_against_the_dtd(client):
    """A 1.1.1 report names exception_1_1_1.dtd, is valid against it (no `locator`) and is
    application/vnd.ogc.se_xml."""
    for params in (
        {"VERSION": "1.1.1", "SRS": "EPSG:25832", **BAD_GETMAP},
        {"VERSION": "1.1.1", "REQUEST": "GetMap"},
        {"VERSION": "1.1.1", "REQUEST": "DescribeLayer"},
    ):
        response = wms(client, **params)
        assert response.status_code == 400
        assert response.headers["content-type"].startswith("application/vnd.ogc.se_xml")
        document = assert_valid_dtd(response.content, "ServiceExceptionReport")
        assert document[0].get("code") and document[0].get("locator") is None
    # The check is real: the report of before (with `locator`) is refused.
    old = b'<ServiceExceptionReport version="1.1.1"><ServiceException code="X" locator="Y"/>'
    old += b"</ServiceExceptionReport>"
    assert not dtd(EXCEPTION_1_1_1).validate(etree.fromstring(old))


# --- Formats and operations advertised --------------------------------------------------------


def test_capabilities_offer_jpeg_png8_and_getlegendgraphic_in_both_versions(client):
    """GetMap lists PNG, PNG8 and JPEG; GetLegendGraphic is an operation, sld: in 1.3.0."""
    formats = ["image/png", "image/png; mode=8bit", "image/jpeg"]
    caps = ElementTree.fromstring(wms(client, REQUEST="GetCapabilities", VERSION="1.3.0").content)
    request = caps.find(f"{WMS}Capability/{WMS}Request")
    assert [f.text for f in request.findall(f"{WMS}GetMap/{WMS}Format")] == formats
    assert request.find(f"{SLD}GetLegendGraphic/{WMS}Format").text == "image/png"
    caps = ElementTree.fromstring(wms(client, REQUEST="GetCapabilities", VERSION="1.1.1").content)
    assert [f.text for f in caps.findall("Capability/Request/GetMap/Format")] == formats
    assert caps.find("Capability/Request/GetLegendGraphic/Format").text == "image/png"


def getmap(image_format: str, transparent: str = "TRUE") -> dict[str, str]:
    return {
        "VERSION": "1.3.0",
        "REQUEST": "GetMap",
        "LAYERS": "mineral_deposits",
        "STYLES": "",
        "CRS": "EPSG:25832",
        "BBOX": ",".join(str(v) for v in MAP_BBOX),
        "WIDTH": "200",
        "HEIGHT": "200",
        "FORMAT": image_format,
        "TRANSPARENT": transparent,
    }


def over_white(rgb: tuple[int, int, int], opacity: float) -> tuple[float, ...]:
    return tuple(c * opacity + 255 * (1 - opacity) for c in rgb)


def test_getmap_in_jpeg_and_png8(client, deposit):
    """JPEG is drawn on BGCOLOR even when TRANSPARENT=TRUE; PNG8 is a palette PNG that keeps
    transparency; other formats are still refused."""
    response = wms(client, **getmap("image/jpeg"))
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "JPEG" and image.mode == "RGB" and image.size == (200, 200)
    pixels = np.asarray(image)
    # The deposit (55 % opaque) over white in the middle; white, not black, in the corner.
    assert tuple(pixels[100, 100]) == pytest.approx(over_white(REGIONAL_RGB, 0.55), abs=8)
    assert tuple(pixels[5, 5]) == pytest.approx((255, 255, 255), abs=3)

    for name in ("image/png; mode=8bit", "IMAGE/PNG;MODE=8BIT"):
        response = wms(client, **getmap(name))
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/png; mode=8bit"
        image = Image.open(io.BytesIO(response.content))
        assert image.format == "PNG" and image.mode == "P"
        rgba = np.asarray(image.convert("RGBA"))
        assert tuple(rgba[100, 100, :3]) == pytest.approx(REGIONAL_RGB, abs=8)
        assert rgba[5, 5, 3] == 0

    for name in ("image/gif", "image/png; mode=16bit", "image/jpeg2000"):
        response = wms(client, **getmap(name))
        assert response.status_code == 400 and b'code="InvalidFormat"' in response.content


# --- Extents ----------------------------------------------------------------------------------


def bounding_boxes(layer: ElementTree.Element, prefix: str, attribute: str) -> dict[str, tuple]:
    return {
        b.get(attribute): tuple(float(b.get(k)) for k in ("minx", "miny", "maxx", "maxy"))
        for b in layer.findall(f"{prefix}BoundingBox")
    }


def named_layers(root: ElementTree.Element, prefix: str) -> dict[str, ElementTree.Element]:
    return {
        layer.find(f"{prefix}Name").text: layer
        for layer in root.iter(f"{prefix}Layer")
        if layer.find(f"{prefix}Name") is not None
    }


def county_extent() -> tuple[float, float, float, float]:
    with get_sessionmaker()() as session:
        row = session.execute(
            text(
                "SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM (SELECT "
                "ST_Extent(geom) AS b FROM (SELECT geom FROM municipality UNION ALL "
                "SELECT geom FROM county) AS g) AS e"
            )
        ).one()
    return tuple(row)


def assert_covers(outer: tuple, inner: tuple) -> None:
    assert outer[0] <= inner[0] and outer[1] <= inner[1], (outer, inner)
    assert outer[2] >= inner[2] and outer[3] >= inner[3], (outer, inner)


def padded(bounds: tuple[float, ...]) -> tuple[float, ...]:
    """An extent widened by SYMBOL_REACH_M on every side, as capabilities give vector layers."""
    minx, miny, maxx, maxy = bounds
    reach = SYMBOL_REACH_M
    return (minx - reach, miny - reach, maxx + reach, maxy + reach)


def test_each_layer_has_its_extent_from_the_data_in_every_crs(client, housing_over_deposit):
    """1.3.0: EX_GeographicBoundingBox and one BoundingBox per CRS per layer, from the data;
    1.1.1: LatLonBoundingBox and BoundingBox. A layer without data gets the county's; the
    root covers the county (all of Hol) and every layer."""
    county = county_extent()
    assert county[0] < 420_000  # Hol: the old fixed box began at 420,000
    response = wms(client, REQUEST="GetCapabilities", VERSION="1.3.0")
    layers = named_layers(ElementTree.fromstring(response.content), WMS)
    deposits = layers["mineral_deposits"]
    boxes = bounding_boxes(deposits, WMS, "CRS")
    assert set(boxes) == {"EPSG:25832", "EPSG:25833", "EPSG:4326", "EPSG:3857"}
    # A vector layer's data, widened by how far its symbols reach (app.wms.service).
    extent = padded(DEPOSIT.bounds)
    assert boxes["EPSG:25832"] == extent
    west, south, east, north = TO_WGS84.transform_bounds(*extent)
    geo = deposits.find(f"{WMS}EX_GeographicBoundingBox")
    got = [float(geo.find(f"{WMS}{k}").text) for k in ("westBoundLongitude", "southBoundLatitude")]
    assert got == pytest.approx([west, south], abs=1e-6)
    # EPSG:4326 in 1.3.0: latitude first.
    assert boxes["EPSG:4326"] == pytest.approx((south, west, north, east), abs=1e-6)
    to_utm33 = Transformer.from_crs(25832, 25833, always_xy=True)
    assert_covers(boxes["EPSG:25833"], to_utm33.transform_bounds(*extent))

    proposals = bounding_boxes(layers["proposals"], WMS, "CRS")["EPSG:25832"]
    assert proposals == padded((540_200, 6_610_200, 540_800, 6_610_800))
    conflict = bounding_boxes(layers["findings_conflict"], WMS, "CRS")["EPSG:25832"]
    assert_covers(proposals, conflict)
    group = bounding_boxes(layers["findings"], WMS, "CRS")["EPSG:25832"]
    assert_covers(group, conflict)
    # Nothing loaded: the county's extent; the municipalities' too.
    for name in ("villrein_areas", "municipalities", "matrix_zones"):
        assert_covers(bounding_boxes(layers[name], WMS, "CRS")["EPSG:25832"], county)
    top = ElementTree.fromstring(response.content).find(f".//{WMS}Layer")
    root = bounding_boxes(top, WMS, "CRS")
    assert_covers(root["EPSG:25832"], county)
    assert root["EPSG:25832"][0] < 420_000

    response = wms(client, REQUEST="GetCapabilities", VERSION="1.1.1")
    layers = named_layers(ElementTree.fromstring(response.content), "")
    deposits = layers["mineral_deposits"]
    assert bounding_boxes(deposits, "", "SRS")["EPSG:25832"] == extent
    # EPSG:4326 in 1.1.1: longitude first.
    assert bounding_boxes(deposits, "", "SRS")["EPSG:4326"] == pytest.approx(
        (west, south, east, north), abs=1e-6
    )
    latlon = deposits.find("LatLonBoundingBox")
    assert float(latlon.get("minx")) == pytest.approx(west, abs=1e-6)


def test_the_proposals_extent_follows_a_new_version(client, housing_over_deposit):
    """Extents measured once per version are not kept for the version that replaced it."""

    def proposals_box() -> tuple:
        response = wms(client, REQUEST="GetCapabilities", VERSION="1.3.0")
        layer = named_layers(ElementTree.fromstring(response.content), WMS)["proposals"]
        return bounding_boxes(layer, WMS, "CRS")["EPSG:25832"]

    assert proposals_box() == padded((540_200, 6_610_200, 540_800, 6_610_800))
    moved = housing_area((545_000, 6_615_000, 546_000, 6_616_000))
    plan = {"kommunenummer": "3303", "planidentifikasjon": "STD1", "plantype": 20, "planstatus": 2}
    upload = client.post(
        "/api/v1/proposals", content=encode(collection(moved, plan=plan, crs=UTM32))
    )
    assert upload.status_code == 201 and upload.json()["version"] == 2
    assert proposals_box() == padded((545_000, 6_615_000, 546_000, 6_616_000))


def test_maps_draw_hol_west_of_the_old_fixed_extent(client):
    """A map lying wholly west of 420,000 (where the old extent began) draws Hol's boundary."""
    with get_sessionmaker()() as session:
        x, y = session.execute(
            text(
                "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(ST_Intersection(ST_Boundary"
                "(geom), ST_MakeEnvelope(0, 0, 419000, 7000000, 25832))) AS p FROM municipality "
                "WHERE ST_XMin(geom) < 419000 LIMIT 1) AS q"
            )
        ).one()
    bbox = (x - 1000, y - 1000, min(x + 1000, 419_999), y + 1000)
    params = {**getmap("image/png"), "LAYERS": "municipalities", "BBOX": ",".join(map(str, bbox))}
    response = wms(client, **params)
    assert response.status_code == 200
    alpha = np.asarray(Image.open(io.BytesIO(response.content)).convert("RGBA"))[:, :, 3]
    assert (alpha > 0).sum() > 50, "nothing drawn west of 420,000"


# --- GetFeatureInfo JSON with geometries --------------------------------------------------------


def info(client, layers: str, crs: str, bbox: tuple, version: str = "1.3.0", **extra):
    point = {"I": "100", "J": "100"} if version == "1.3.0" else {"X": "100", "Y": "100"}
    params = {
        "VERSION": version,
        "REQUEST": "GetFeatureInfo",
        "LAYERS": layers,
        "QUERY_LAYERS": layers,
        "STYLES": "",
        ("CRS" if version == "1.3.0" else "SRS"): crs,
        "BBOX": ",".join(str(v) for v in bbox),
        "WIDTH": "200",
        "HEIGHT": "200",
        "INFO_FORMAT": "application/json",
        **point,
        **extra,
    }
    response = wms(client, **params)
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


def test_getfeatureinfo_json_has_the_feature_geometry_in_the_request_crs(client, deposit):
    """The deposit comes back with its polygon: in EPSG:25832 as stored; in EPSG:4326 (1.3.0,
    BBOX latitude first) as longitude/latitude, as GeoJSON orders them and QGIS reads them."""
    answer = info(client, "mineral_deposits", "EPSG:25832", MAP_BBOX)
    assert answer["crs"]["properties"]["name"] == "urn:ogc:def:crs:EPSG::25832"
    (found,) = answer["features"]
    assert found["id"] is None and found["properties"]["name"] == "Testmoen"
    assert shape(found["geometry"]).symmetric_difference(DEPOSIT).area < 0.01

    west, south, east, north = TO_WGS84.transform_bounds(*MAP_BBOX)
    answer = info(client, "mineral_deposits", "EPSG:4326", (south, west, north, east))
    assert answer["crs"]["properties"]["name"] == "urn:ogc:def:crs:OGC:1.3:CRS84"
    geometry = shape(answer["features"][0]["geometry"])
    lon, lat = TO_WGS84.transform(*DEPOSIT.centroid.coords[0])
    assert geometry.centroid.x == pytest.approx(lon, abs=1e-5)
    assert geometry.centroid.y == pytest.approx(lat, abs=1e-5)
    # 1.1.1 EPSG:4326 (longitude first) gives the same.
    answer = info(client, "mineral_deposits", "EPSG:4326", (west, south, east, north), "1.1.1")
    assert shape(answer["features"][0]["geometry"]).centroid.x == pytest.approx(lon, abs=1e-5)


def test_getfeatureinfo_json_on_a_raster_gives_the_cell(client, tmp_path):
    """A raster answers with the cell under the click (10 m cells here), in the request CRS."""
    raster_dir = get_settings().raster_dir
    raster_dir.mkdir(parents=True, exist_ok=True)
    terrain = np.full((300, 300), 650.0, "float32")
    load_raster_layer("elevation", terrain, tmp_path, (539_000, 6_612_000), raster_dir=raster_dir)
    answer = info(client, "elevation", "EPSG:25832", MAP_BBOX)
    (cell,) = answer["features"]
    assert cell["properties"]["value"] == 650.0
    polygon = shape(cell["geometry"])
    assert polygon.area == pytest.approx(100.0) and polygon.contains(Point(540_502.5, 6_610_497.5))
    to_3857 = Transformer.from_crs(25832, 3857, always_xy=True)
    answer = info(client, "elevation", "EPSG:3857", to_3857.transform_bounds(*MAP_BBOX))
    assert answer["crs"]["properties"]["name"] == "urn:ogc:def:crs:EPSG::3857"
    centre = to_3857.transform(*shape(cell["geometry"]).centroid.coords[0])
    assert shape(answer["features"][0]["geometry"]).distance(Point(centre)) < 40


# --- GetFeatureInfo on every queryable layer --------------------------------------------------


def queryable(client) -> list[str]:
    root = ElementTree.fromstring(wms(client, REQUEST="GetCapabilities", VERSION="1.3.0").content)
    return [
        layer.find(f"{WMS}Name").text
        for layer in root.iter(f"{WMS}Layer")
        if layer.get("queryable") == "1" and layer.find(f"{WMS}Name") is not None
    ]


def a_point_on(layer_sql: str) -> tuple[float, float] | None:
    """A point on some feature of a vector layer (its WMS SQL), None if it has none."""
    with get_sessionmaker()() as session:
        row = session.execute(
            text(
                "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p "
                f"FROM {layer_sql} WHERE NOT ST_IsEmpty(geom) LIMIT 1) AS q"
            )
        ).first()
    return None if row is None else (row[0], row[1])


@pytest.fixture
def demo_with_checked_plans(client, tmp_path) -> None:
    """The demo layers (every layer, rasters too) and two published, checked sample plans."""
    with get_sessionmaker()() as session:
        load_demo_data(session, tmp_path / "build", raster_dir=get_settings().raster_dir)
    samples = Path(__file__).parent.parent / "samples"
    for name, plan_id in (
        ("kongsberg-kpa-boliger.geojson", "3303_KPA2026-BOLIG"),
        ("hemsedal-kpa-demo.geojson", "3326_DEMO2026"),
    ):
        upload = client.post("/api/v1/proposals", content=(samples / name).read_bytes())
        assert upload.status_code == 201, upload.text
        assert client.post(f"/api/v1/proposals/{plan_id}/publish").status_code == 200
        assert client.post(upload.json()["links"][0]["href"] + "/checks").status_code == 201


def test_getfeatureinfo_answers_with_geometry_on_every_queryable_layer(
    client, demo_with_checked_plans
):
    """On a point of one of its features, every queryable layer of the capabilities (vector,
    raster, the G5 matrix, proposals, findings) answers GetFeatureInfo with that feature
    and its geometry, in 1.3.0 (EPSG:25832) and 1.1.1 (EPSG:4326); none is a 500."""
    settings = get_settings()
    with get_sessionmaker()() as session:
        catalog = wms_layers(session, settings, get_rule_set(settings))
    names = queryable(client)
    assert {"matrix_zones", "proposals", "elevation", "above_tree_line"} <= set(names)
    kongsberg = a_point_on("(SELECT geom FROM municipality WHERE kommunenummer = '3303') AS m")
    answered = []
    for name in names:
        layer = catalog.get(name)
        if layer is None:  # the findings group: a point on any finding
            point = a_point_on("(SELECT geom FROM check_finding WHERE geom IS NOT NULL) AS f")
        elif layer.kind == "raster":
            point = kongsberg
        else:
            point = a_point_on(layer.sql)
        if point is None:
            assert name.startswith("findings_"), f"{name} has no data to query"
            continue
        x, y = point
        bbox = (x - 1000, y - 1000, x + 1000, y + 1000)
        features = info(client, name, "EPSG:25832", bbox, FEATURE_COUNT="50")["features"]
        assert features, name
        # Within three pixels (30 m) of the click, as GetFeatureInfo searches.
        nearest = min(shape(f["geometry"]).distance(Point(x, y)) for f in features)
        assert nearest <= 30 + 1e-6, (name, nearest)
        lon_lat = TO_WGS84.transform_bounds(*bbox)
        features = info(client, name, "EPSG:4326", lon_lat, "1.1.1")["features"]
        assert features and all(f["geometry"] for f in features), name
        lon, lat = TO_WGS84.transform(x, y)
        assert shape(features[0]["geometry"]).distance(Point(lon, lat)) < 0.01, name
        answered.append(name)
    findings = [n for n in answered if n.startswith("findings")]
    assert len(answered) - len(findings) == len([n for n in names if not n.startswith("findings")])
    assert "findings" in findings and len(findings) >= 3, findings
