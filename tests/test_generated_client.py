"""A Python client generated from /api/v1/openapi.json (openapi-python-client) runs the
README's integration guide for case systems against a live server; the document validates
(openapi-spec-validator)."""

import copy
import importlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from io import BytesIO
from types import ModuleType

import httpx
import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError
from referencing.exceptions import Unresolvable

from app.webhook_payloads import CheckCompleted
from app.webhooks import verify_signature
from spatial.inputs.examples import gml_example
from tests.conftest import ENGLISH
from tests.plans import cabin_area, collection, encode
from tests.workers import run_jobs

PACKAGE = "arealsjekk_client"
# post_hooks: none, so that generation does not depend on ruff's formatting of the output.
# The generator reads no application/pdf response; as bytes, the client returns a File.
GENERATOR_CONFIG = {
    "project_name_override": "arealsjekk-client",
    "package_name_override": PACKAGE,
    "post_hooks": [],
    "content_type_overrides": {"application/pdf": "application/octet-stream"},
}
PLAN_PATH = "/api/v1/plans/{kommunenummer}/{planidentifikasjon}/versions"
# The README's flow (integration guide for case systems), as method and path.
FLOW = {
    ("POST", "/api/v1/webhooks"),
    ("POST", PLAN_PATH),
    ("POST", PLAN_PATH + "/{version}/checks"),
    ("GET", "/api/v1/checks/{check_id}"),
    ("GET", "/api/v1/checks/{check_id}/report.pdf"),
    ("GET", "/api/v1/webhooks/{webhook_id}/deliveries"),
    ("GET", "/api/v1/proposals"),
}
# The generator reads a request body as JSON, multipart or application/octet-stream; the
# plan's other media types (application/gml+xml, …) it leaves out, and both JSON types
# (application/json, application/geo+json) give it the same model.
REQUEST_BODY_LIMITS = ("Unsupported content type", "Attempted to generate duplicate models")


@pytest.fixture(scope="module")
def document(live_server) -> dict:
    """The OpenAPI document as the running service serves it."""
    response = httpx.get(f"{live_server}/api/v1/openapi.json", timeout=60)
    assert response.status_code == 200
    return response.json()


def generate(document: dict, directory) -> subprocess.CompletedProcess:
    """Run openapi-python-client's command line on the document, into `directory`."""
    spec = directory / "openapi.json"
    spec.write_text(json.dumps(document), "utf-8")
    config = directory / "config.json"
    config.write_text(json.dumps(GENERATOR_CONFIG), "utf-8")
    command = [sys.executable, "-m", "openapi_python_client", "generate", "--path", str(spec)]
    # --meta none writes the package itself, without a project around it.
    command += ["--config", str(config), "--output-path", str(directory / PACKAGE)]
    return subprocess.run(
        [*command, "--meta", "none"], capture_output=True, text=True, timeout=300, check=False
    )


@pytest.fixture(scope="module")
def generated(document, tmp_path_factory) -> Iterator[tuple[ModuleType, str]]:
    """The generated package, imported, and what the generator printed."""
    directory = tmp_path_factory.mktemp("generated")
    run = generate(document, directory)
    assert run.returncode == 0, run.stdout + run.stderr
    sys.path.insert(0, str(directory))
    try:
        yield importlib.import_module(PACKAGE), run.stdout + run.stderr
    finally:
        sys.path.remove(str(directory))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def test_the_openapi_document_validates(document):
    """openapi-spec-validator finds nothing wrong with the served document (OpenAPI 3.1)."""
    assert document["openapi"].startswith("3.1")
    validate(document)
    operation_ids = [
        operation["operationId"]
        for item in document["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict) and "operationId" in operation
    ]
    # Generated clients name their functions after these: the route functions' names.
    assert "upload_plan_version" in operation_ids and "get_report_pdf" in operation_ids


def _broken(document: dict, change) -> dict:
    copied = copy.deepcopy(document)
    change(copied)
    return copied


def _dangling_ref(document):
    schema = document["components"]["schemas"]["CheckPublic"]
    schema["properties"]["summary"] = {"$ref": "#/components/schemas/NoSuchSchema"}


def _duplicate_operation_id(document):
    document["paths"]["/api/v1/checks/{check_id}"]["get"]["operationId"] = "upload_plan_version"


def _undeclared_path_parameter(document):
    operation = document["paths"]["/api/v1/checks/{check_id}"]["get"]
    operation["parameters"] = [p for p in operation["parameters"] if p["name"] != "check_id"]


def _response_without_description(document):
    del document["paths"]["/api/v1/webhooks"]["post"]["responses"]["201"]["description"]


@pytest.mark.parametrize(
    "change",
    [
        _dangling_ref,
        _duplicate_operation_id,
        _undeclared_path_parameter,
        _response_without_description,
    ],
)
def test_the_validator_refuses_a_broken_document(document, change):
    """The validation above is real: each of these breakages of the document is reported."""
    # A $ref to nowhere is reported by the resolver the validator uses (referencing).
    with pytest.raises((OpenAPIValidationError, Unresolvable)):
        validate(_broken(document, change))


def test_the_generator_reads_every_operation_of_the_flow(generated):
    """The generator warns of nothing in the flow's operations but the request media types
    it cannot express (the client sends a file as multipart or application/octet-stream)."""
    _, output = generated
    blocks = output.split("WARNING parsing ")[1:]
    for method, path in FLOW:
        for block in blocks:
            if block.startswith(f"{method} {path} within"):
                message = block.splitlines()[2] if len(block.splitlines()) > 2 else block
                assert message.startswith(REQUEST_BODY_LIMITS), block[:2000]


def test_the_readme_integration_flow_through_the_generated_client(
    generated, live_server, api_keys, receivers, monkeypatch
):
    """Webhook, multipart upload with a retry, case reference, check, poll, signed
    check.completed, report.pdf: each step of the README's guide as a case system's code."""
    client_package, _ = generated
    receiver = receivers()
    api = importlib.import_module(f"{PACKAGE}.api")
    models = importlib.import_module(f"{PACKAGE}.models")
    types = importlib.import_module(f"{PACKAGE}.types")
    plans = importlib.import_module(f"{PACKAGE}.api.plans_national_plan_id")
    for name in ("upload_plan_version", "check_plan_version"):
        importlib.import_module(f"{plans.__name__}.{name}")
    for module in ("checks.get_check", "reports.get_report_pdf", "proposals.list_proposals"):
        importlib.import_module(f"{api.__name__}.{module}")
    for module in ("webhooks.register_webhook", "webhooks.list_deliveries"):
        importlib.import_module(f"{api.__name__}.{module}")
    client = client_package.AuthenticatedClient(
        base_url=live_server,
        token=api_keys["case_3326"],
        headers=dict(ENGLISH),  # the generated client adds its token to the dict it is given
        timeout=httpx.Timeout(120),
        raise_on_unexpected_status=True,
    )

    # 1. Register a webhook once; keep the returned secret.
    registered = api.webhooks.register_webhook.sync_detailed(
        client=client, body=models.WebhookCreate(url=receiver.url, events=["check.completed"])
    )
    assert registered.status_code == 201, registered.content
    hook = registered.parsed
    assert isinstance(hook, models.WebhookPublic) and len(hook.secret) >= 32

    # 2. Upload a version as multipart (curl -F file=@planforslag.gml), naming the case.
    def upload(content: bytes, key: str, name: str = "planforslag.gml"):
        body = models.UploadPlanVersionFilesBody(
            file=types.File(payload=BytesIO(content), file_name=name, mime_type="text/xml"),
            saksnummer="2026/1234",
            journalpost_id="2026/1234-1",
        )
        return plans.upload_plan_version.sync_detailed(
            "3326", "2026007", client=client, body=body, idempotency_key=key
        )

    first = upload(gml_example(), "sak-2026-1234-v1")
    assert first.status_code == 201, first.content
    version = first.parsed
    assert isinstance(version, models.VersionPublic)
    assert (version.proposal_id, version.version) == ("3326_2026007", 1)
    assert version.source_format == "gml" and version.source_filename == "planforslag.gml"
    assert (version.saksnummer, version.journalpost_id) == ("2026/1234", "2026/1234-1")
    assert first.headers["location"].startswith(f"{live_server}/api/v1/")

    # A retry after a timeout (same key, same request) returns the first answer.
    retry = upload(gml_example(), "sak-2026-1234-v1")
    assert retry.status_code == 201, retry.content
    assert retry.headers["idempotent-replayed"] == "true"
    assert json.loads(retry.content) == json.loads(first.content)
    # The generated client sends a fixed multipart boundary; the same request with a
    # boundary of httpx's own choosing is the same request too.
    request = plans.upload_plan_version._get_kwargs(
        "3326",
        "2026007",
        body=models.UploadPlanVersionFilesBody(
            file=types.File(BytesIO(gml_example()), "planforslag.gml", "text/xml"),
            saksnummer="2026/1234",
            journalpost_id="2026/1234-1",
        ),
        idempotency_key="sak-2026-1234-v1",
    )
    del request["headers"]["Content-Type"]
    other_boundary = client.get_httpx_client().request(**request)
    assert b"boundary=+++" not in other_boundary.request.headers["content-type"].encode()
    assert other_boundary.status_code == 201, other_boundary.content
    assert other_boundary.headers["idempotent-replayed"] == "true"
    # Another file under the same key is refused.
    other_file = encode(collection(cabin_area()))
    conflict = upload(other_file, "sak-2026-1234-v1", name="planforslag.geojson")
    assert conflict.status_code == 409 and isinstance(conflict.parsed, models.ProblemDetails)

    # The case system finds its proposals by saksnummer.
    listed = api.proposals.list_proposals.sync(client=client, saksnummer="2026/1234")
    assert [item.id for item in listed.items] == ["3326_2026007"]

    # 3. Start the check (201 with the findings, or 202 for large plans), then poll it.
    started = plans.check_plan_version.sync_detailed(
        "3326",
        "2026007",
        1,
        client=client,
        body=models.CheckRequest(),
        idempotency_key="sak-2026-1234-c1",
    )
    assert started.status_code in (201, 202), started.content
    check_id = started.parsed.id
    deadline = time.monotonic() + 60
    while True:
        check = api.checks.get_check.sync(check_id, client=client)
        if check.status not in ("queued", "running") or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert check.status == "done", check.error
    assert (check.saksnummer, check.journalpost_id) == ("2026/1234", "2026/1234-1")

    # The signed check.completed delivery (sent by a job worker's round).
    deadline = time.monotonic() + 30
    while not receiver.received and time.monotonic() < deadline:
        run_jobs(monkeypatch)
        time.sleep(0.2)
    assert len(receiver.received) == 1, receiver.received
    headers, body = receiver.received[0]
    assert headers["X-Arealsjekk-Event"] == "check.completed"
    assert verify_signature(hook.secret, headers["X-Arealsjekk-Signature"], body)
    payload = json.loads(body)
    CheckCompleted.model_validate(payload)  # as the document's `webhooks` describe it
    assert payload["check"]["id"] == check_id and payload["versjon"] == 1
    assert (payload["saksnummer"], payload["journalpostId"]) == ("2026/1234", "2026/1234-1")
    report_link = f"{live_server}/api/v1/checks/{check_id}/report.pdf"
    assert payload["links"]["report"] == report_link
    deliveries = api.webhooks.list_deliveries.sync(hook.id, client=client)
    assert [d.status for d in deliveries] == ["delivered"]

    # 4. Archive the report: through the client, and by the webhook's link.
    report = api.reports.get_report_pdf.sync(check_id, client=client)
    assert isinstance(report, types.File)
    pdf = report.payload.read()
    assert pdf.startswith(b"%PDF-") and b"%%EOF" in pdf[-1024:]
    followed = client.get_httpx_client().get(payload["links"]["report"])
    assert followed.status_code == 200 and followed.content.startswith(b"%PDF-")
