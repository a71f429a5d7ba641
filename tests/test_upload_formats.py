"""Uploading plans in every format over HTTP (raw body and multipart), and safe refusals."""

import pytest

from tests.conftest import row_counts
from tests.unit.test_plan_formats import (
    SOSI_FILE,
    geopackage,
    gml_bytes,
    plan_frames,
    shapefile_files,
    zip_bytes,
)

EMPTY = {"plan_proposal": 0, "proposal_version": 0, "plan_feature": 0}


def test_plan_gml_raw_body(client):
    """A Plan-GML 5.0 reguleringsplanforslag becomes proposal 3326_2026007 (arcs linearised)."""
    response = client.post(
        "/api/v1/proposals",
        content=gml_bytes(),
        params={"filename": "planforslag.gml"},
        headers={"content-type": "application/gml+xml"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["proposal_id"] == "3326_2026007"
    assert body["source_format"] == "gml"
    assert body["source_filename"] == "planforslag.gml"
    assert body["area_counts"] == {"planomrade": 1, "arealformal": 2, "hensynssone": 1}


def test_sosi_multipart_upload(client):
    """A SOSI 4.5 file sent as a multipart form field keeps its file name."""
    files = {"file": ("hole-kpa-2026.sos", SOSI_FILE.read_bytes(), "text/plain")}
    response = client.post("/api/v1/proposals", files=files)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["proposal_id"] == "3310_2026001"
    assert body["source_format"] == "sosi" and body["source_filename"] == "hole-kpa-2026.sos"
    assert {entry["feature_id"] for entry in body["report"]["ignored"]} == {
        "TEKST 30",
        "PUNKT 31",
        "KURVE 32",
    }


def test_geopackage_and_zipped_shapefile(client, tmp_path):
    """The same areas as GeoPackage and as zipped Shapefile give two versions of one plan."""
    gpkg = geopackage(tmp_path, plan_frames())
    first = client.post(
        "/api/v1/proposals",
        content=gpkg,
        headers={"content-type": "application/geopackage+sqlite3"},
    )
    assert first.status_code == 201, first.text
    shp_dir = tmp_path / "shp"
    shp_dir.mkdir()
    archive = zip_bytes(shapefile_files(shp_dir))
    second = client.post(
        "/api/v1/proposals", files={"file": ("plan.zip", archive, "application/zip")}
    )
    assert second.status_code == 201, second.text
    assert second.json()["proposal_id"] == first.json()["proposal_id"]
    assert second.json()["version"] == 2
    assert second.json()["area_counts"] == first.json()["area_counts"]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "fragment"),
    [
        (
            b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b"<r>&x;</r>",
            "application/gml+xml",
            400,
            "",
        ),
        (zip_bytes({"../evil.shp": b"x", "evil.dbf": b"y"}), "application/zip", 422, "evil"),
        (b"PK\x03\x04 not really a zip", "application/zip", 400, ""),
    ],
    ids=["xxe", "zip-traversal", "broken-zip"],
)
def test_unsafe_or_broken_files_are_refused_and_nothing_is_stored(
    client, body, content_type, status, fragment
):
    """XML entities, path traversal in zips and broken archives get a 4xx; nothing is stored."""
    response = client.post(
        "/api/v1/proposals", content=body, headers={"content-type": content_type}
    )
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert fragment in response.text
    assert row_counts() == EMPTY


def test_multipart_without_file_field(client):
    """A form without the 'file' field is named in the problem."""
    response = client.post("/api/v1/proposals", data={"other": "x"}, files={"x": ("a", b"b")})
    assert response.status_code == 422
    assert response.json()["problems"][0]["field"] == "file"
