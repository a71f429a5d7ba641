"""OGC API – Features at /ogcapi, read with OWSLib over real HTTP and checked for problems."""

import numpy as np
import pytest
import requests
from owslib.ogcapi.features import Features
from pyproj import Transformer
from shapely.geometry import LineString, Point, box

from tests.plans import collection, encode, feature
from tests.rule_fixtures import load_vector_layer

X0, Y0 = 470_000.0, 6_750_000.0  # Hemsedal, EPSG:25832
UTM32 = {"type": "name", "properties": {"name": "EPSG:25832"}}
EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
TO_CRS84 = Transformer.from_crs(25832, "OGC:CRS84", always_xy=True)


def deposits(count: int, importance: str = "regional") -> list[dict]:
    """`count` 100 m squares 1 km apart eastwards from (X0, Y0)."""
    return [
        {
            "geometry": box(X0 + i * 1000, Y0, X0 + i * 1000 + 100, Y0 + 100),
            "importance": importance,
        }
        for i in range(count)
    ]


def crs84_box(minx: float, miny: float, maxx: float, maxy: float) -> list[float]:
    """A CRS84 bbox enclosing an EPSG:25832 rectangle."""
    return list(TO_CRS84.transform_bounds(minx, miny, maxx, maxy))


@pytest.fixture
def api(live_server) -> Features:
    return Features(f"{live_server}/ogcapi")


def test_landing_page_and_conformance(api, live_server):
    """The landing page links to the API definition, conformance and collections."""
    links = {link["rel"]: link["href"] for link in api.links}
    assert links["self"] == f"{live_server}/ogcapi"
    assert links["service-desc"] == f"{live_server}/ogcapi/api"
    assert links["conformance"] == f"{live_server}/ogcapi/conformance"
    assert links["data"] == f"{live_server}/ogcapi/collections"
    conforms = api.conformance()["conformsTo"]
    for name in ("core", "geojson"):
        assert f"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/{name}" in conforms
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in conforms
    assert requests.get(f"{live_server}/ogcapi/conformance?f=json").status_code == 200


def test_collections_are_the_vector_layers_and_our_data(api, tmp_path):
    """Every vector layer is a collection; loaded ones carry extent, licence and CRS list."""
    load_vector_layer("mineral_deposits", deposits(3), tmp_path, licence="NLOD 2.0")
    hubs = [
        {"geometry": Point(X0, Y0), "name": "Hemsedal"},
        {"geometry": Point(X0 + 500, Y0 + 800), "name": "Tuv"},
    ]
    load_vector_layer("transport_hubs", hubs, tmp_path)

    ids = api.feature_collections()
    assert {"mineral_deposits", "transport_hubs", "villrein_areas"} <= set(ids)
    assert {"municipalities", "proposals", "findings"} <= set(ids)
    assert "tree_line" not in ids and "elevation" not in ids  # rasters are not features

    minerals = api.collection("mineral_deposits")
    assert minerals["title"].startswith("Mineralressurser")
    assert minerals["itemType"] == "feature"
    assert minerals["license"] == "NLOD 2.0"
    assert minerals["crs"] == [CRS84] + [f"{EPSG}{code}" for code in (4326, 25832, 25833, 3857)]
    assert minerals["storageCrs"] == f"{EPSG}25832"
    assert minerals["extent"]["spatial"]["crs"] == CRS84
    expected = crs84_box(X0, Y0, X0 + 2100, Y0 + 100)
    assert minerals["extent"]["spatial"]["bbox"][0] == pytest.approx(expected, abs=1e-5)
    rels = {link["rel"]: link for link in minerals["links"]}
    assert rels["items"]["type"] == "application/geo+json"
    assert rels["items"]["href"].endswith("/ogcapi/collections/mineral_deposits/items")

    hub_box = api.collection("transport_hubs")["extent"]["spatial"]["bbox"][0]
    assert hub_box == pytest.approx(crs84_box(X0, Y0, X0 + 500, Y0 + 800), abs=1e-5)
    assert "extent" not in api.collection("villrein_areas")  # never loaded
    assert api.collection_items("villrein_areas")["numberMatched"] == 0
    municipalities = api.collection("municipalities")
    assert municipalities["attribution"] == "© Kartverket"
    assert 7 < municipalities["extent"]["spatial"]["bbox"][0][0] < 9


def test_items_with_bbox_limit_and_paging(api, tmp_path):
    """bbox (CRS84) selects features; limit pages them; next/prev links walk the pages."""
    load_vector_layer("mineral_deposits", deposits(5), tmp_path)
    area = crs84_box(X0 - 50, Y0 - 50, X0 + 2150, Y0 + 150)  # the first three squares

    page = api.collection_items("mineral_deposits", bbox=area, limit=2)
    assert page["type"] == "FeatureCollection"
    assert (page["numberMatched"], page["numberReturned"]) == (3, 2)
    assert page["timeStamp"].endswith("Z")
    assert api.response_headers["Content-Type"] == "application/geo+json"
    assert api.response_headers["Content-Crs"] == f"<{CRS84}>"
    first = page["features"][0]
    assert first["properties"]["importance"] == "regional"
    assert first["geometry"]["type"] == "MultiPolygon"  # one type per collection
    lon, lat = first["geometry"]["coordinates"][0][0][0]
    assert 8 < lon < 9 and 60 < lat < 61  # CRS84: longitude first
    links = {link["rel"]: link["href"] for link in page["links"]}
    assert "prev" not in links

    second = requests.get(links["next"], timeout=10).json()
    assert second["numberReturned"] == 1
    assert {link["rel"] for link in second["links"]} >= {"self", "prev", "collection"}
    assert "next" not in {link["rel"] for link in second["links"]}
    ids = [f["id"] for f in page["features"] + second["features"]]
    assert len(set(ids)) == 3

    by_offset = api.collection_items("mineral_deposits", bbox=area, limit=2, offset=2)
    assert [f["id"] for f in by_offset["features"]] == ids[2:]
    everything = api.collection_items("mineral_deposits", limit=100_000)  # capped, not refused
    assert everything["numberReturned"] == 5


def test_items_in_other_crss(api, tmp_path):
    """crs gives projected or latitude-first coordinates; bbox-crs reads bbox in that CRS."""
    load_vector_layer("mineral_deposits", deposits(2), tmp_path)

    utm = api.collection_items("mineral_deposits", crs=f"{EPSG}25832", limit=1)
    assert api.response_headers["Content-Crs"] == f"<{EPSG}25832>"
    ring = np.array(utm["features"][0]["geometry"]["coordinates"][0][0])
    assert ring[:, 0].min() == pytest.approx(X0) and ring[:, 1].max() == pytest.approx(Y0 + 100)
    assert "crs" not in utm  # Part 2 names the CRS in the header only

    in_utm = api.collection_items(
        "mineral_deposits", bbox=[X0 + 900, Y0, X0 + 1200, Y0 + 50], **{"bbox-crs": f"{EPSG}25832"}
    )
    assert in_utm["numberMatched"] == 1

    lat_first = api.collection_items("mineral_deposits", crs=f"{EPSG}4326", limit=1)
    assert api.response_headers["Content-Crs"] == f"<{EPSG}4326>"
    lat, lon = lat_first["features"][0]["geometry"]["coordinates"][0][0][0]
    assert 60 < lat < 61 and 8 < lon < 9
    minlon, minlat, maxlon, maxlat = crs84_box(X0 + 900, Y0, X0 + 1200, Y0 + 50)
    by_lat_lon = api.collection_items(
        "mineral_deposits",
        bbox=[minlat, minlon, maxlat, maxlon],
        **{"bbox-crs": "EPSG:4326"},
    )
    assert by_lat_lon["numberMatched"] == 1

    mercator = api.collection_items("mineral_deposits", crs=f"{EPSG}3857", limit=1)
    x, y = mercator["features"][0]["geometry"]["coordinates"][0][0][0]
    assert 900_000 < x < 1_000_000 and 8_000_000 < y < 9_000_000


def test_one_item_of_the_current_layer_version(api, client, tmp_path):
    """An item is read by id; features of a superseded layer version are gone from the API."""
    load_vector_layer("mineral_deposits", deposits(1, "nasjonal"), tmp_path)
    old_id = api.collection_items("mineral_deposits")["features"][0]["id"]
    load_vector_layer("mineral_deposits", deposits(2, "lokal"), tmp_path)

    items = api.collection_items("mineral_deposits")
    assert [f["properties"]["importance"] for f in items["features"]] == ["lokal", "lokal"]
    new_id = items["features"][0]["id"]
    item = api.collection_item("mineral_deposits", str(new_id))
    assert item["type"] == "Feature" and item["id"] == new_id
    assert item["properties"]["importance"] == "lokal"
    assert {link["rel"] for link in item["links"]} == {"self", "alternate", "collection"}
    response = client.get(f"/ogcapi/collections/mineral_deposits/items/{old_id}")
    assert response.status_code == 404

    utm = client.get(f"/ogcapi/collections/mineral_deposits/items/{new_id}?crs=EPSG:25833")
    assert utm.headers["content-crs"] == f"<{EPSG}25833>"
    hemsedal = api.collection_item("municipalities", "3326")
    assert hemsedal["properties"]["name"] == "Hemsedal"


def cabin(x: float, fid: str) -> dict:
    geometry = box(x, Y0, x + 200, Y0 + 100).__geo_interface__
    return feature(geometry, fid, arealformal=1120, arealbruksstatus=2, feltnavn=fid)


def upload(client, *features) -> str:
    """Upload and publish a proposal (GIS clients see published proposals only)."""
    response = client.post("/api/v1/proposals", content=encode(collection(*features, crs=UTM32)))
    assert response.status_code == 201, response.text
    published = client.post(f"/api/v1/proposals/{response.json()['proposal_id']}/publish")
    assert published.status_code == 200, published.text
    return response.json()["links"][0]["href"]


def test_proposals_and_findings_show_the_latest_versions_and_checks(api, client, tmp_path):
    """Proposals: areas of each latest version; findings: of its latest finished check."""
    deposit = {"geometry": box(X0 + 50, Y0, X0 + 150, Y0 + 100), "importance": "regional"}
    load_vector_layer("mineral_deposits", [deposit], tmp_path)  # under the cabin area BFR1

    first = upload(client, cabin(X0, "BFR1"))
    assert client.post(f"{first}/checks").status_code == 201
    findings = api.collection_items("findings")
    g3 = [f for f in findings["features"] if f["properties"]["rule_id"] == "G3"]
    assert "conflict" in {f["properties"]["severity"] for f in g3}  # area over the deposit
    assert g3[0]["properties"]["proposal_id"] == "3326_2024001"
    assert g3[0]["properties"]["paragraph"].startswith("Buskerudplanen 2026 §6.2.5")
    assert {f["geometry"]["type"] for f in g3} == {"MultiPolygon"}

    second = upload(client, cabin(X0, "BFR1"), cabin(X0 + 300, "BFR2"))
    areas = api.collection_items("proposals")
    assert {f["properties"]["version"] for f in areas["features"]} == {2}
    assert sorted(f["properties"]["feltnavn"] for f in areas["features"]) == ["BFR1", "BFR2"]
    assert areas["features"][0]["properties"]["kind"] == "arealformal"
    assert areas["features"][0]["properties"]["arealformal"] == 1120
    assert api.collection_items("findings")["numberMatched"] == 0  # v2 not checked yet

    client.post(f"{second}/checks")
    latest = client.post(f"{second}/checks").json()
    findings = api.collection_items("findings", crs=f"{EPSG}25832")
    assert findings["numberMatched"] >= 1
    assert {f["properties"]["check_id"] for f in findings["features"]} == {latest["id"]}
    one = findings["features"][0]
    assert api.collection_item("findings", str(one["id"]))["properties"] == one["properties"]
    assert api.collection("proposals")["extent"]["spatial"]["bbox"][0] == pytest.approx(
        crs84_box(X0, Y0, X0 + 500, Y0 + 100), abs=1e-5
    )


def test_findings_along_lines_are_a_collection_of_their_own(api, client, tmp_path):
    """A corridor crossed (a line) and an area over a deposit: each collection has one
    geometry type, and neither finding is lost."""
    corridor = LineString([(X0 - 50, Y0 - 50), (X0 + 250, Y0 + 250)])
    load_vector_layer(
        "villrein_corridors",
        [{"geometry": corridor, "name": "Trekket", "villrein_area": "Nordfjella"}],
        tmp_path,
    )
    deposit = {"geometry": box(X0 + 50, Y0, X0 + 150, Y0 + 100), "importance": "regional"}
    load_vector_layer("mineral_deposits", [deposit], tmp_path)
    assert client.post(f"{upload(client, cabin(X0, 'BFR1'))}/checks").status_code == 201

    lines = api.collection_items("finding_lines", crs=f"{EPSG}25832")
    assert lines["numberMatched"] == 1
    line = lines["features"][0]
    assert line["geometry"]["type"] == "MultiLineString"
    assert line["properties"]["rule_id"] == "G2"
    length = sum(LineString(part).length for part in line["geometry"]["coordinates"])
    assert length == pytest.approx(100 * 2**0.5, abs=0.1)  # the corridor's part inside
    areas = api.collection_items("findings")["features"]
    assert areas and {f["geometry"]["type"] for f in areas} == {"MultiPolygon"}
    assert "G3" in {f["properties"]["rule_id"] for f in areas}
    queryables = client.get("/ogcapi/collections/finding_lines/queryables").json()
    assert queryables["properties"]["geometry"]["format"] == "geometry-multilinestring"


@pytest.mark.parametrize(
    ("url", "status", "mentions"),
    [
        ("/ogcapi/collections/nowhere", 404, "nowhere"),
        ("/ogcapi/collections/tree_line/items", 404, "tree_line"),  # a raster layer
        ("/ogcapi/collections/mineral_deposits/items/999999", 404, "999999"),
        ("/ogcapi/collections/mineral_deposits/items/abc", 404, "abc"),
        ("/ogcapi/collections/municipalities/items/9999", 404, "9999"),
        ("/ogcapi/collections/mineral_deposits/items?bbox=1,2,3", 400, "bbox"),
        ("/ogcapi/collections/mineral_deposits/items?bbox=9,61,8,60", 400, "bbox"),
        ("/ogcapi/collections/mineral_deposits/items?limit=0", 400, "limit"),
        ("/ogcapi/collections/mineral_deposits/items?limit=ten", 400, "limit"),
        ("/ogcapi/collections/mineral_deposits/items?offset=-1", 400, "offset"),
        ("/ogcapi/collections/mineral_deposits/items?crs=EPSG:4258", 400, "EPSG:4258"),
        ("/ogcapi/collections/mineral_deposits/items?crs=nonsense", 400, "nonsense"),
        ("/ogcapi/collections/mineral_deposits/items?bbox=1,2,3,4&bbox-crs=EPSG:5973", 400, "5973"),
        ("/ogcapi/collections/mineral_deposits/items?color=red", 400, "color"),
        ("/ogcapi/collections?f=xml", 400, "xml"),
        ("/ogcapi/collections/mineral_deposits/items?datetime=garbage", 400, "datetime"),
        ("/ogcapi/collections/mineral_deposits/items?datetime=2026-13-01", 400, "datetime"),
        ("/ogcapi/collections/villrein_areas/queryables?f=xml", 400, "xml"),
        ("/ogcapi/collections/nowhere/queryables", 404, "nowhere"),
        ("/ogcapi/collections/nowhere/schema", 404, "nowhere"),
    ],
)
def test_problems(client, url, status, mentions):
    """Unknown collections and items are 404, bad parameters 400, as problem details."""
    response = client.get(url)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert mentions in body["detail"]
