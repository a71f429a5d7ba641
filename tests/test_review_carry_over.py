"""Reviews follow the plan (issue 20): findings of a new version are matched to the previous
version's, reviews carry over to unchanged findings, changed ones show the earlier review,
resolved ones are listed; byte-identical uploads make no version; reviews record who made them.
"""

import pytest
from shapely.geometry import box

from spatial.rules.compare import compare_findings, match_findings
from tests.conftest import row_counts
from tests.plans import collection, encode, feature
from tests.report_data import (
    HEMSEDAL_XY,
    PLAN_NAMES,
    UTM32,
    cabin,
    housing,
    load_layers,
    run_check,
    upload,
)
from tests.test_e2e_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS

FORUM = "/api/v1/forum"
X0, Y0 = HEMSEDAL_XY
PLAN = {
    "kommunenummer": "3326",
    "planidentifikasjon": "2024001",
    "plantype": 20,
    "planstatus": 2,
    "plannavn": PLAN_NAMES["3326"],
}


def small_cabin(x: float, y: float, key: str) -> dict:
    """A new cabin area of 100 x 100 m (the same key as a larger one: the same area, changed)."""
    geometry = box(x, y, x + 100, y + 100).__geo_interface__
    return feature(geometry, key, arealformal=1120, arealbruksstatus=2, feltnavn=key)


def version_1() -> list[dict]:
    """BFR1 and BFR2 above the tree line (G1 conflicts), B1 over a deposit (G3 conflict)."""
    return [cabin(X0, Y0, "BFR1"), cabin(X0 - 300, Y0, "BFR2"), housing(X0 + 300, Y0, "B1")]


def version_2() -> list[dict]:
    """BFR1 as it was, BFR2 made smaller, B1 taken out."""
    return [cabin(X0, Y0, "BFR1"), small_cabin(X0 - 300, Y0, "BFR2")]


def body(features: list[dict]) -> bytes:
    """The upload body report_data.upload sends for these features."""
    return encode(collection(*features, plan=PLAN, crs=UTM32))


def finding(check: dict, rule_id: str, key: str) -> dict:
    """The one finding of a rule for one area."""
    (found,) = [
        f for f in check["findings"] if f["rule_id"] == rule_id and f["plan_feature_keys"] == [key]
    ]
    return found


def as_key(api_keys: dict, name: str) -> dict:
    """Headers that send another API key."""
    return {"Authorization": f"Bearer {api_keys[name]}"}


def review(client, finding_id: int, headers: dict | None = None, **body) -> dict:
    """PUT a review; return the review with its history."""
    response = client.put(f"{FORUM}/findings/{finding_id}/review", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def forum_items(client, path: str = "findings", **params) -> list[dict]:
    """Every item of a forum list."""
    response = client.get(f"{FORUM}/{path}", params={"limit": 1000, **params})
    assert response.status_code == 200, response.text
    return response.json()["items"]


@pytest.fixture
def reviewed(client, api_keys, tmp_path, override_settings) -> dict:
    """Version 1 checked and reviewed by the forum key, version 2 uploaded and checked."""
    override_settings(raster_dir=tmp_path)
    load_layers(tmp_path)
    forum = as_key(api_keys, "forum")
    v1 = upload(client, version_1())
    first = run_check(client, v1)
    bfr1, bfr2, b1 = (
        finding(first, "G1", "BFR1"),
        finding(first, "G1", "BFR2"),
        finding(first, "G3", "B1"),
    )
    assert bfr1["severity"] == bfr2["severity"] == b1["severity"] == "conflict"
    review(client, bfr1["id"], forum, status="discussed", comment="Tas opp i møtet")
    review(client, bfr1["id"], forum, status="objection", comment="Innsigelse: over skoggrensen")
    review(client, bfr2["id"], forum, status="change_required", comment="Gjør området mindre")
    review(client, b1["id"], forum, status="accepted", comment="Greit")
    v2 = upload(client, version_2())
    second = run_check(client, v2)
    return {"first": first, "second": second, "bfr1": bfr1, "bfr2": bfr2, "b1": b1}


def test_a_new_version_carries_reviews_of_unchanged_findings(client, reviewed):
    """BFR1 is unchanged: its objection, comment and whole history carry over from version 1."""
    second = reviewed["second"]
    bfr1 = finding(second, "G1", "BFR1")
    assert bfr1["comparison"] == "unchanged"
    assert bfr1["previous_finding_id"] == reviewed["bfr1"]["id"]
    carried = client.get(f"{FORUM}/findings/{bfr1['id']}/review").json()
    assert carried["status"] == "objection"
    assert carried["comment"] == "Innsigelse: over skoggrensen"
    assert carried["carried_from_version"] == 1
    assert carried["reviewer"] == carried["key_name"] == "test forum"
    original = client.get(f"{FORUM}/findings/{reviewed['bfr1']['id']}/review").json()
    assert carried["updated_at"] == original["updated_at"]
    steps = [(h["from_status"], h["to_status"], h["comment"]) for h in carried["history"]]
    assert steps == [
        ("open", "discussed", "Tas opp i møtet"),
        ("discussed", "objection", "Innsigelse: over skoggrensen"),
    ]
    assert {h["carried_from_version"] for h in carried["history"]} == {1}
    assert [h["created_at"] for h in carried["history"]] == [
        h["created_at"] for h in original["history"]
    ]
    # Settled in version 1, so not among the open findings of version 2; listed as objection.
    assert bfr1["id"] not in {i["id"] for i in forum_items(client)}
    (listed,) = [i for i in forum_items(client, status="objection") if i["id"] == bfr1["id"]]
    assert listed["comparison"] == "unchanged" and listed["review"]["carried_from_version"] == 1
    assert listed["previous_review"] is None


def test_a_changed_finding_is_open_again_with_the_earlier_review_from_its_version(client, reviewed):
    """BFR2 was made smaller: its figures changed, so it is open, showing version 1's review."""
    bfr2 = finding(reviewed["second"], "G1", "BFR2")
    before = reviewed["bfr2"]
    assert bfr2["comparison"] == "changed" and bfr2["previous_finding_id"] == before["id"]
    assert bfr2["measures"]["area_m2"] < before["measures"]["area_m2"]
    own = client.get(f"{FORUM}/findings/{bfr2['id']}/review").json()
    assert own["status"] == "open" and own["history"] == []
    (listed,) = [i for i in forum_items(client) if i["id"] == bfr2["id"]]
    assert listed["comparison"] == "changed" and listed["review"]["status"] == "open"
    previous = listed["previous_review"]
    assert previous["status"] == "change_required" and previous["version"] == 1
    assert previous["comment"] == "Gjør området mindre"
    assert previous["reviewer"] == previous["key_name"] == "test forum"
    changed_only = forum_items(client, comparison="changed", severity="all")
    assert {i["comparison"] for i in changed_only} == {"changed"}
    assert bfr2["id"] in {i["id"] for i in changed_only}


def test_a_removed_area_s_finding_is_listed_as_resolved(client, reviewed):
    """B1 is gone in version 2: its G3 conflict is resolved, with its last review."""
    first, second, b1 = reviewed["first"], reviewed["second"], reviewed["b1"]
    comparison = second["comparison"]
    assert comparison["previous_check_id"] == first["id"]
    assert comparison["previous_version"] == 1
    resolved = {f["id"]: f for f in comparison["resolved"]}
    assert b1["id"] in resolved
    assert resolved[b1["id"]]["rule_id"] == "G3"
    assert resolved[b1["id"]]["plan_feature_names"] == ["B1"]
    assert resolved[b1["id"]]["review"]["status"] == "accepted"
    # Every finding of version 2 is accounted for, and every one of version 1.
    counts = comparison["counts"]
    assert counts["new"] + counts["unchanged"] + counts["changed"] == len(second["findings"])
    assert counts["unchanged"] + counts["changed"] + counts["resolved"] == len(first["findings"])
    assert counts["resolved"] == len(resolved) and counts["changed"] >= 1
    # Continued findings are not resolved.
    continued = {f["previous_finding_id"] for f in second["findings"]}
    assert not continued & set(resolved)

    items = forum_items(client, "resolved")
    (listed,) = [i for i in items if i["id"] == b1["id"]]
    assert listed["version"] == 1 and listed["resolved_in_version"] == 2
    assert listed["check_id"] == first["id"] and listed["resolved_in_check_id"] == second["id"]
    assert listed["proposal_id"] == "3326_2024001" and listed["municipality"] == "Hemsedal"
    assert listed["review"]["status"] == "accepted" and listed["review"]["comment"] == "Greit"
    assert {i["severity"] for i in items} <= {"conflict", "warning", "unknown"}
    assert forum_items(client, "resolved", kommunenummer="3324") == []

    # The GeoJSON of the findings says the same per finding.
    features = client.get(f"/api/v1/checks/{second['id']}/findings").json()["features"]
    by_id = {f["id"]: f["properties"] for f in features}
    bfr2 = finding(second, "G1", "BFR2")
    assert by_id[bfr2["id"]]["comparison"] == "changed"
    assert by_id[bfr2["id"]]["previous_finding_id"] == reviewed["bfr2"]["id"]

    # The compare endpoint agrees.
    diff = client.get("/api/v1/proposals/3326_2024001/compare", params={"from": 1, "to": 2}).json()
    assert b1["fingerprint"] in {f["fingerprint"] for f in diff["disappeared"]}
    assert bfr2["fingerprint"] in {c["fingerprint"] for c in diff["changed"]}
    assert diff["unchanged_count"] == counts["unchanged"]


def test_identical_upload_makes_no_version_unless_asked_and_chains_keep_the_origin(
    client, api_keys, reviewed
):
    """Byte-identical content is told so (200); a forced version 3 still carries version 1's
    review of BFR1, and version 2's review of BFR2 as made on version 2."""
    same = client.post("/api/v1/proposals", content=body(version_2()))
    assert same.status_code == 200, same.text
    assert same.json()["identical_to_version"] == 2 and same.json()["version"] == 2
    assert row_counts()["proposal_version"] == 2

    bfr2_v2 = finding(reviewed["second"], "G1", "BFR2")
    review(client, bfr2_v2["id"], as_key(api_keys, "forum"), status="accepted", comment="OK nå")

    forced = client.post(
        "/api/v1/proposals", params={"if_identical": "new_version"}, content=body(version_2())
    )
    assert forced.status_code == 201 and forced.json()["version"] == 3
    assert "identical_to_version" not in forced.json()
    third = run_check(client, forced.json()["links"][0]["href"])
    assert third["comparison"]["previous_version"] == 2
    assert third["comparison"]["counts"]["changed"] == 0
    assert third["comparison"]["counts"]["resolved"] == 0
    assert {f["comparison"] for f in third["findings"]} == {"unchanged"}

    bfr1 = client.get(f"{FORUM}/findings/{finding(third, 'G1', 'BFR1')['id']}/review").json()
    assert bfr1["status"] == "objection" and bfr1["carried_from_version"] == 1
    assert [h["carried_from_version"] for h in bfr1["history"]] == [1, 1]
    bfr2 = client.get(f"{FORUM}/findings/{finding(third, 'G1', 'BFR2')['id']}/review").json()
    assert bfr2["status"] == "accepted" and bfr2["carried_from_version"] == 2
    assert [(h["to_status"], h["carried_from_version"]) for h in bfr2["history"]] == [
        ("accepted", 2)
    ]


def test_reviews_record_the_key_and_the_proxy_user_only_when_configured(
    client, api_keys, reviewed, override_settings
):
    """Without user_header a forged header is ignored; with it the user is recorded and is the
    default reviewer; a control character or an over-long name is refused."""
    target = finding(reviewed["second"], "G1", "BFR2")["id"]
    forum = as_key(api_keys, "forum")
    forged = review(client, target, {**forum, "X-Forwarded-User": "mallory"}, status="discussed")
    assert forged["user_name"] is None
    assert forged["reviewer"] == forged["key_name"] == "test forum"

    override_settings(user_header="X-Forwarded-User")
    name = "Åse Ødegård"
    signed_in = review(
        client, target, {**forum, "X-Forwarded-User": name.encode()}, status="objection"
    )
    assert signed_in["user_name"] == signed_in["reviewer"] == name
    assert signed_in["key_name"] == "test forum"
    named = review(
        client,
        target,
        {**forum, "X-Forwarded-User": "kari@bfk.no"},
        status="accepted",
        reviewer="Kari Nordmann",
    )
    assert named["reviewer"] == "Kari Nordmann" and named["user_name"] == "kari@bfk.no"
    assert [(h["reviewer"], h["user_name"]) for h in named["history"]] == [
        ("test forum", None),
        (name, name),
        ("Kari Nordmann", "kari@bfk.no"),
    ]
    (listed,) = [i for i in forum_items(client, status="all") if i["id"] == target]
    assert listed["review"]["user_name"] == "kari@bfk.no"
    assert listed["review"]["key_name"] == "test forum"
    for bad in (b"kari\x01", "k" * 201):
        response = client.put(
            f"{FORUM}/findings/{target}/review",
            json={"status": "open"},
            headers={**forum, "X-Forwarded-User": bad},
        )
        assert response.status_code == 400, response.text
        assert response.headers["content-type"] == "application/problem+json"
    assert len(client.get(f"{FORUM}/findings/{target}/review").json()["history"]) == 3


def test_another_municipality_learns_nothing_of_a_draft_s_reviews(
    client, anonymous, api_keys, reviewed
):
    """The forum lists are county-only (403 for planners, Hemsedal's too); the draft's checks
    and findings are 404 for Kongsberg's planner and anonymous callers."""
    second = reviewed["second"]
    target = finding(second, "G1", "BFR1")["id"]
    for name in ("planner_3303", "planner_3326", "case_3326"):
        headers = as_key(api_keys, name)
        for path in ("findings", "resolved", f"findings/{target}/review"):
            response = client.get(f"{FORUM}/{path}", headers=headers)
            assert response.status_code == 403, (name, path)
            assert "objection" not in response.text and "BFR1" not in response.text
        put = client.put(
            f"{FORUM}/findings/{target}/review", json={"status": "accepted"}, headers=headers
        )
        assert put.status_code == 403
    kongsberg = as_key(api_keys, "planner_3303")
    for path in (f"/api/v1/checks/{second['id']}", f"/api/v1/checks/{second['id']}/findings"):
        assert client.get(path, headers=kongsberg).status_code == 404
        assert anonymous.get(path).status_code == 404
    assert anonymous.get(f"{FORUM}/resolved").status_code == 401
    # Hemsedal's own planner sees its draft's check and its comparison.
    own = client.get(f"/api/v1/checks/{second['id']}", headers=as_key(api_keys, "planner_3326"))
    assert own.status_code == 200 and own.json()["comparison"]["previous_version"] == 1


def test_findings_sharing_a_fingerprint_are_paired_in_order():
    """Two findings with one fingerprint continue two old ones, one each, in their order."""
    old = [
        {"fingerprint": "G5|x||", "severity": "info", "measures": {"n": 1}},
        {"fingerprint": "G5|x||", "severity": "info", "measures": {"n": 2}},
        {"fingerprint": "G1|y|A|", "severity": "conflict", "measures": {}},
    ]
    new = [
        {"fingerprint": "G5|x||", "severity": "info", "measures": {"n": 1}},
        {"fingerprint": "G5|x||", "severity": "warning", "measures": {"n": 2}},
        {"fingerprint": "G2|z|B|", "severity": "ok", "measures": {}},
    ]
    matches = match_findings(old, new)
    assert matches.previous == [0, 1, None]
    assert matches.comparison == ["unchanged", "changed", "new"]
    assert matches.resolved == [2]
    diff = compare_findings(old, new)
    assert diff["unchanged_count"] == 1 and len(diff["changed"]) == 1
    assert diff["appeared"] == [new[2]] and diff["disappeared"] == [old[2]]


def test_the_forum_page_shows_new_changed_carried_and_resolved(reviewed, live_server, api_keys):
    """In Chromium: «Endret siden versjon 1» with version 1's review, «Uendret» with the
    carried review, «Løst i versjon 2», and who recorded each review."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing")
    sync_api = pytest.importorskip("playwright.sync_api")
    bfr1 = finding(reviewed["second"], "G1", "BFR1")["id"]
    bfr2 = finding(reviewed["second"], "G1", "BFR2")["id"]
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        context = browser.new_context(
            locale="nb-NO",
            extra_http_headers={"Authorization": f"Bearer {api_keys['forum']}"},
        )
        context.set_default_timeout(15_000)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{live_server}/forum")

        changed = page.locator(f"[data-testid=forum-row][data-finding-id='{bfr2}']")
        changed.wait_for()
        assert changed.get_attribute("data-comparison") == "changed"
        assert changed.get_by_test_id("forum-comparison").inner_text() == "Endret siden versjon 1"
        previous = changed.get_by_test_id("review-previous").inner_text()
        assert "Vurdering fra versjon 1:" in previous and "Krever endring" in previous
        assert "«Gjør området mindre»" in previous
        assert "Registrert av test forum (nøkkel «test forum»)" in previous
        assert changed.get_by_test_id("review-status").input_value() == "open"

        resolved = page.locator(
            f"[data-testid=resolved-row][data-finding-id='{reviewed['b1']['id']}']"
        )
        resolved.wait_for()
        text = resolved.inner_text()
        assert "Løst i versjon 2" in text and "Funnet i versjon 1" in text
        assert "Akseptert" in text and "«Greit»" in text
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / "forum-comparison.png", full_page=True)

        with page.expect_response(lambda r: "status=objection" in r.url):
            page.get_by_test_id("filter-status").select_option("objection")
        carried = page.locator(f"[data-testid=forum-row][data-finding-id='{bfr1}']")
        carried.wait_for()
        assert carried.get_by_test_id("forum-comparison").inner_text() == "Uendret"
        assert "Vurdering fra versjon 1" in carried.get_by_test_id("review-carried").inner_text()
        assert carried.get_by_test_id("review-status").input_value() == "objection"
        assert "nøkkel «test forum»" in carried.get_by_test_id("review-who").inner_text()

        # The plan's saksnummer for the agenda is set on its row.
        plan_row = page.locator(
            f"[data-testid=forum-plan][data-check-id='{reviewed['second']['id']}']"
        )
        plan_row.get_by_test_id("saksnummer-input").fill("2026/77")
        with page.expect_response(lambda r: "/saksnummer" in r.url) as put:
            plan_row.get_by_test_id("saksnummer-save").click()
        assert put.value.ok and put.value.json()["saksnummer"] == "2026/77"
        assert "Lagret: 2026/77" in plan_row.get_by_test_id("saksnummer-form").inner_text()
        assert page.get_by_test_id("agenda-meeting").input_value() != ""

        # Saving without a name records the key's name; the carried-over note goes.
        carried.get_by_test_id("review-status").select_option("accepted")
        with page.expect_response(lambda r: r.request.method == "PUT") as put:
            carried.get_by_test_id("review-save").click()
        assert put.value.ok, put.value.text()
        assert put.value.json()["reviewer"] == "test forum"
        assert carried.get_by_test_id("review-carried").count() == 0
        assert errors == []
        context.close()
        browser.close()
