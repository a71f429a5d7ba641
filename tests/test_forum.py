"""The regional plan forum: findings across municipalities, reviews with history, the agenda."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from app.db import get_engine
from tests.report_data import (
    PLAN_NAMES,
    assert_pdf,
    gol_plan,
    hemsedal_plan,
    load_layers,
    run_check,
    upload,
)

URL = "/api/v1/forum/findings"
DEFAULT_SEVERITIES = {"conflict", "warning", "unknown"}


@pytest.fixture
def forum(client, tmp_path, override_settings) -> dict:
    """Hemsedal checked twice (v1 once, v2 twice), Gol checked, and an unchecked plan."""
    override_settings(raster_dir=tmp_path)
    load_layers(tmp_path)
    hemsedal_v1 = upload(client, hemsedal_plan())
    run_check(client, hemsedal_v1)
    hemsedal_v2 = upload(client, hemsedal_plan()[:1])  # v2 drops the housing area B1
    run_check(client, hemsedal_v2)
    latest_hemsedal = run_check(client, hemsedal_v2)
    run_check(client, hemsedal_v1)  # a newer check of an older version: not the forum's
    gol = run_check(client, upload(client, gol_plan(), "3324", "2026001"))
    upload(client, gol_plan(), "3324", "2026002")  # never checked: not listed
    return {"hemsedal": latest_hemsedal, "gol": gol}


def listing(client, **params) -> dict:
    response = client.get(URL, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def expected(check: dict, severities=DEFAULT_SEVERITIES) -> set[int]:
    return {f["id"] for f in check["findings"] if f["severity"] in severities}


def test_lists_open_findings_of_the_latest_check_of_each_latest_version(client, forum):
    """By default: conflicts, warnings and unknowns still open, Gol before Hemsedal."""
    page = listing(client)
    ids = [item["id"] for item in page["items"]]
    assert set(ids) == expected(forum["hemsedal"]) | expected(forum["gol"])
    assert page["total"] == len(ids) and page["offset"] == 0 and page["limit"] == 50
    municipalities = [item["municipality"] for item in page["items"]]
    assert municipalities == sorted(municipalities) and municipalities[0] == "Gol"
    rank = ["conflict", "warning", "unknown"]
    for name in ("Gol", "Hemsedal"):
        severities = [i["severity"] for i in page["items"] if i["municipality"] == name]
        assert severities == sorted(severities, key=rank.index)

    item = next(i for i in page["items"] if i["rule_id"] == "G3" and i["kommunenummer"] == "3324")
    gol = forum["gol"]
    assert item["check_id"] == gol["id"]
    assert item["proposal_id"] == "3324_2026001" and item["version"] == 1
    assert item["plannavn"] == PLAN_NAMES["3324"]
    assert item["severity"] == "conflict"
    assert item["plan_feature_keys"] == ["B7"]
    assert item["measures"]["overlap_m2"] == pytest.approx(10_000)
    assert item["paragraph"].startswith("Buskerudplanen 2026")
    assert item["message"] and item["suggested_action"]
    assert item["review"] == {
        "status": "open",
        "comment": None,
        "reviewer": None,
        "key_name": None,
        "user_name": None,
        "carried_from_version": None,
        "updated_at": None,
    }
    # Gol's only check has nothing to be compared with.
    assert item["comparison"] is None and item["previous_finding_id"] is None
    assert item["previous_review"] is None
    assert item["links"][0] == {
        "href": f"/api/v1/checks/{gol['id']}/report.html",
        "rel": "report",
        "type": "text/html",
    }
    hemsedal = [i for i in page["items"] if i["kommunenummer"] == "3326"]
    assert {i["version"] for i in hemsedal} == {2}
    assert {i["check_id"] for i in hemsedal} == {forum["hemsedal"]["id"]}
    # The latest check of version 2 repeats the first check of version 2: nothing changed.
    assert {i["comparison"] for i in hemsedal} == {"unchanged"}


def test_filters_and_paging(client, forum):
    """Each filter narrows the list; repeated or comma-separated values; 'all' lifts defaults."""
    gol_only = listing(client, kommunenummer="3324")
    assert {i["kommunenummer"] for i in gol_only["items"]} == {"3324"}
    assert gol_only["total"] == len(expected(forum["gol"]))

    g1 = listing(client, rule_id="G1")["items"]
    assert g1 and {i["rule_id"] for i in g1} == {"G1"}
    both = listing(client, rule_id="G1,G3")["items"]
    assert {i["rule_id"] for i in both} == {"G1", "G3"}

    conflicts = listing(client, severity="conflict")["items"]
    assert {i["severity"] for i in conflicts} == {"conflict"}
    repeated = client.get(URL, params=[("severity", "conflict"), ("severity", "unknown")]).json()
    assert {i["severity"] for i in repeated["items"]} == {"conflict", "unknown"}
    everything = listing(client, severity="all", limit=1000)
    all_ids = expected(forum["hemsedal"], {"conflict", "warning", "unknown", "info", "ok"})
    all_ids |= expected(forum["gol"], {"conflict", "warning", "unknown", "info", "ok"})
    assert {i["id"] for i in everything["items"]} == all_ids

    total = listing(client)["total"]
    first = listing(client, limit=2)
    second = listing(client, limit=2, offset=2)
    assert first["total"] == second["total"] == total
    assert len(first["items"]) == 2 and second["offset"] == 2
    assert not {i["id"] for i in first["items"]} & {i["id"] for i in second["items"]}
    rels = {link["rel"]: link["href"] for link in second["links"]}
    assert "limit=2&offset=4" in rels["next"] and "limit=2&offset=0" in rels["prev"]
    filtered = listing(client, severity="conflict,warning", limit=1)
    assert "severity=conflict,warning" in filtered["links"][0]["href"]


def test_bad_filters_are_422_problems(client, forum):
    """An unknown severity or status, or a malformed kommunenummer, names the parameter."""
    for params, field in (
        ({"severity": "fatal"}, "severity"),
        ({"status": "closed"}, "status"),
        ({"kommunenummer": "33"}, "kommunenummer"),
    ):
        response = client.get(URL, params=params)
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["problems"][0]["field"] == field


def test_review_a_finding_and_read_its_history(client, forum):
    """Each change is an event with who, from and to; the default list drops settled findings."""
    finding = next(f for f in forum["gol"]["findings"] if f["severity"] == "conflict")
    review_url = f"{URL}/{finding['id']}/review"
    never = client.get(review_url)
    assert never.status_code == 200
    assert never.json() == {
        "finding_id": finding["id"],
        "status": "open",
        "comment": None,
        "reviewer": None,
        "key_name": None,
        "user_name": None,
        "carried_from_version": None,
        "updated_at": None,
        "history": [],
    }

    first = client.put(
        review_url, json={"status": "discussed", "comment": "Tas opp i møtet", "reviewer": "Kari"}
    )
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "discussed" and first.json()["reviewer"] == "Kari"
    second = client.put(
        review_url,
        json={"status": "objection", "comment": "Innsigelse: grusressurs", "reviewer": "Ola"},
    )
    body = second.json()
    assert body["status"] == "objection" and body["comment"] == "Innsigelse: grusressurs"
    assert body["updated_at"] is not None
    history = [(h["from_status"], h["to_status"], h["reviewer"]) for h in body["history"]]
    assert history == [("open", "discussed", "Kari"), ("discussed", "objection", "Ola")]
    # The client sends the admin key: each change records its name.
    assert body["key_name"] == "test admin" and body["user_name"] is None
    assert {h["key_name"] for h in body["history"]} == {"test admin"}
    assert body["history"][0]["comment"] == "Tas opp i møtet"
    assert all(h["created_at"] for h in body["history"])

    # The same review again changes nothing; the GET shows what the PUT returned.
    again = client.put(
        review_url,
        json={"status": "objection", "comment": "Innsigelse: grusressurs", "reviewer": "Ola"},
    )
    assert len(again.json()["history"]) == 2
    assert client.get(review_url).json() == again.json()

    assert finding["id"] not in {i["id"] for i in listing(client)["items"]}
    objections = listing(client, status="objection")["items"]
    assert [i["id"] for i in objections] == [finding["id"]]
    assert objections[0]["review"]["comment"] == "Innsigelse: grusressurs"
    assert objections[0]["review"]["reviewer"] == "Ola"
    assert finding["id"] in {i["id"] for i in listing(client, status="all")["items"]}
    assert finding["id"] in {i["id"] for i in listing(client, status="open,objection")["items"]}


def test_bad_reviews_are_rejected(client, forum):
    """Unknown status or blank reviewer: 422 naming the field; unknown finding: 404."""
    finding = forum["gol"]["findings"][0]
    review_url = f"{URL}/{finding['id']}/review"
    for body, field in (
        ({"status": "rejected", "reviewer": "Kari"}, "body.status"),
        ({"status": "accepted", "reviewer": "   "}, "body.reviewer"),
        ({"status": "accepted", "reviewer": "K" * 201}, "body.reviewer"),
    ):
        response = client.put(review_url, json=body)
        assert response.status_code == 422, body
        assert response.headers["content-type"] == "application/problem+json"
        assert [p["field"] for p in response.json()["problems"]] == [field]
    assert client.get(review_url).json()["history"] == []

    # Without a reviewer (and without a login proxy) the review is the key's.
    unnamed = client.put(review_url, json={"status": "accepted"})
    assert unnamed.status_code == 200, unnamed.text
    assert unnamed.json()["reviewer"] == unnamed.json()["key_name"] == "test admin"

    missing = client.put(f"{URL}/999999/review", json={"status": "accepted", "reviewer": "Kari"})
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert client.get(f"{URL}/999999/review").status_code == 404


def test_agenda_by_date(client, forum, tmp_path):
    """The agenda lists the proposals whose latest check finished in the period."""
    conflict = next(f for f in forum["gol"]["findings"] if f["severity"] == "conflict")
    client.put(
        f"{URL}/{conflict['id']}/review",
        json={"status": "discussed", "comment": "Be om ny plassering", "reviewer": "Kari"},
    )
    with get_engine().begin() as connection:
        connection.execute(
            text("UPDATE plan_check SET finished_at = '2026-01-15 12:00+01' WHERE id = :id"),
            {"id": forum["gol"]["id"]},
        )

    january = client.get(
        "/api/v1/forum/agenda.html", params={"from": "2026-01-01", "to": "2026-01-15"}
    )
    assert january.status_code == 200, january.text
    assert january.headers["content-type"].startswith("text/html")
    html = january.text
    assert PLAN_NAMES["3324"] in html and PLAN_NAMES["3326"] not in html
    assert "Gol (3324)" in html and "3324_2026001" in html
    assert "15.01.2026" in html
    assert f"/api/v1/checks/{forum['gol']['id']}/report.html" in html
    assert "Drøftet" in html and "Be om ny plassering" in html and "Kari" in html
    assert conflict["message"].split(" ")[0] in html

    oslo_today = datetime.now(ZoneInfo("Europe/Oslo")).date()
    today = oslo_today.isoformat()
    current = client.get("/api/v1/forum/agenda.html", params={"from": today, "to": today}).text
    assert PLAN_NAMES["3326"] in current and PLAN_NAMES["3324"] not in current
    tomorrow = (oslo_today + timedelta(days=1)).isoformat()
    empty = client.get("/api/v1/forum/agenda.html", params={"from": tomorrow}).text
    assert "Ingen planforslag ble kontrollert i perioden" in empty

    pdf = client.get("/api/v1/forum/agenda.pdf", params={"from": "2026-01-01", "to": "2026-01-31"})
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert_pdf(pdf.content, tmp_path, PLAN_NAMES["3324"], "Be om ny plassering")


@pytest.mark.parametrize(
    "params",
    [{"from": "2026-02-01", "to": "2026-01-01"}, {"from": "1. januar"}, {"to": "2026-13-01"}],
)
def test_agenda_rejects_bad_dates(client, params):
    """from after to, or a date that is not YYYY-MM-DD, is a 422 problem."""
    for suffix in ("html", "pdf"):
        response = client.get(f"/api/v1/forum/agenda.{suffix}", params=params)
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
