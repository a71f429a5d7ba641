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
