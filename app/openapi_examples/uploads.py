"""The example plan and the plan upload: request bodies derived from the format table
(spatial.inputs.formats), and the problems an upload may be answered with."""

from typing import Any

from app.case_references import (
    JOURNALPOST_ID_HELP,
    JOURNALPOST_ID_PATTERN,
    SAKSNUMMER_HELP,
    SAKSNUMMER_PATTERN,
)
from app.openapi_examples.common import problem
from spatial.inputs.examples import EXAMPLE_GEOJSON
from spatial.inputs.formats import (
    ACCEPTED,
    EXTENSIONS,
    FORMAT_TITLES,
    PLAN_FORMATS,
    UNTYPED_MEDIA_TYPES,
    PlanFormat,
)

PROPOSAL_ID = "3326_KPA2026"

# The example plan as GeoJSON: three areas of samples/hemsedal-kpa-2026.geojson.
UPLOAD_GEOJSON: dict[str, Any] = EXAMPLE_GEOJSON

BINARY = {"type": "string", "format": "binary"}

# A zip is read as a Shapefile: say what it must hold, wherever the table lists it.
_FILE_FORMATS = f"{FORMAT_TITLES} (a zip holds a .shp with its .shx, .dbf and .prj)"


def _media_type_entry(
    media_type: str, row: PlanFormat | None, geojson_example: dict, text: bool
) -> dict[str, Any]:
    """The request body entry of one media type; text formats show their example if `text`."""
    if row is None:  # names no format: any bytes, or any text
        return {"schema": {"type": "string"} if media_type == "text/plain" else BINARY}
    if row.name == "geojson":
        return {"schema": {"type": "object"}, "example": geojson_example}
    if row.binary:
        return {"schema": BINARY}
    entry: dict[str, Any] = {"schema": {"type": "string"}}
    if text:
        entry["example"] = row.example().decode("utf-8")
    return entry


def file_body(
    description: str,
    geojson_example: dict[str, Any],
    formats: str,
    plan_examples: bool = False,
    form_fields: dict[str, dict[str, Any]] | None = None,
) -> dict:
    """An `openapi_extra` request body for an endpoint that reads a file (raw or multipart).

    It lists every media type the upload dependency accepts (the format table's and those
    that name no format); `plan_examples` adds the example plan in the text formats.
    """
    content: dict[str, Any] = {
        media_type: _media_type_entry(media_type, row, geojson_example, plan_examples)
        for row in PLAN_FORMATS
        for media_type in row.media_types
    }
    content["multipart/form-data"] = {
        "schema": {
            "type": "object",
            "required": ["file"],
            "properties": {
                "file": {**BINARY, "description": f"the file: {formats}"},
                **(form_fields or {}),
            },
        }
    }
    for media_type in UNTYPED_MEDIA_TYPES:
        if media_type:
            content[media_type] = _media_type_entry(media_type, None, geojson_example, False)
    return {"requestBody": {"required": True, "description": description, "content": content}}


UPLOAD_BODY = file_body(
    "The plan file as the raw request body, or as the field `file` of a multipart/form-data "
    f"form: {_FILE_FORMATS}. The format is recognised from the content, then the `filename` "
    f"parameter ({', '.join(EXTENSIONS)}), then the media type "
    f"({', '.join(row.media_types[0] for row in PLAN_FORMATS)}; application/octet-stream or "
    "text/plain when unsure). GeoJSON is RFC 7946 (CRS84) or names an EPSG code in a legacy "
    "`crs` member, as in the example (an excerpt of `samples/hemsedal-kpa-2026.geojson`; the "
    "other text formats show the same plan). Plan attributes come from the query parameters, "
    "else a `plan` member (or KS Fiks Plan's `nasjonalArealplanId`), else the plan boundary "
    "feature (KpOmråde/RpOmråde). Limits by default: 20 MiB, 20 000 features, 500 000 "
    "vertices.",
    UPLOAD_GEOJSON,
    _FILE_FORMATS,
    plan_examples=True,
)
# A stored upload also takes the case system's references as form fields (or query parameters).
PROPOSAL_UPLOAD_BODY = file_body(
    UPLOAD_BODY["requestBody"]["description"]
    + " A case system may name its case and record with the form fields `saksnummer` and "
    "`journalpostId` beside `file` (or as query parameters).",
    UPLOAD_GEOJSON,
    _FILE_FORMATS,
    plan_examples=True,
    form_fields={
        "saksnummer": {
            "type": "string",
            "pattern": SAKSNUMMER_PATTERN,
            "description": SAKSNUMMER_HELP,
            "examples": ["2026/1234"],
        },
        "journalpostId": {
            "type": "string",
            "pattern": JOURNALPOST_ID_PATTERN,
            "description": JOURNALPOST_ID_HELP,
            "examples": ["2026/1234-5"],
        },
    },
)

# Upload errors (proposals, plans and the quick check).
UPLOAD_NOT_JSON = problem(
    400,
    "malformed-input",
    "body is not valid JSON: Expecting property name enclosed in double quotes at line 1, column 2",
    "/api/v1/proposals",
    summary="The body is not valid JSON",
)

UPLOAD_TOO_LARGE = problem(
    413,
    "payload-too-large",
    "body is 31457280 bytes; the limit is 20971520 bytes",
    "/api/v1/proposals",
    summary="The body, feature count or vertex count is over the limit",
)

UPLOAD_MEDIA_TYPE = problem(
    415,
    "unsupported-media-type",
    "content type 'image/png' is not supported; send the plan file as the raw body "
    f"({FORMAT_TITLES}) or as the 'file' field of a multipart/form-data form",
    "/api/v1/proposals",
    summary="Unsupported content type",
)

UPLOAD_FORMAT = problem(
    415,
    "unsupported-format",
    f"the upload is in no format Arealsjekk reads; send {ACCEPTED}",
    "/api/v1/proposals",
    summary="Unsupported file format",
)

UPLOAD_INVALID = problem(
    422,
    "invalid-input",
    "feature 0 (id 'BFR10'): lies outside Buskerud: a vertex is 205793 m beyond the county "
    "boundary (tolerance 200 m); check the CRS and coordinates (and 1 more problem)",
    "/api/v1/proposals",
    [
        {
            "message": "lies outside Buskerud: a vertex is 205793 m beyond the county boundary "
            "(tolerance 200 m); check the CRS and coordinates",
            "feature": 0,
            "feature_id": "BFR10",
        },
        {
            "message": "is a hensynssone without a zone code",
            "feature": 1,
            "feature_id": "H570_1",
            "field": "hensynssone",
        },
    ],
    summary="The content breaks a rule; `problems` names each feature (nothing is stored)",
)

UPLOAD_PROBLEMS = (
    UPLOAD_NOT_JSON,
    UPLOAD_TOO_LARGE,
    UPLOAD_MEDIA_TYPE,
    UPLOAD_FORMAT,
    UPLOAD_INVALID,
)
