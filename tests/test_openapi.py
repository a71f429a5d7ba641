"""The OpenAPI document: every operation described, with examples, API keys and problems."""

from typing import Any

import pytest
from pydantic import BaseModel, TypeAdapter

from app import openapi_examples as ex
from app.routers.forum import (
    ForumFindingPage,
    ResolvedPage,
    ReviewPublic,
    ReviewRequest,
    SaksnummerPublic,
    SaksnummerRequest,
)
from app.routers.webhooks import DeliveryPublic, WebhookCreate, WebhookPublic
from app.schemas import (
    CheckPublic,
    CheckRequest,
    ComparePublic,
    FindingPublic,
    HealthStatus,
    IdenticalUploadPublic,
    LayerPublic,
    LayerVersionPublic,
    ProblemDetails,
    ProposalPage,
    ProposalPublic,
    QuickCheckPublic,
    VersionPublic,
)

METHODS = ("get", "put", "post", "delete", "patch")
PROBLEM_JSON = "application/problem+json"

# Every model that carries examples in its JSON schema, by its name in the document.
MODELS: dict[str, type[BaseModel]] = {
    model.__name__: model
    for model in (
        CheckPublic,
        CheckRequest,
        ComparePublic,
        DeliveryPublic,
        FindingPublic,
        ForumFindingPage,
        HealthStatus,
        IdenticalUploadPublic,
        LayerPublic,
        LayerVersionPublic,
        ProblemDetails,
        ProposalPage,
        ProposalPublic,
        QuickCheckPublic,
        ResolvedPage,
        ReviewPublic,
        ReviewRequest,
        SaksnummerPublic,
        SaksnummerRequest,
        VersionPublic,
        WebhookCreate,
        WebhookPublic,
    )
}


@pytest.fixture
def spec(client) -> dict[str, Any]:
    """The OpenAPI document as the service serves it."""
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


def operations(spec: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(name, operation) for every path × method in the document."""
    return [
        (f"{method.upper()} {path}", operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def schema_has_examples(schema: dict[str, Any], spec: dict[str, Any]) -> bool:
    """True if the schema, or what it refers to (also as list items or an option), has examples."""
    if "examples" in schema or "example" in schema:
        return True
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return schema_has_examples(spec["components"]["schemas"][name], spec)
    if "items" in schema:
        return schema_has_examples(schema["items"], spec)
    return any(schema_has_examples(option, spec) for option in schema.get("anyOf", []))


def content_has_example(content: dict[str, Any], spec: dict[str, Any]) -> bool:
    """True if some media type of the content has an example (or its schema has)."""
    return any(
        "example" in media
        or "examples" in media
        or schema_has_examples(media.get("schema", {}), spec)
        for media in content.values()
    )


def examples_of(media: dict[str, Any]) -> list[Any]:
    """The example values of one media type object."""
    if "example" in media:
        return [media["example"]]
    return [example["value"] for example in media.get("examples", {}).values()]


def response_example(spec: dict[str, Any], name: str, status: str, media_type: str) -> Any:
    """The first example of an operation's response."""
    method, path = name.split(" ", 1)
    media = spec["paths"][path][method.lower()]["responses"][status]["content"][media_type]
    return examples_of(media)[0]


def test_every_operation_has_a_summary_and_a_description(spec):
    """Swagger UI lists each operation with a summary; its docstring says what it does."""
    missing = [
        name
        for name, operation in operations(spec)
        if not operation.get("summary") or not operation.get("description")
    ]
    assert missing == []
    assert len(operations(spec)) >= 40


def test_every_operation_has_a_response_example(spec):
    """Each operation shows at least one example answer, and every 2xx JSON answer has one."""
    without_example = []
    for name, operation in operations(spec):
        responses = operation["responses"]
        if not any(content_has_example(r.get("content", {}), spec) for r in responses.values()):
            without_example.append(name)
        for status, response in responses.items():
            json_content = {
                media_type: media
                for media_type, media in response.get("content", {}).items()
                if "json" in media_type
            }
            if status.startswith("2") and json_content:
                assert content_has_example(json_content, spec), f"{name} {status}"
    assert without_example == []


def test_every_request_body_has_an_example(spec):
    """JSON bodies and plan files come with an example to try."""
    bodies = [(name, op["requestBody"]) for name, op in operations(spec) if "requestBody" in op]
    assert {name for name, _ in bodies} >= {
        "POST /api/v1/proposals",
        "POST /api/v1/check",
        "POST /api/v1/layers/{layer_id}/versions",
        "PUT /api/v1/forum/findings/{finding_id}/review",
        "POST /api/v1/webhooks",
    }
    for name, body in bodies:
        assert content_has_example(body["content"], spec), name


def test_plan_uploads_show_geojson_and_name_the_other_formats(spec):
    """The upload example is GeoJSON; Plan-GML, SOSI, GeoPackage and zip go raw or as `file`."""
    for name in (
        "POST /api/v1/proposals",
        "POST /api/v1/plans/{kommunenummer}/{planidentifikasjon}/versions",
        "POST /api/v1/check",
    ):
        method, path = name.split(" ", 1)
        body = spec["paths"][path][method.lower()]["requestBody"]
        content = body["content"]
        assert content["application/geo+json"]["example"]["plan"]["planidentifikasjon"] == (
            "KPA2026"
        )
        assert content["multipart/form-data"]["schema"]["properties"]["file"]["format"] == (
            "binary"
        )
        assert {"application/gml+xml", "application/geopackage+sqlite3", "application/zip"} <= (
            set(content)
        )
        for words in ("Plan-GML", "SOSI", "GeoPackage", "Shapefile", "multipart"):
            assert words in body["description"], (name, words)


def test_the_api_key_scheme_and_who_needs_it(spec):
    """Bearer `ask_…` keys are declared; each operation says whether it needs one."""
    schemes = spec["components"]["securitySchemes"]
    bearer = [s for s in schemes.values() if s["type"] == "http" and s["scheme"] == "bearer"]
    assert len(bearer) == 1
    assert bearer[0]["bearerFormat"].startswith("ask_")
    by_name = dict(operations(spec))

    def requirement(name: str) -> list[dict[str, Any]] | None:
        return by_name[name].get("security")

    upload = requirement("POST /api/v1/proposals")
    assert upload and {} not in upload and any(set(r) & set(schemes) for r in upload)
    assert {} in requirement("GET /api/v1/proposals")  # a key is optional
    assert requirement("GET /healthz") is None
    assert requirement("GET /api/v1/municipalities") is None
    forum = by_name["GET /api/v1/forum/findings"]
    assert "forum or admin" in forum["description"]
    assert response_example(spec, "GET /api/v1/forum/findings", "403", PROBLEM_JSON)[
        "detail"
    ].endswith("it needs forum or admin")
    for name, operation in operations(spec):
        if operation.get("security"):
            assert "401" in operation["responses"], name


def test_errors_are_documented_as_problem_details(spec):
    """Every 4xx answer of the JSON API is problem+json with examples that fit the schema."""
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    statuses = set()
    for name, operation in operations(spec):
        if name == "GET /wms":
            continue
        for status, response in operation["responses"].items():
            if not status.startswith("4"):
                continue
            statuses.add(status)
            media = response["content"][PROBLEM_JSON]
            assert media["schema"]["$ref"].endswith("/ProblemDetails"), (name, status)
            for example in examples_of(media):
                problem = ProblemDetails.model_validate(example)
                assert str(problem.status) == status, (name, status)
                assert problem.type.startswith("https://arealsjekk.no/problems/")
    assert statuses >= {"400", "401", "403", "404", "409", "413", "415", "422"}


def test_every_post_documents_the_idempotency_key(spec):
    """A POST may carry an Idempotency-Key, and a reused key is a 409."""
    for name, operation in operations(spec):
        if name.startswith("POST "):
            headers = [p["name"] for p in operation["parameters"] if p["in"] == "header"]
            assert "Idempotency-Key" in headers, name
            assert "409" in operation["responses"], name


def test_binary_and_html_answers_name_their_media_types(spec):
    """Reports and agendas are PDF/HTML; the WMS answers PNG, XML and JSON with an example URL."""
    by_name = dict(operations(spec))
    for name, media_type in (
        ("GET /api/v1/checks/{check_id}/report.pdf", "application/pdf"),
        ("GET /api/v1/forum/agenda.pdf", "application/pdf"),
        ("GET /api/v1/checks/{check_id}/report.html", "text/html"),
        ("GET /api/v1/forum/agenda.html", "text/html"),
    ):
        assert media_type in by_name[name]["responses"]["200"]["content"], name
    wms = by_name["GET /wms"]
    assert {"image/png", "text/xml", "application/json"} <= set(wms["responses"]["200"]["content"])
    assert "REQUEST=GetMap" in wms["description"]
    assert {"SERVICE", "REQUEST", "LAYERS", "BBOX"} <= {p["name"] for p in wms["parameters"]}


def test_geojson_answers_have_feature_collection_examples(spec):
    """GeoJSON answers show a small FeatureCollection (or Feature) in the declared media type."""
    for name in (
        "GET /api/v1/municipalities",
        "GET /api/v1/proposals/{proposal_id}/versions/{version}/features",
        "GET /api/v1/checks/{check_id}/findings",
        "GET /api/v1/layers/{layer_id}/items",
        "GET /ogcapi/collections/{collection_id}/items",
    ):
        example = response_example(spec, name, "200", "application/geo+json")
        assert example["type"] == "FeatureCollection", name
        assert example["features"] and example["features"][0]["geometry"]["coordinates"], name


@pytest.mark.parametrize(
    ("name", "status", "model"),
    [
        ("GET /api/v1/proposals", "200", ProposalPage),
        ("GET /api/v1/proposals/{proposal_id}", "200", ProposalPublic),
        ("POST /api/v1/proposals", "201", VersionPublic),
        ("POST /api/v1/proposals", "200", IdenticalUploadPublic),
        ("GET /api/v1/checks/{check_id}", "200", CheckPublic),
        ("POST /api/v1/proposals/{proposal_id}/versions/{version}/checks", "202", CheckPublic),
        ("POST /api/v1/check", "200", QuickCheckPublic),
        ("GET /api/v1/proposals/{proposal_id}/compare", "200", ComparePublic),
        ("GET /api/v1/layers", "200", list[LayerPublic]),
        ("GET /api/v1/layers/{layer_id}/versions", "200", list[LayerVersionPublic]),
        ("GET /api/v1/forum/findings", "200", ForumFindingPage),
        ("GET /api/v1/forum/resolved", "200", ResolvedPage),
        ("PUT /api/v1/forum/findings/{finding_id}/review", "200", ReviewPublic),
        ("PUT /api/v1/forum/proposals/{proposal_id}/saksnummer", "200", SaksnummerPublic),
        ("POST /api/v1/webhooks", "201", WebhookPublic),
        ("GET /api/v1/webhooks/{webhook_id}/deliveries", "200", list[DeliveryPublic]),
        ("GET /readyz", "503", HealthStatus),
    ],
)
def test_response_examples_validate_against_their_models(spec, name, status, model):
    """The examples are answers the models could give."""
    TypeAdapter(model).validate_python(response_example(spec, name, status, "application/json"))


def test_model_and_request_examples_validate(spec):
    """Every example in a model's schema, and the check-options examples, are valid input."""
    schemas = spec["components"]["schemas"]
    with_examples = {name for name, schema in schemas.items() if "examples" in schema}
    assert with_examples <= set(MODELS)
    assert {"CheckPublic", "ProposalPage", "ReviewRequest", "WebhookCreate"} <= with_examples
    for name in with_examples:
        for example in schemas[name]["examples"]:
            MODELS[name].model_validate(example)
    body = spec["paths"]["/api/v1/proposals/{proposal_id}/versions/{version}/checks"]["post"]
    for example in examples_of(body["requestBody"]["content"]["application/json"]):
        CheckRequest.model_validate(example)


def test_the_upload_example_is_a_plan_the_service_accepts(client, spec):
    """Trying the documented upload gives the documented kind of answer."""
    example = spec["paths"]["/api/v1/proposals"]["post"]["requestBody"]["content"][
        "application/geo+json"
    ]["example"]
    response = client.post(
        "/api/v1/proposals?filename=hemsedal-kpa-2026.geojson",
        json=example,
        headers={"Content-Type": "application/geo+json"},
    )
    assert response.status_code == 201, response.text
    body = VersionPublic.model_validate(response.json())
    assert body.proposal_id == ex.PROPOSAL_ID
    assert body.area_counts == {"planomrade": 0, "arealformal": 2, "hensynssone": 1}
    assert body.report.model_dump() == ex.VERSION["report"]


def test_problem_examples_are_the_answers_the_service_gives(client, anonymous):
    """The shared problem examples match real answers word for word."""
    assert anonymous.post("/api/v1/proposals", content=b"{}").json() == {
        **ex.MISSING_KEY.body,
        "instance": "/api/v1/proposals",
    }
    answers = [
        (client.get(f"/api/v1/proposals/{ex.PROPOSAL_ID}"), ex.NO_PROPOSAL),
        (client.get("/api/v1/layers/skoggrense"), ex.NO_LAYER),
        (client.get("/api/v1/municipalities?crs=EPSG:3857"), ex.BAD_CRS),
        (client.get("/api/v1/municipalities/3399"), ex.NO_MUNICIPALITY),
        (
            client.post(
                "/api/v1/proposals", content=b"\x89PNG", headers={"Content-Type": "image/png"}
            ),
            ex.UPLOAD_MEDIA_TYPE,
        ),
        (
            client.post(
                "/api/v1/proposals",
                content=b"{not json",
                headers={"Content-Type": "application/geo+json"},
            ),
            ex.UPLOAD_NOT_JSON,
        ),
        (client.get("/api/v1/forum/findings?severity=kritisk"), ex.FORUM_BAD_SEVERITY),
        (client.get("/api/v1/land-account/3328?date=garbage"), ex.BAD_DATE),
        (client.get("/api/v1/land-account/3326"), ex.NO_LAND_ACCOUNT),
    ]
    for response, example in answers:
        assert response.headers["content-type"] == PROBLEM_JSON
        assert response.json() == example.body
