"""The upload endpoint and the map page follow the format table (spatial.inputs.formats)."""

import re

import pytest

from spatial.inputs.formats import MISLABELLED_MEDIA_TYPES, PLAN_FORMATS, UNTYPED_MEDIA_TYPES

# The plan attributes the GeoPackage, Shapefile and SOSI examples do not carry.
PLAN_PARAMS = {"kommunenummer": "3326", "planidentifikasjon": "KPA2026", "plantype": 20}
MEDIA_TYPES = [
    pytest.param(row, media_type, id=media_type)
    for row in PLAN_FORMATS
    for media_type in row.media_types
]


@pytest.fixture(scope="module")
def examples() -> dict[str, bytes]:
    """Each format's example file, made once."""
    return {row.name: row.example() for row in PLAN_FORMATS}


@pytest.mark.parametrize(("row", "media_type"), MEDIA_TYPES)
def test_every_media_type_of_the_table_is_accepted(client, examples, row, media_type):
    """A format's example sent as any of its media types is read as that format."""
    response = client.post(
        "/api/v1/proposals",
        content=examples[row.name],
        params=PLAN_PARAMS,
        headers={"content-type": media_type},
    )
    assert response.status_code in (200, 201), response.text
    assert response.json()["source_format"] in (row.name, "shapefile")


@pytest.mark.parametrize(
    "media_type", [*(m for m in UNTYPED_MEDIA_TYPES if m), *MISLABELLED_MEDIA_TYPES]
)
def test_media_types_that_name_no_format_leave_it_to_the_content(client, examples, media_type):
    """octet-stream, text/plain and curl's default form type are accepted; the content decides."""
    for row in PLAN_FORMATS:
        response = client.post(
            "/api/v1/proposals",
            content=examples[row.name],
            params=PLAN_PARAMS,
            headers={"content-type": media_type},
        )
        assert response.status_code in (200, 201), (row.name, response.text)


@pytest.mark.parametrize(
    "media_type", ["image/png", "text/html", "application/pdf", "text/csv", "application/x-shp"]
)
def test_media_types_outside_the_table_are_refused(client, examples, media_type):
    """Any other media type is refused with 415 before the body is read."""
    response = client.post(
        "/api/v1/proposals",
        content=examples["geojson"],
        headers={"content-type": media_type},
    )
    assert response.status_code == 415, response.text
    assert response.json()["type"].endswith("/unsupported-media-type")
    for row in PLAN_FORMATS:
        assert row.title in response.json()["detail"]


def test_the_page_accepts_the_extensions_of_the_table(client):
    """The map page's file input accepts exactly the table's extensions and names the formats."""
    page = client.get("/").text
    accept = re.search(r'<input type="file" id="upload-file"[^>]* accept="([^"]*)"', page)
    assert accept is not None
    extensions = [ext for row in PLAN_FORMATS for ext in row.extensions]
    assert accept.group(1).split(",") == extensions
    label = re.search(r'<label for="upload-file">([^<]*)</label>', page)
    assert label is not None
    for row in PLAN_FORMATS:
        assert row.title_nb in label.group(1)


def test_the_document_lists_the_media_types_of_the_table(client):
    """Every upload request body in the API document lists what the upload accepts."""
    spec = client.get("/api/v1/openapi.json").json()
    accepted = {m for row in PLAN_FORMATS for m in row.media_types}
    accepted |= {m for m in UNTYPED_MEDIA_TYPES if m}
    for path, method in (
        ("/api/v1/proposals", "post"),
        ("/api/v1/check", "post"),
        ("/api/v1/plans/{kommunenummer}/{planidentifikasjon}/versions", "post"),
    ):
        content = spec["paths"][path][method]["requestBody"]["content"]
        assert set(content) == {*accepted, "multipart/form-data"}, path
