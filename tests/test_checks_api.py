"""The check API: run, read, GeoJSON findings, background jobs, quick checks, compare."""

import numpy as np
import pytest
from shapely.geometry import box

from layers.ruleset import default_rule_set
from tests.conftest import row_counts
from tests.plans import collection, encode, feature
from tests.rule_fixtures import load_raster_layer, load_vector_layer
from tests.workers import run_jobs

X0, Y0 = 470_000.0, 6_750_000.0  # Hemsedal, EPSG:25832
UTM32 = {"type": "name", "properties": {"name": "EPSG:25832"}}


@pytest.fixture
def layers(tmp_path, override_settings):
    """A tree line at 1,000 m, terrain at 1,100 m west of X0 + 100 m, and one deposit."""
    override_settings(raster_dir=tmp_path)
    origin = (X0 - 500.0, Y0 + 600.0)
    load_raster_layer("tree_line", np.full((20, 20), 1000.0), tmp_path, origin, cell=50.0)
    terrain = np.full((100, 100), 800.0)
    terrain[:, :60] = 1100.0
    load_raster_layer("elevation", terrain, tmp_path, origin)
    deposit = {"geometry": box(X0 + 300, Y0, X0 + 400, Y0 + 100), "importance": "regional"}
    load_vector_layer("mineral_deposits", [deposit], tmp_path)
    return tmp_path


def cabin(x: float, fid: str) -> dict:
    geometry = box(x, Y0, x + 200, Y0 + 100).__geo_interface__
    return feature(geometry, fid, arealformal=1120, arealbruksstatus=2, feltnavn=fid)


def upload(client, *features) -> str:
    body = collection(*features, crs=UTM32)
    response = client.post("/api/v1/proposals", content=encode(body))
    assert response.status_code == 201, response.text
    return response.json()["links"][0]["href"]


def test_check_a_version_and_read_its_findings(client, layers):
    """A cabin half above the tree line gives a G1 conflict with its figures and geometry."""
    version_url = upload(client, cabin(X0, "BFR1"))
    response = client.post(f"{version_url}/checks")
    assert response.status_code == 201, response.text
    check = response.json()
    assert check["status"] == "done"
    assert response.headers["location"] == f"http://testserver/api/v1/checks/{check['id']}"
    assert check["rule_set"]["id"] == "buskerudplanen-2026"
    assert len(check["rule_set"]["checksum"]) == 64
    assert check["layer_versions"]["tree_line"] == 1
    assert check["layer_versions"]["villrein_areas"] is None  # not loaded, recorded as such
    assert set(check["timings_ms"]) == {rule.id for rule in default_rule_set().rules}
    g1 = [f for f in check["findings"] if f["rule_id"] == "G1"]
    assert [f["severity"] for f in g1] == ["conflict"]
    assert g1[0]["measures"]["above_tree_line_m2"] == pytest.approx(10_000)
    assert g1[0]["plan_feature_keys"] == ["BFR1"]
    assert check["summary"]["by_rule"]["G1"]["conflict"] == 1
    # Layers that are not loaded make their checks unknown, never ok.
    assert check["summary"]["by_rule"]["G2"]["unknown"] >= 1
    assert check["summary"]["by_rule"]["G2"]["ok"] == 0

    again = client.get(f"/api/v1/checks/{check['id']}").json()
    assert again["findings"] == check["findings"]
    findings = client.get(
        f"/api/v1/checks/{check['id']}/findings", params={"severity": "conflict", "crs": "25832"}
    )
    assert findings.headers["content-type"] == "application/geo+json"
    conflict = findings.json()["features"][0]
    assert conflict["properties"]["rule_id"] == "G1"
    coords = np.array(conflict["geometry"]["coordinates"][0])
    assert coords[:, 0].min() == pytest.approx(X0) and coords[:, 0].max() == pytest.approx(X0 + 100)


def test_rechecking_is_reproducible_and_a_reloaded_layer_is_recorded(client, layers):
    """Same rule set and layers: identical findings; after a reload, the new version is used."""
    version_url = upload(client, cabin(X0, "BFR1"))
    first = client.post(f"{version_url}/checks").json()
    second = client.post(f"{version_url}/checks").json()
    own = ("id", "comparison", "previous_finding_id")
    strip = [{k: v for k, v in f.items() if k not in own} for f in first["findings"]]
    assert strip == [{k: v for k, v in f.items() if k not in own} for f in second["findings"]]
    # The second check is matched against the first: every finding unchanged, one for one.
    assert {f["comparison"] for f in first["findings"]} == {None}
    assert first["comparison"] is None
    assert {f["comparison"] for f in second["findings"]} == {"unchanged"}
    assert [f["previous_finding_id"] for f in second["findings"]] == [
        f["id"] for f in first["findings"]
    ]
    assert second["comparison"]["previous_check_id"] == first["id"]
    assert second["comparison"]["counts"] == {
        "new": 0,
        "unchanged": len(first["findings"]),
        "changed": 0,
        "resolved": 0,
    }

    origin = (X0 - 500.0, Y0 + 600.0)
    load_raster_layer("tree_line", np.full((20, 20), 1150.0), layers, origin, cell=50.0)
    third = client.post(f"{version_url}/checks").json()
    assert third["layer_versions"]["tree_line"] == 2
    g1 = next(f for f in third["findings"] if f["rule_id"] == "G1")
    assert g1["severity"] == "warning"  # 1,100 m is now 50 m below a 1,150 m line

    pinned = client.post(f"{version_url}/checks", json={"layer_versions": {"tree_line": 1}})
    assert pinned.json()["layer_versions"]["tree_line"] == 1
    assert pinned.json()["requested_layer_versions"] == {"tree_line": 1}
    g1_pinned = next(f for f in pinned.json()["findings"] if f["rule_id"] == "G1")
    assert g1_pinned["severity"] == "conflict"
    listed = client.get(f"{version_url}/checks").json()
    assert [c["id"] for c in listed] == sorted((c["id"] for c in listed), reverse=True)


def test_large_plans_run_in_the_background(client, layers, override_settings, monkeypatch):
    """Above sync_check_max_features the check is queued: 202, then poll the status URL
    while a worker (app/jobs.py) runs it."""
    override_settings(sync_check_max_features=1, raster_dir=layers)
    version_url = upload(client, cabin(X0, "BFR1"), cabin(X0 + 250, "BFR2"))
    response = client.post(f"{version_url}/checks")
    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    status_url = response.headers["location"]
    assert client.get(status_url).json()["status"] == "queued"
    run_jobs(monkeypatch, layers)
    body = client.get(status_url).json()
    assert body["status"] == "done", body
    assert body["summary"]["by_rule"]["G1"]["conflict"] == 1


def test_quick_check_stores_nothing(client, layers):
    """POST /api/v1/check answers with findings as CRS84 GeoJSON and writes no rows."""
    body = collection(cabin(X0, "BFR1"), crs=UTM32)
    response = client.post("/api/v1/check", content=encode(body))
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["summary"]["by_rule"]["G1"]["conflict"] == 1
    conflict = next(f for f in result["findings"]["features"] if f["properties"]["rule_id"] == "G1")
    lon, lat = conflict["geometry"]["coordinates"][0][0]
    assert 8.0 < lon < 9.0 and 60.0 < lat < 61.5
    assert row_counts() == {"plan_proposal": 0, "proposal_version": 0, "plan_feature": 0}


def test_quick_check_rejects_bad_input_like_an_upload(client, layers):
    """The quick check shares the upload's validation."""
    response = client.post("/api/v1/check", content=encode(collection()))
    assert response.status_code == 422


def test_compare_two_versions(client, layers):
    """Moving BFR1 below the line and adding housing over the deposit changes the findings."""
    v1 = upload(client, cabin(X0, "BFR1"))
    client.post(f"{v1}/checks")
    housing = feature(
        box(X0 + 300, Y0, X0 + 350, Y0 + 50).__geo_interface__,
        "B1",
        arealformal=1110,
        arealbruksstatus=2,
        feltnavn="B1",
    )
    v2 = upload(client, cabin(X0 + 150, "BFR1"), housing)
    client.post(f"{v2}/checks")
    response = client.get("/api/v1/proposals/3326_2024001/compare", params={"from": 1, "to": 2})
    assert response.status_code == 200, response.text
    diff = response.json()
    changed = {c["to"]["rule_id"]: c for c in diff["changed"]}
    assert changed["G1"]["from"]["severity"] == "conflict"
    assert changed["G1"]["to"]["severity"] == "ok"  # moved 150 m east, 200 m below the line
    appeared = {(f["rule_id"], f["severity"]) for f in diff["appeared"]}
    assert ("G3", "conflict") in appeared


def test_compare_needs_checked_versions(client, layers):
    """Comparing an unchecked version is a 422 that says how to check it."""
    upload(client, cabin(X0, "BFR1"))
    upload(client, cabin(X0 + 10, "BFR1"))
    response = client.get("/api/v1/proposals/3326_2024001/compare", params={"from": 1, "to": 2})
    assert response.status_code == 422
    assert "has no finished check" in response.json()["detail"]


def test_unknown_check_is_404(client):
    """A check id that does not exist is a 404 problem."""
    assert client.get("/api/v1/checks/999999").status_code == 404


def test_compare_follows_an_area_by_its_lokal_id_across_a_rename(client, layers):
    """An area renamed between versions keeps its lokalId, so its finding is the same finding
    (issue 18): keys are lokalIds, people still read the feltnavn."""
    lokal_id = "5f0c1d8e-7a43-4c55-9f6d-3326a0000042"
    identifikasjon = {"lokalId": lokal_id, "navnerom": "http://data.geonorge.no/3326/so"}

    def renamed(name: str, x: float) -> dict:
        area = cabin(x, name)
        area["properties"]["identifikasjon"] = identifikasjon
        return area

    v1 = upload(client, renamed("BFR1", X0))
    first = client.post(f"{v1}/checks").json()
    v2 = upload(client, renamed("BFR1 Fjellstølen", X0 + 50))
    client.post(f"{v2}/checks")
    g1 = next(f for f in first["findings"] if f["rule_id"] == "G1")
    assert g1["plan_feature_keys"] == [lokal_id]
    assert g1["plan_feature_names"] == ["BFR1"]
    assert g1["message"].startswith("BFR1 (1120)")
    diff = client.get("/api/v1/proposals/3326_2024001/compare", params={"from": 1, "to": 2}).json()
    moved = [c for c in diff["changed"] if c["to"]["rule_id"] == "G1"]
    assert len(moved) == 1  # less of it above the line: changed, not appeared + disappeared
    assert moved[0]["to"]["plan_feature_names"] == ["BFR1 Fjellstølen"]
    assert not [f for f in diff["appeared"] + diff["disappeared"] if f["rule_id"] == "G1"]
    features = client.get(f"{v2}/features").json()["features"]
    assert [(f["properties"]["lokal_id"], f["properties"]["key"]) for f in features] == [
        (lokal_id, lokal_id)
    ]
