"""Plan-GML uploads that real writers produce (issue 18): a truncated file is refused with a
4xx naming the truncation and nothing is stored; the whole file, with its CRS only on the
collection envelope in the urn:x-ogc spelling, is stored."""

import re

import pytest

from tests.conftest import row_counts
from tests.unit.test_plan_formats import gml_bytes

EMPTY = {"plan_proposal": 0, "proposal_version": 0, "plan_feature": 0}


def post_gml(client, body: bytes):
    return client.post(
        "/api/v1/proposals",
        content=body,
        params={"filename": "planforslag.gml"},
        headers={"content-type": "application/gml+xml"},
    )


@pytest.mark.parametrize(
    "cut_after",
    [b"</gml:featureMember>", b"<gml:posList>468", b"<app:arealform"],
    ids=["after-a-feature", "in-coordinates", "in-a-tag"],
)
def test_truncated_gml_is_refused_and_nothing_is_stored(client, cut_after):
    body = gml_bytes()
    cut = body.rindex(cut_after) + len(cut_after)
    response = post_gml(client, body[:cut])
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "the XML ends early" in response.json()["detail"]
    assert "truncated" in response.json()["detail"]
    assert row_counts() == EMPTY


def test_crs_in_the_urn_x_ogc_spelling_on_the_envelope_only(client):
    body = re.sub(rb' srsName="[^"]*"', b"", gml_bytes())
    body = body.replace(b"<gml:Envelope", b'<gml:Envelope srsName="urn:x-ogc:def:crs:EPSG:25832"')
    assert body.count(b"srsName") == 1
    response = post_gml(client, body)
    assert response.status_code == 201, response.text
    assert response.json()["area_counts"] == {"planomrade": 1, "arealformal": 2, "hensynssone": 1}


def test_a_broken_arc_is_told_in_bokmal_naming_the_area_and_marking_the_place(client):
    """Issue 20, item 4: the problem a planner reads is bokmål by default, names the area by
    feltnavn and lokalId, and gives the point (CRS84) for the map; English on request."""
    arc = b"468100 6748000 468125 6748025 468100 6748050"
    assert gml_bytes().count(arc) == 1
    body = gml_bytes().replace(arc, b"468100 6748000 468125 6748025 468100 6748000")
    answers = {}
    for language in ("nb", "en"):
        response = client.post(
            "/api/v1/proposals",
            content=body,
            params={"filename": "planforslag.gml"},
            headers={"content-type": "application/gml+xml", "Accept-Language": language},
        )
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["content-language"] == language
        answers[language] = response.json()
    nb, en = answers["nb"], answers["en"]
    [problem] = [p for p in nb["problems"] if p.get("feature_id") == "_bfr1"]
    assert problem["feltnavn"] == "BFR1"
    assert problem["lokal_id"] == "5f0c1d8e-7a43-4c55-9f6d-3326a0000003"
    assert "geometrien kan ikke leses" in problem["message"]
    assert "en bue starter og slutter i samme punkt (468100.000 6748000.000)" in problem["message"]
    lon, lat = problem["location"]
    assert 8.0 < lon < 8.9 and 60.7 < lat < 61.0  # Hemsedal
    assert "feltnavn «BFR1»" in nb["detail"] and "geometrien kan ikke leses" in nb["detail"]
    [english] = [p for p in en["problems"] if p.get("feature_id") == "_bfr1"]
    assert english["message"] == (
        "geometry cannot be read: an arc starts and ends at the same point "
        "(468100.000 6748000.000); it has no defined shape (a full circle must be given as a "
        "circle)"
    )
    assert english["location"] == problem["location"]
    assert nb["title"] != en["title"]
    assert row_counts() == EMPTY
