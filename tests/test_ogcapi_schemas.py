"""Every OGC API JSON answer against the official OGC API – Features schemas, validated offline.

The schemas are vendored in tests/data/ogcapi-features/ (see SOURCE.md there); `$ref`s between
them are read from that folder, never fetched. Queryables, sortables and schemas are JSON
Schema documents: they are checked against the JSON Schema 2020-12 meta-schema and the
requirements of Part 3 (/req/queryables) and Part 5 (/req/schemas). The /ogcapi/api document
is checked against the OpenAPI 3.0 schema, and real items against the schemas it gives.
"""

import copy
import json
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import requests
import yaml
from owslib.ogcapi.features import Features
from shapely.geometry import Point, box

from tests.plans import collection, encode, feature
from tests.rule_fixtures import load_vector_layer

DATA = Path(__file__).parent / "data" / "ogcapi-features"
# A base URI for the vendored files; the retriever maps it onto DATA (nothing is fetched).
BASE = "https://ogcapi-features.invalid/"
X0, Y0 = 470_000.0, 6_750_000.0  # Hemsedal, EPSG:25832
UTM32 = {"type": "name", "properties": {"name": "EPSG:25832"}}
GEOMETRY_FORMATS = {
    "geometry-point",
    "geometry-multipoint",
    "geometry-linestring",
    "geometry-multilinestring",
    "geometry-polygon",
    "geometry-multipolygon",
    "geometry-geometrycollection",
    "geometry-any",
    "geometry-point-or-multipoint",
    "geometry-linestring-or-multilinestring",
    "geometry-polygon-or-multipolygon",
}


def _null_types(node: Any) -> Any:
    """The OGC YAML writes the JSON Schema type "null" as a bare `null`, which YAML reads as
    None (featureGeoJSON.yaml, extent.yaml); give it back its meaning."""
    if isinstance(node, list):
        return [_null_types(item) for item in node]
    if not isinstance(node, dict):
        return node
    fixed = {}
    for key, value in node.items():
        if key == "type" and value is None:
            value = "null"
        elif key == "type" and isinstance(value, list):
            value = ["null" if item is None else item for item in value]
        fixed[key] = _null_types(value)
    return fixed


def _retrieve(uri: str) -> Any:
    assert uri.startswith(BASE), f"the schemas refer to {uri}, which is not vendored"
    return _null_types(yaml.safe_load((DATA / uri.removeprefix(BASE)).read_text("utf-8")))


@cache
def official(*names: str) -> Any:
    """A validator for an instance meeting all the named vendored schemas."""
    schema = {"allOf": [{"$ref": name} for name in names]}
    return jsonschema_rs.validator_for(
        schema, base_uri=BASE, retriever=_retrieve, validate_formats=True
    )


def check(instance: Any, *names: str) -> None:
    """Fail with every error if the instance does not meet the schemas."""
    errors = [f"{e.instance_path}: {e.message}" for e in official(*names).iter_errors(instance)]
    assert errors == [], (names, errors)


def check_json_schema(schema: dict[str, Any], href: str) -> None:
    """A valid JSON Schema 2020-12 document of an object, as Part 3 and Part 5 require."""
    jsonschema_rs.meta.validate(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == href.split("?")[0]
    assert schema["type"] == "object"
    for name, prop in schema["properties"].items():
        if prop.get("format", "").startswith("geometry-"):
            assert "type" not in prop and "$ref" not in prop, name  # /req/queryables D
            assert prop["format"] in GEOMETRY_FORMATS, name  # E
        else:
            assert "type" in prop, name  # C


@pytest.fixture
def loaded(tmp_path, client) -> None:
    """A polygon layer, a point layer, a published and checked proposal."""
    deposit = {"geometry": box(X0 + 50, Y0, X0 + 150, Y0 + 100), "importance": "regional"}
    load_vector_layer("mineral_deposits", [deposit], tmp_path)
    hub = {"geometry": Point(X0, Y0), "name": "Hemsedal skysstasjon"}
    load_vector_layer("transport_hubs", [hub], tmp_path)
    area = box(X0, Y0, X0 + 200, Y0 + 100).__geo_interface__
    cabins = feature(area, "BFR1", arealformal=1120, arealbruksstatus=2, feltnavn="BFR1")
    response = client.post("/api/v1/proposals", content=encode(collection(cabins, crs=UTM32)))
    assert response.status_code == 201, response.text
    proposal = response.json()["proposal_id"]
    assert client.post(f"/api/v1/proposals/{proposal}/publish").status_code == 200
    assert client.post(f"{response.json()['links'][0]['href']}/checks").status_code == 201


def get_json(client, url: str, media_type: str = "application/json", **params) -> Any:
    response = client.get(url, params=params)
    assert response.status_code == 200, (url, response.text)
    assert response.headers["content-type"] == media_type
    return response.json()


def test_landing_conformance_and_collections(client, loaded):
    """The landing page, conformance and every collection meet the official schemas."""
    check(get_json(client, "/ogcapi"), "core/landingPage.yaml")
    check(get_json(client, "/ogcapi/conformance"), "core/confClasses.yaml")
    collections = get_json(client, "/ogcapi/collections")
    check(collections, "core/collections.yaml", "crs/collectionsExtensionCrs.yaml")
    assert len(collections["collections"]) >= 10
    for item in collections["collections"]:
        check(item, "core/collection.yaml", "crs/collectionExtensionCrs.yaml")
        one = get_json(client, f"/ogcapi/collections/{item['id']}")
        check(one, "core/collection.yaml", "crs/collectionExtensionCrs.yaml")
        rels = {link["rel"] for link in one["links"]}
        assert {
            "http://www.opengis.net/def/rel/ogc/1.0/queryables",
            "http://www.opengis.net/def/rel/ogc/1.0/schema",
            "items",
            "alternate",
        } <= rels


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"limit": 1},
        {"crs": "http://www.opengis.net/def/crs/EPSG/0/25833"},
        {"filter": "S_INTERSECTS(geometry, BBOX(8, 60, 10, 61))", "sortby": "-id"},
    ],
)
def test_items_and_items_of_every_collection(client, loaded, params):
    """Each collection's items (empty or not, filtered, sorted, selected) and one item each."""
    ids = [c["id"] for c in get_json(client, "/ogcapi/collections")["collections"]]
    seen = 0
    for collection_id in ids:
        url = f"/ogcapi/collections/{collection_id}/items"
        query = dict(params)
        if query.get("sortby") == "-id":
            schema = get_json(
                client, f"/ogcapi/collections/{collection_id}/sortables", "application/schema+json"
            )
            query["sortby"] = "-" + next(iter(schema["properties"]))
        page = get_json(client, url, "application/geo+json", **query)
        check(page, "core/featureCollectionGeoJSON.yaml")
        types = {f["geometry"]["type"] for f in page["features"] if f["geometry"]}
        assert len(types) <= 1 and all(t.startswith("Multi") for t in types), collection_id
        for item in page["features"][:1]:
            one = get_json(client, f"{url}/{item['id']}", "application/geo+json")
            check(one, "core/featureGeoJSON.yaml")
            seen += 1
    assert seen >= 4  # the layers, municipalities, proposals and findings loaded above


def test_queryables_sortables_and_schema_of_every_collection(client, loaded):
    """Each collection's queryables, sortables and schema are JSON Schema as Parts 3 and 5 say."""
    for item in get_json(client, "/ogcapi/collections")["collections"]:
        base = f"/ogcapi/collections/{item['id']}"
        for part in ("queryables", "sortables", "schema", "geojson-schema"):
            response = client.get(f"{base}/{part}")
            assert response.headers["content-type"] == "application/schema+json"
            check_json_schema(response.json(), str(response.url))
        schema = client.get(f"{base}/schema").json()
        roles = [p.get("x-ogc-role") for p in schema["properties"].values()]
        assert roles.count("id") == 1 and roles.count("primary-geometry") == 1
        queryables = client.get(f"{base}/queryables").json()
        assert queryables["additionalProperties"] is False  # unknown names are a 400
        # The features carry exactly the properties the schema lists, of its types.
        page = client.get(f"{base}/items", params={"limit": 5}).json()
        validator = jsonschema_rs.validator_for(schema)
        for one in page["features"]:
            values = {k: v for k, v in one["properties"].items() if v is not None}
            assert set(values) <= set(schema["properties"]), item["id"]
            assert validator.is_valid({"id": one["id"], **values}), (item["id"], values)


def test_empty_collections_have_fields(client):
    """A layer never loaded still lists its fields and geometry type (QGIS builds its layer
    from them)."""
    assert client.get("/ogcapi/collections/villrein_areas/items").json()["numberMatched"] == 0
    queryables = client.get("/ogcapi/collections/villrein_areas/queryables").json()
    assert queryables["properties"]["geometry"]["format"] == "geometry-multipolygon"
    assert queryables["properties"]["category"] == {
        "title": "kind of area (from the source layer, --set category=...)",
        "type": "string",
        "enum": ["leveområde", "funksjonsområde"],
    }
    assert {"name", "function", "source_fid"} <= queryables["properties"].keys()
    schema = client.get("/ogcapi/collections/villrein_areas/schema").json()
    assert schema["properties"]["id"] == {"title": "id", "type": "integer", "x-ogc-role": "id"}
    hubs = client.get("/ogcapi/collections/transport_hubs/schema").json()
    assert hubs["properties"]["geometry"]["format"] == "geometry-multipoint"
    findings = client.get("/ogcapi/collections/findings/queryables").json()
    assert findings["properties"]["severity"]["enum"] == [
        "conflict",
        "warning",
        "unknown",
        "info",
        "ok",
    ]
    municipalities = client.get("/ogcapi/collections/municipalities/schema").json()
    assert municipalities["properties"]["id"]["type"] == "string"  # kommunenummer


def test_problems_meet_the_exception_schema(client):
    """Problem details (RFC 7807/9457) meet exception.yaml."""
    for url in (
        "/ogcapi/collections/nowhere",
        "/ogcapi/collections/mineral_deposits/items?filter=nope%20%3D%201",
        "/ogcapi/collections/mineral_deposits/items?sortby=nope",
    ):
        response = client.get(url)
        assert response.status_code in (400, 404)
        check(response.json(), "core/exception.yaml")


def _json_schema(node: Any) -> Any:
    """An OpenAPI 3.0 schema as JSON Schema: `nullable: true` becomes a "null" type."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _json_schema(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable") and "type" in node:
        converted["type"] = [node["type"], "null"]
    if node.get("nullable") and "enum" in node:
        converted["enum"] = [*node["enum"], None]
    return converted


def test_the_openapi_document_describes_each_collections_items(client, loaded):
    """service-desc is an OpenAPI 3.0 document whose items schemas fit the real items."""
    landing = get_json(client, "/ogcapi")
    desc = next(link for link in landing["links"] if link["rel"] == "service-desc")
    assert desc["type"] == "application/vnd.oai.openapi+json;version=3.0"
    response = client.get(desc["href"])
    assert response.headers["content-type"] == desc["type"]
    document = response.json()
    oas30 = yaml.safe_load((DATA / "oas30" / "schema.yaml").read_text("utf-8"))
    errors = [
        f"{e.instance_path}: {e.message}"
        for e in jsonschema_rs.validator_for(oas30).iter_errors(document)
    ]
    assert errors == []

    components = _json_schema(document["components"])
    ids = [c["id"] for c in get_json(client, "/ogcapi/collections")["collections"]]
    checked = 0
    for collection_id in ids:
        operation = document["paths"][f"/collections/{collection_id}/items"]["get"]
        ref = operation["responses"]["200"]["content"]["application/geo+json"]["schema"]["$ref"]
        feature_schema = components["schemas"][f"{collection_id}.Feature"]
        assert feature_schema != {"type": "object"}
        schema = {"$ref": ref, "components": components}
        validator = jsonschema_rs.Draft4Validator(schema)
        page = client.get(f"/ogcapi/collections/{collection_id}/items", params={"limit": 20})
        assert validator.is_valid(page.json()), list(validator.iter_errors(page.json()))[:3]
        # ... and a feature with a wrong property type does not.
        if page.json()["features"]:
            wrong = copy.deepcopy(page.json())
            first = wrong["features"][0]
            name, prop = next(
                iter(feature_schema["properties"]["properties"]["properties"].items())
            )
            first["properties"][name] = [] if "string" in prop["type"] else "x"
            assert not validator.is_valid(wrong), collection_id
            checked += 1
    assert checked >= 4
    mineral = components["schemas"]["mineral_deposits.Feature"]["properties"]
    assert mineral["geometry"]["properties"]["type"]["enum"] == ["MultiPolygon"]
    assert "importance" in mineral["properties"]["properties"]


def test_items_json_is_unchanged_for_existing_clients(live_server, tmp_path):
    """OWSLib and plain requests read items as before issue 21: the same members, properties
    and links (the geometry is now always Multi*)."""
    deposit = {"geometry": box(X0, Y0, X0 + 100, Y0 + 100), "importance": "nasjonal", "name": "Nes"}
    load_vector_layer("mineral_deposits", [deposit, {**deposit, "name": "Ås"}], tmp_path)
    api = Features(f"{live_server}/ogcapi")
    page = api.collection_items("mineral_deposits", limit=1)
    assert set(page) == {
        "type",
        "numberMatched",
        "numberReturned",
        "timeStamp",
        "links",
        "features",
    }
    assert (page["numberMatched"], page["numberReturned"]) == (2, 1)
    first = page["features"][0]
    assert set(first) == {"type", "id", "geometry", "properties"}
    # The layer's attributes as loaded (absent ones are left out), then source_fid.
    assert first["properties"] == {"name": "Nes", "importance": "nasjonal", "source_fid": None}
    links = page["links"]
    assert links[0]["rel"] == "self" and links[0]["type"] == "application/geo+json"
    assert {"self", "collection", "next"} <= {link["rel"] for link in links}
    plain = requests.get(
        f"{live_server}/ogcapi/collections/mineral_deposits/items",
        params={"limit": 1},
        headers={"Accept": "application/geo+json"},
        timeout=10,
    )
    assert plain.headers["content-type"] == "application/geo+json"
    assert plain.json()["features"] == page["features"]
    default = requests.get(f"{live_server}/ogcapi/collections", timeout=10)
    assert default.headers["content-type"] == "application/json"  # requests sends */*
    assert json.loads(default.text)["collections"]


@pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="needs gdal-bin (ogrinfo)")
def test_gdal_reads_the_fields_of_empty_and_loaded_collections(live_server, tmp_path):
    """GDAL's OAPIF driver (3.6) takes the fields from the describedBy schema: an empty
    collection has them, typed, and a loaded one has one geometry type."""
    empty = subprocess.run(
        ["ogrinfo", "-ro", "-so", f"OAPIF:{live_server}/ogcapi", "tettsteder"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert "Feature Count: 0" in empty
    for field in ("name: String", "tettsted_id: String", "population: Integer"):
        assert field in empty, empty
    deposit = {"geometry": box(X0, Y0, X0 + 100, Y0 + 100), "importance": "lokal"}
    load_vector_layer("mineral_deposits", [deposit], tmp_path)
    loaded = subprocess.run(
        ["ogrinfo", "-ro", "-so", f"OAPIF:{live_server}/ogcapi", "mineral_deposits"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert "Geometry: Multi Polygon" in loaded and "importance: String" in loaded, loaded
