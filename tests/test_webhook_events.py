"""Issue 24, items 2 and 5: the forum's decisions as signed webhook events
(finding.reviewed, proposal.published), absolute links in payloads, and re-sending a delivery.

Receivers are real HTTP servers on 127.0.0.1; deliveries are sent by the job queue's own
rounds (run_jobs), so an event that queues no round never arrives.
"""

import json
import re
import uuid
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from app import openapi_examples as ex
from app.access import create_api_key
from app.db import get_engine, get_sessionmaker
from app.settings import get_settings
from app.webhooks import EVENTS
from tests.report_data import PLAN_NAMES, hemsedal_plan, load_layers, run_check, upload
from tests.workers import run_jobs

SECRET = "decisions-are-events-" + "x" * 16
README = Path(__file__).resolve().parents[1] / "README.md"
CASE = {"saksnummer": "2026/1234", "journalpost_id": "2026/1234-7"}
REVIEW = {
    "status": "change_required",
    "comment": "Hytteområdet må trekkes ned under skoggrensen.",
    "reviewer": "Regionalt planforum",
}


def readme_verify():
    """The signature check the README gives case systems, taken from the README itself."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    (code,) = [block for block in blocks if "def verify(" in block]
    namespace: dict = {}
    exec(code, namespace)  # noqa: S102 - the documented receiver code, run as written
    return namespace["verify"]


@pytest.fixture
def case_3303(api_keys) -> str:
    """A case system key of Gol (3303 here: another municipality than Hemsedal, 3326)."""
    with get_sessionmaker()() as session:
        _, token = create_api_key(
            session, f"test case_3303 {uuid.uuid4().hex[:8]}", "case_system", "3303"
        )
        session.commit()
    return token


@pytest.fixture
def public_url(monkeypatch):
    """AREALSJEKK_PUBLIC_URL set for this test (the process settings, as a deployment's)."""
    url = "http://127.0.0.1:8765/arealsjekk"
    monkeypatch.setenv("AREALSJEKK_PUBLIC_URL", url)
    get_settings.cache_clear()
    yield url
    monkeypatch.undo()
    get_settings.cache_clear()


def as_key(client, token: str):
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def register(client, token: str, url: str, **body) -> dict:
    response = as_key(client, token).post(
        "/api/v1/webhooks", json={"url": url, "secret": SECRET, **body}
    )
    assert response.status_code == 201, response.text
    return {**response.json(), "location": response.headers["location"]}


def deliveries(client, token: str, hook: dict) -> list[dict]:
    response = as_key(client, token).get(f"/api/v1/webhooks/{hook['id']}/deliveries")
    assert response.status_code == 200, response.text
    return response.json()


def checked_draft(client, api_keys, tmp_path, override_settings) -> dict:
    """Hemsedal's draft, checked, with the case references and the forum's saksnummer."""
    override_settings(raster_dir=tmp_path)
    load_layers(tmp_path)
    as_key(client, api_keys["admin"])
    check = run_check(client, upload(client, hemsedal_plan()))
    with get_engine().begin() as connection:
        connection.execute(
            text("UPDATE plan_check SET saksnummer = :s, journalpost_id = :j WHERE id = :id"),
            {"s": CASE["saksnummer"], "j": CASE["journalpost_id"], "id": check["id"]},
        )
        connection.execute(
            text("UPDATE proposal_version SET saksnummer = :s, journalpost_id = :j"),
            {"s": CASE["saksnummer"], "j": "2026/1234-9"},
        )
    as_key(client, api_keys["forum"])
    answer = client.put(
        "/api/v1/forum/proposals/3326_2024001/saksnummer", json={"saksnummer": "2026/77"}
    )
    assert answer.status_code == 200, answer.text
    return check


def review(client, api_keys, finding_id: int, body: dict = REVIEW) -> dict:
    response = as_key(client, api_keys["forum"]).put(
        f"/api/v1/forum/findings/{finding_id}/review", json=body
    )
    assert response.status_code == 200, response.text
    return response.json()


def pending_deliveries() -> int:
    with get_engine().connect() as connection:
        return connection.execute(
            text("SELECT count(*) FROM webhook_delivery WHERE status = 'pending'")
        ).scalar_one()


def test_a_review_reaches_the_case_systems_that_may_see_the_plan(
    client, api_keys, case_3303, receivers, tmp_path, override_settings, monkeypatch
):
    """finding.reviewed arrives signed, with the decision, the plan, the case references and
    absolute links, at Hemsedal's and the county's webhooks; never at Gol's (a draft)."""
    hemsedal, gol, county = receivers(), receivers(), receivers()
    hemsedal_hook = register(client, api_keys["case_3326"], hemsedal.url)
    assert hemsedal_hook["events"] == list(EVENTS)  # all events unless asked otherwise
    # The Location header and the payload links start with the URL the client used.
    assert hemsedal_hook["location"] == f"http://testserver/api/v1/webhooks/{hemsedal_hook['id']}"
    gol_hook = register(client, case_3303, gol.url)
    register(client, api_keys["case_county"], county.url, events=["finding.reviewed"])

    check = checked_draft(client, api_keys, tmp_path, override_settings)
    finding = next(f for f in check["findings"] if f["severity"] == "conflict")
    run_jobs(monkeypatch)  # the check.completed deliveries
    assert len(hemsedal.events("check.completed")) == 1

    answer = review(client, api_keys, finding["id"])
    run_jobs(monkeypatch)

    ((headers, payload),) = hemsedal.events("finding.reviewed")
    raw = next(body for h, body in hemsedal.received if h is headers)
    assert readme_verify()(SECRET, headers["X-Arealsjekk-Signature"], raw)
    assert not readme_verify()("another secret" * 2, headers["X-Arealsjekk-Signature"], raw)
    assert "X-Arealsjekk-Redelivery" not in headers
    assert payload["deliveryId"] == int(headers["X-Arealsjekk-Delivery"])
    base = "http://testserver/api/v1"
    assert payload == {
        "event": "finding.reviewed",
        "finding": {
            "id": finding["id"],
            "rule": finding["rule_id"],
            "severity": "conflict",
            "message": finding["message"],
            "links": {
                "review": f"{base}/forum/findings/{finding['id']}/review",
                "findings": f"{base}/checks/{check['id']}/findings",
            },
        },
        "review": {
            "status": "change_required",
            "previousStatus": "open",
            "comment": REVIEW["comment"],
            "reviewer": REVIEW["reviewer"],
            "reviewedAt": payload["review"]["reviewedAt"],
        },
        "check": {"id": check["id"]},
        "nasjonalArealplanId": {
            "administrativEnhet": {"kommunenummer": "3326"},
            "planidentifikasjon": "2024001",
        },
        "versjon": 1,
        "plannavn": PLAN_NAMES["3326"],
        "saksnummer": "2026/1234",
        "journalpostId": "2026/1234-7",
        "forumSaksnummer": "2026/77",
        "links": {
            "check": f"{base}/checks/{check['id']}",
            "report": f"{base}/checks/{check['id']}/report.pdf",
            "proposal": f"{base}/proposals/3326_2024001",
        },
        "deliveryId": payload["deliveryId"],
    }
    reviewed_at = datetime.fromisoformat(payload["review"]["reviewedAt"])
    assert reviewed_at == datetime.fromisoformat(answer["updated_at"].replace("Z", "+00:00"))

    # The county's webhook hears it too (it asked for this event only).
    ((_, county_payload),) = county.events("finding.reviewed")
    assert county_payload["review"] == payload["review"]
    assert [h["X-Arealsjekk-Event"] for h, _ in county.received] == ["finding.reviewed"]
    # Gol's case system may not see Hemsedal's draft: nothing queued, nothing sent.
    assert gol.received == []
    assert deliveries(client, case_3303, gol_hook) == []

    # The same review again changes nothing, and is no event; a changed one is.
    review(client, api_keys, finding["id"])
    assert pending_deliveries() == 0
    review(client, api_keys, finding["id"], {**REVIEW, "status": "objection"})
    run_jobs(monkeypatch)
    first, second = hemsedal.events("finding.reviewed")
    assert second[1]["review"]["previousStatus"] == "change_required"
    assert second[1]["review"]["status"] == "objection"
    assert second[1]["deliveryId"] != first[1]["deliveryId"]
    assert gol.received == []


def test_publishing_is_an_event(
    client, api_keys, case_3303, receivers, tmp_path, override_settings, monkeypatch
):
    """proposal.published carries the plan, its latest version and the case references."""
    hemsedal, gol = receivers(), receivers()
    register(client, api_keys["case_3326"], hemsedal.url, events=["proposal.published"])
    register(client, case_3303, gol.url, events=["proposal.published"])
    check = checked_draft(client, api_keys, tmp_path, override_settings)
    published = as_key(client, api_keys["admin"]).post("/api/v1/proposals/3326_2024001/publish")
    assert published.status_code == 200, published.text
    run_jobs(monkeypatch)

    ((headers, payload),) = hemsedal.events("proposal.published")
    raw = next(body for h, body in hemsedal.received if h is headers)
    assert readme_verify()(SECRET, headers["X-Arealsjekk-Signature"], raw)
    base = "http://testserver/api/v1/proposals/3326_2024001"
    assert payload == {
        "event": "proposal.published",
        "nasjonalArealplanId": {
            "administrativEnhet": {"kommunenummer": "3326"},
            "planidentifikasjon": "2024001",
        },
        "plannavn": PLAN_NAMES["3326"],
        "plantype": 20,
        "versjon": 1,
        "publishedAt": payload["publishedAt"],
        "saksnummer": "2026/1234",
        "journalpostId": "2026/1234-9",
        "forumSaksnummer": "2026/77",
        "links": {"proposal": base, "version": f"{base}/versions/1"},
        "deliveryId": payload["deliveryId"],
    }
    shown = published.json()["published_at"].replace("Z", "+00:00")
    assert datetime.fromisoformat(payload["publishedAt"]) == datetime.fromisoformat(shown)
    assert check["id"]
    # Gol's case system does not follow Hemsedal's plans (a municipality key: its own only).
    assert gol.received == []
    # Publishing again is no new event.
    as_key(client, api_keys["admin"]).post("/api/v1/proposals/3326_2024001/publish")
    assert pending_deliveries() == 0


def test_a_delivery_is_sent_again_on_request(
    client, api_keys, receivers, tmp_path, override_settings, monkeypatch
):
    """A re-send keeps the delivery id and body (receivers de-duplicate by it), says it is a
    re-send, and gets a fresh set of attempts; only a finished delivery of one's own webhook."""
    hemsedal, county = receivers(), receivers()
    hook = register(client, api_keys["case_3326"], hemsedal.url, events=["finding.reviewed"])
    county_hook = register(client, api_keys["case_county"], county.url)
    assert hook["id"] == 1  # the documented problem examples name webhook 1
    check = checked_draft(client, api_keys, tmp_path, override_settings)
    finding = next(f for f in check["findings"] if f["severity"] == "conflict")
    review(client, api_keys, finding["id"])

    # Not finished yet (queued, being sent or retried): 409.
    (queued,) = deliveries(client, api_keys["case_3326"], hook)
    url = f"/api/v1/webhooks/{hook['id']}/deliveries/{queued['id']}/redeliver"
    refused = as_key(client, api_keys["case_3326"]).post(url)
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    expected = json.loads(
        json.dumps(ex.DELIVERY_PENDING.body)
        .replace("delivery 7", f"delivery {queued['id']}")
        .replace("/deliveries/7/", f"/deliveries/{queued['id']}/")
    )
    assert refused.json() == expected

    run_jobs(monkeypatch)
    ((first_headers, first_body),) = hemsedal.received
    (delivered,) = deliveries(client, api_keys["case_3326"], hook)
    assert delivered["status"] == "delivered" and delivered["redeliveries"] == 0

    again = as_key(client, api_keys["case_3326"]).post(url)
    assert again.status_code == 202, again.text
    shown = again.json()
    assert shown["id"] == queued["id"] and shown["status"] == "pending"
    assert shown["attempts"] == 0 and shown["redeliveries"] == 1
    # A second request while it waits to be sent is refused.
    assert as_key(client, api_keys["case_3326"]).post(url).status_code == 409
    run_jobs(monkeypatch)

    assert len(hemsedal.received) == 2
    headers, body = hemsedal.received[1]
    assert headers["X-Arealsjekk-Delivery"] == first_headers["X-Arealsjekk-Delivery"]
    assert headers["X-Arealsjekk-Redelivery"] == "1"
    assert headers["X-Arealsjekk-Event"] == "finding.reviewed"
    assert body == first_body  # the same event, word for word
    assert readme_verify()(SECRET, headers["X-Arealsjekk-Signature"], body)
    (after,) = deliveries(client, api_keys["case_3326"], hook)
    assert after["status"] == "delivered" and after["attempts"] == 1
    assert after["redeliveries"] == 1

    # Someone else's delivery, or one of another webhook, is missing: 404.
    (county_delivery,) = [
        d
        for d in deliveries(client, api_keys["case_county"], county_hook)
        if d["event"] == "finding.reviewed"
    ]
    other = f"/api/v1/webhooks/{county_hook['id']}/deliveries/{county_delivery['id']}/redeliver"
    assert as_key(client, api_keys["case_3326"]).post(other).status_code == 404
    mixed = f"/api/v1/webhooks/{hook['id']}/deliveries/{county_delivery['id']}/redeliver"
    assert as_key(client, api_keys["case_3326"]).post(mixed).status_code == 404
    missing = as_key(client, api_keys["case_3326"]).post(
        "/api/v1/webhooks/1/deliveries/99/redeliver"
    )
    assert missing.status_code == 404 and missing.json() == ex.NO_DELIVERY.body
    assert as_key(client, api_keys["planner_3326"]).post(url).status_code == 403
    assert len(hemsedal.received) == 2


def test_links_start_with_the_configured_public_url(
    client, api_keys, public_url, receivers, tmp_path, override_settings, monkeypatch
):
    """AREALSJEKK_PUBLIC_URL goes before the URL a webhook was registered through; the
    check.completed payload names the case (saksnummer, journalpostId)."""
    hemsedal = receivers()
    hook = register(client, api_keys["case_3326"], hemsedal.url)
    assert hook["location"] == f"{public_url}/api/v1/webhooks/{hook['id']}"
    override_settings(raster_dir=tmp_path)
    load_layers(tmp_path)
    as_key(client, api_keys["admin"])
    check = run_check(client, upload(client, hemsedal_plan()))
    run_jobs(monkeypatch)
    ((_, payload),) = hemsedal.events("check.completed")
    assert payload["links"] == {
        "check": f"{public_url}/api/v1/checks/{check['id']}",
        "findings": f"{public_url}/api/v1/checks/{check['id']}/findings",
        "report": f"{public_url}/api/v1/checks/{check['id']}/report.pdf",
        "proposal": f"{public_url}/api/v1/proposals/3326_2024001",
    }
    assert "saksnummer" in payload and "journalpostId" in payload


def test_an_untrusted_host_cannot_register_a_webhook(client, api_keys, receivers):
    """A Host that is not trusted is never echoed into links (OWASP host header injection):
    without AREALSJEKK_PUBLIC_URL the registration is refused, and nothing is stored."""
    hemsedal = receivers()
    response = as_key(client, api_keys["case_3326"]).post(
        "/api/v1/webhooks", json={"url": hemsedal.url}, headers={"Host": "evil.example"}
    )
    assert response.status_code == 400, response.text
    assert response.json() == ex.WEBHOOK_UNTRUSTED_HOST.body
    # A Host that is no host at all (RFC 3986 §3.2.2) is not a trusted one either.
    for forged in ("localhost:1@evil.example", "localhost:80/evil.example", "[::1]evil.example"):
        response = as_key(client, api_keys["case_3326"]).post(
            "/api/v1/webhooks", json={"url": hemsedal.url}, headers={"Host": forged}
        )
        assert response.status_code == 400, forged
    with get_engine().connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM webhook")).scalar_one() == 0
    # The refusal is about the deployment, not the request: a retry through a trusted Host
    # under the same Idempotency-Key runs (it is not answered the 400 again).
    retry = {"Idempotency-Key": "register-1"}
    refused = as_key(client, api_keys["case_3326"]).post(
        "/api/v1/webhooks", json={"url": hemsedal.url}, headers={**retry, "Host": "evil.example"}
    )
    assert refused.status_code == 400
    accepted = client.post("/api/v1/webhooks", json={"url": hemsedal.url}, headers=retry)
    assert accepted.status_code == 201, accepted.text
    assert "idempotent-replayed" not in accepted.headers
