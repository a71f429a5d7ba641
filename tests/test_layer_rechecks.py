"""Re-checks when a layer changes (app/rechecks.py): only the plans the change reaches are
re-checked, as jobs, and the layer version's impact lists what changed for whom."""

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin
from shapely.geometry import box
from sqlalchemy import text
from typer.testing import CliRunner

from app.cli import app as cli
from app.db import get_sessionmaker
from app.rechecks import CHANGED_TABLE, CHANGED_VECTOR_FEATURES, WITHIN_REACH, raster_changes
from spatial.crs import CANONICAL_SRID
from tests.plans import collection, encode, feature
from tests.rule_fixtures import load_raster_layer, load_vector_layer
from tests.workers import job_rows, run_jobs

X0, Y0 = 470_000.0, 6_750_000.0  # Hemsedal, EPSG:25832
UTM32 = {"type": "name", "properties": {"name": "EPSG:25832"}}
RASTER_ORIGIN = (X0 - 500.0, Y0 + 600.0)
DEPOSIT_1 = {
    "id": "D1",
    "importance": "regional",
    "geometry": box(X0 + 300, Y0, X0 + 400, Y0 + 100),
}
# Version 2 adds a deposit under plan A's cabin area (X0 + 1000 … X0 + 1200).
DEPOSIT_2 = {
    "id": "D2",
    "importance": "nasjonal",
    "geometry": box(X0 + 1100, Y0, X0 + 1300, Y0 + 100),
}


def deposits_file(folder, *records) -> bytes:
    """A GeoJSON file of deposits (EPSG:25832) as an agency would publish it."""
    frame = gpd.GeoDataFrame(
        [{k: v for k, v in r.items() if k != "geometry"} for r in records],
        geometry=[r["geometry"] for r in records],
        crs=25832,
    )
    path = folder / "deposits.geojson"
    frame.to_file(path, driver="GeoJSON", engine="pyogrio")
    return path.read_bytes()


def load_deposits(client, folder, *records, recheck: bool = False):
    """POST a deposits file as a new version of mineral_deposits."""
    return client.post(
        "/api/v1/layers/mineral_deposits/versions",
        params={"filename": "deposits.geojson", "recheck": str(recheck).lower()},
        content=deposits_file(folder, *records),
        headers={"content-type": "application/geo+json"},
    )


@pytest.fixture
def layers(tmp_path, override_settings, client):
    """A tree line at 1,000 m, terrain at 1,100 m west of X0 + 100 m, and deposit D1."""
    override_settings(raster_dir=tmp_path)
    load_raster_layer("tree_line", np.full((20, 20), 1000.0), tmp_path, RASTER_ORIGIN, cell=50.0)
    terrain = np.full((100, 100), 800.0)
    terrain[:, :60] = 1100.0
    load_raster_layer("elevation", terrain, tmp_path, RASTER_ORIGIN)
    assert load_deposits(client, tmp_path, DEPOSIT_1).status_code == 201
    return tmp_path


def upload_checked(client, planid: str, x: float) -> str:
    """Upload a one-cabin Hemsedal plan (a draft) with its area at x, check it; return its URL."""
    geometry = box(x, Y0, x + 200, Y0 + 100).__geo_interface__
    area = feature(geometry, "BFR1", arealformal=1120, arealbruksstatus=2, feltnavn="BFR1")
    plan = {"kommunenummer": "3326", "planidentifikasjon": planid, "plantype": 20}
    response = client.post(
        "/api/v1/proposals", content=encode(collection(area, plan=plan, crs=UTM32))
    )
    assert response.status_code == 201, response.text
    url = response.json()["links"][0]["href"]
    check = client.post(f"{url}/checks")
    assert check.status_code == 201 and check.json()["status"] == "done", check.text
    return url


def checks_of(client, url: str) -> list[dict]:
    return client.get(f"{url}/checks").json()


def as_key(client, api_keys, name):
    """The client with another role's key (None: anonymous)."""
    client.headers.pop("Authorization", None)
    if name is not None:
        client.headers["Authorization"] = f"Bearer {api_keys[name]}"
    return client


def test_a_new_deposit_rechecks_only_the_plan_it_reaches(client, api_keys, layers, monkeypatch):
    """Plan A lies under the added deposit, plan B 3 km away: loading version 2 with
    recheck=true queues one job; it re-checks A only, and the impact lists A's new conflict."""
    near = upload_checked(client, "NEAR", X0 + 1000)
    far = upload_checked(client, "FAR", X0 - 3000)

    loaded = load_deposits(client, layers, DEPOSIT_1, DEPOSIT_2, recheck=True)
    assert loaded.status_code == 201, loaded.text
    impact_url = "/api/v1/layers/mineral_deposits/versions/2/impact"
    assert {"href": impact_url, "rel": "impact", "type": "application/json"} in loaded.json()[
        "links"
    ]
    # The request only queued the batch: its job selects the plans on a worker.
    waiting = client.get(impact_url).json()
    assert waiting["recheck"]["status"] == "queued"
    assert waiting["previous_version"] == 1
    assert waiting["plans"] == [] and waiting["totals"]["rechecks"] == 0

    # Asked again while it waits: the same batch, no second job.
    again = client.post("/api/v1/layers/mineral_deposits/versions/2/recheck")
    assert again.status_code == 202, again.text
    assert again.headers["location"] == "http://testserver" + impact_url
    assert again.json()["id"] == waiting["recheck"]["id"]
    assert len(job_rows("recheck_layer")) == 1

    run_jobs(monkeypatch, layers)

    assert len(checks_of(client, near)) == 2
    assert len(checks_of(client, far)) == 1  # out of G3's 100 m reach: not re-checked
    impact = client.get(impact_url).json()
    recheck = impact["recheck"]
    assert recheck["status"] == "done"
    assert recheck["reach_m"] == 100.0  # G3's buffer_m, the farthest any rule looks
    assert recheck["proposal_versions"] == 1
    assert recheck["details"]["changed_features"] == 1  # D2 added; D1 identical
    assert impact["totals"] | {} == {
        "rechecks": 1,
        "queued": 0,
        "running": 0,
        "done": 1,
        "failed": 0,
        "changed": 1,
        "unchanged": 0,
        "new_conflicts": 1,
        "resolved_conflicts": 0,
        "new_warnings": 1,
        "resolved_warnings": 0,
    }
    [plan] = impact["plans"]
    assert (plan["proposal_id"], plan["version"], plan["status"]) == ("3326_NEAR", 1, "done")
    assert plan["counts"]["new_conflicts"] == 1 and plan["findings_changed"] is True
    check = client.get(f"/api/v1/checks/{plan['check_id']}").json()
    assert check["layer_versions"]["mineral_deposits"] == 2
    assert plan["previous_check_id"] == check["comparison"]["previous_check_id"]
    # The cabin area overlaps D2 (conflict), and this kommuneplan does not safeguard D2
    # inside its boundary (warning): both new against the check before.
    g3 = {
        f["check"]: (f["severity"], f["comparison"])
        for f in check["findings"]
        if f["rule_id"] == "G3"
    }
    assert g3 == {
        "deposit_overlap": ("conflict", "new"),
        "not_safeguarded": ("warning", "new"),
    }
    assert {
        "href": f"/api/v1/checks/{check['id']}",
        "rel": "check",
        "type": "application/json",
    } in (plan["links"])

    # Done: a later request gets the same batch, and the impact keeps its figures (a
    # second round would compare the plans with their checks against this very version).
    before = client.get(impact_url).json()
    assert (
        client.post("/api/v1/layers/mineral_deposits/versions/2/recheck").json()["id"]
        == recheck["id"]
    )
    assert client.get(impact_url).json() == before


def test_the_impact_shows_drafts_only_to_those_who_may_see_them(
    client, api_keys, layers, monkeypatch
):
    """A's draft is listed for its municipality and the county, not for another
    municipality's planner or anonymous callers; once published, for everyone."""
    near = upload_checked(client, "NEAR", X0 + 1000)
    assert load_deposits(client, layers, DEPOSIT_1, DEPOSIT_2, recheck=True).status_code == 201
    run_jobs(monkeypatch, layers)
    impact_url = "/api/v1/layers/mineral_deposits/versions/2/impact"

    def listed(who):
        body = as_key(client, api_keys, who).get(impact_url).json()
        return [p["proposal_id"] for p in body["plans"]], body["totals"]["new_conflicts"], body

    assert listed("admin")[:2] == (["3326_NEAR"], 1)
    assert listed("forum")[:2] == (["3326_NEAR"], 1)
    assert listed("planner_3326")[:2] == (["3326_NEAR"], 1)
    other, conflicts, body = listed("planner_3303")
    assert (other, conflicts, body["totals"]["rechecks"]) == ([], 0, 0)
    # Who asked and how many plans were touched (A's draft among them) are the county's.
    assert body["recheck"]["requested_by"] is None
    assert body["recheck"]["proposal_versions"] is None
    assert listed(None)[:2] == ([], 0)
    as_key(client, api_keys, "admin").post(f"{near.rsplit('/versions', 1)[0]}/publish")
    assert listed(None)[:2] == (["3326_NEAR"], 1)


def test_only_the_current_version_is_rechecked_against_and_unknowns_are_problems(client, layers):
    """An older version is a 409 naming the current one; unknown layers and versions 404."""
    assert load_deposits(client, layers, DEPOSIT_1, DEPOSIT_2).status_code == 201
    old = client.post("/api/v1/layers/mineral_deposits/versions/1/recheck")
    assert old.status_code == 409
    assert old.headers["content-type"] == "application/problem+json"
    assert "only version 2 can be re-checked against" in old.json()["detail"]
    nb = client.post(
        "/api/v1/layers/mineral_deposits/versions/1/recheck", headers={"Accept-Language": "nb"}
    )
    assert "bare versjon 2 kan kontrolleres mot på nytt" in nb.json()["detail"]
    missing = client.get("/api/v1/layers/mineral_deposits/versions/9/impact")
    assert missing.status_code == 404
    assert missing.json()["detail"] == "layer 'mineral_deposits' has no version 9"
    assert client.get("/api/v1/layers/skoggrense/versions/1/impact").status_code == 404
    # No re-check asked for: the impact says so rather than listing nothing as if checked.
    none = client.get("/api/v1/layers/mineral_deposits/versions/2/impact").json()
    assert none["recheck"] is None and none["previous_version"] == 1


def test_rechecking_needs_admin(client, api_keys, layers):
    """Queuing a county-wide batch of checks is the county admin's."""
    for who, status in (("planner_3326", 403), ("forum", 403), (None, 401)):
        response = as_key(client, api_keys, who).post(
            "/api/v1/layers/mineral_deposits/versions/1/recheck"
        )
        assert response.status_code == status, (who, response.text)


def test_a_changed_tree_line_rechecks_the_plans_on_the_changed_cells(client, layers, monkeypatch):
    """A raster on the same grid: the blocks whose cells differ are the changed area. Plan C
    on the terrain above the old line is re-checked (its conflict becomes a warning); plan A,
    1 km east of the raster, is not."""
    on_raster = upload_checked(client, "ONRASTER", X0)
    off_raster = upload_checked(client, "NEAR", X0 + 1000)
    load_raster_layer("tree_line", np.full((20, 20), 1150.0), layers, RASTER_ORIGIN, cell=50.0)
    response = client.post("/api/v1/layers/tree_line/versions/2/recheck")
    assert response.status_code == 202, response.text
    run_jobs(monkeypatch, layers)

    assert len(checks_of(client, on_raster)) == 2
    assert len(checks_of(client, off_raster)) == 1
    impact = client.get("/api/v1/layers/tree_line/versions/2/impact").json()
    details = impact["recheck"]["details"]
    assert details["grid"] == "same" and details["changed_blocks"] == 1
    assert details["changed_bounds"] == [X0 - 500, Y0 - 400, X0 + 500, Y0 + 600]
    [plan] = impact["plans"]
    assert plan["proposal_id"] == "3326_ONRASTER"
    counts = plan["counts"]
    assert (counts["resolved_conflicts"], counts["new_warnings"]) == (1, 1)


def write_grid(path, values, origin=(X0, Y0)):
    """A float32 GeoTIFF in EPSG:25832 with 1 m cells and its north-west corner at origin."""
    profile = {
        "driver": "GTiff",
        "width": values.shape[1],
        "height": values.shape[0],
        "count": 1,
        "dtype": "float32",
        "crs": "EPSG:25832",
        "transform": from_origin(*origin, 1.0, 1.0),
        "nodata": -9999.0,
    }
    with rasterio.open(path, "w", **profile) as dataset:
        dataset.write(values.astype("float32"), 1)
    return path


def test_raster_changes_compare_blocks_or_extents(tmp_path):
    """Same grid: only the 512-cell blocks that differ; another grid: both extents."""
    values = np.full((600, 1200), 900.0)
    old = write_grid(tmp_path / "old.tif", values)
    changed = values.copy()
    changed[550, 1100] = 901.0  # in the block of rows 512-599, columns 1024-1199
    changed[10, 10] = np.nan  # NaN against a value is a change; NaN against NaN is not
    values_nan = values.copy()
    values_nan[20, 20] = np.nan
    changed[20, 20] = np.nan
    old = write_grid(tmp_path / "old.tif", values_nan)
    new = write_grid(tmp_path / "new.tif", changed)
    area, details = raster_changes(old, new)
    assert (details["blocks"], details["changed_blocks"]) == (6, 2)
    expected = box(X0 + 1024, Y0 - 600, X0 + 1200, Y0 - 512).union(box(X0, Y0 - 512, X0 + 512, Y0))
    assert area.symmetric_difference(expected).area == pytest.approx(0)
    same, details = raster_changes(old, old)
    assert same.is_empty and details["changed_blocks"] == 0
    moved = write_grid(tmp_path / "moved.tif", values, origin=(X0 + 100, Y0))
    area, details = raster_changes(old, moved)
    assert details["grid"] == "different"
    assert area.bounds == (X0, Y0 - 600, X0 + 1300, Y0)


def test_the_spatial_filters_use_the_gist_indexes(client, layers):
    """The selection of plans runs through plan_feature's GiST index (ST_DWithin), and the
    comparison of versions through layer_feature's (version, geometry) GiST index."""
    upload_checked(client, "NEAR", X0 + 1000)
    # Two versions of a layer of some size, analysed, so the planner weighs the indexes as on
    # real data (on three rows any access is as good as another).
    squares = [
        {"id": f"S{i}-{j}", "importance": "lokal", "geometry": box(*corner, *corner + 100)}
        for i in range(20)
        for j in range(20)
        for corner in [np.array([X0 + i * 2000, Y0 - 5000 - j * 2000])]
    ]
    load_vector_layer("mineral_deposits", squares, layers)
    load_vector_layer("mineral_deposits", [*squares, DEPOSIT_2], layers)
    with get_sessionmaker()() as session:
        session.execute(text("ANALYZE layer_feature"))
        new_id, old_id = session.execute(
            text(
                "SELECT max(id), max(id) FILTER (WHERE version < (SELECT max(version) FROM "
                "layer_version WHERE layer_id = 'mineral_deposits')) FROM layer_version "
                "WHERE layer_id = 'mineral_deposits'"
            )
        ).one()
        session.execute(text(f"CREATE TEMP TABLE {CHANGED_TABLE} (geom geometry(Geometry, 25832))"))
        ids = {"new_id": new_id, "old_id": old_id}

        def diff_plan() -> str:
            explain = text(f"EXPLAIN {CHANGED_VECTOR_FEATURES}")
            return "\n".join(session.execute(explain, ids).scalars())

        # Left to itself the planner hashes on geometry and attributes together, never on the
        # attributes alone (which many features share: a quadratic bucket).
        hashed = diff_plan()
        if "Hash Cond" in hashed:
            assert all("geom" in line for line in hashed.splitlines() if "Hash Cond" in line)
        session.execute(text("SET LOCAL enable_seqscan = off"))
        session.execute(text("SET LOCAL enable_hashjoin = off"))
        session.execute(text("SET LOCAL enable_mergejoin = off"))
        diff = diff_plan()
        assert "ix_layer_feature_version_geom" in diff, diff
        assert "~=" in diff.split("ix_layer_feature_version_geom", 1)[1].split("\n")[1], diff

        # On plan_feature's few rows the version b-tree would do as well: set it aside.
        session.execute(text("SET LOCAL enable_indexscan = off"))
        session.execute(
            text(f"INSERT INTO {CHANGED_TABLE} VALUES (ST_GeomFromText(:w, :srid))"),
            {"w": DEPOSIT_2["geometry"].wkt, "srid": CANONICAL_SRID},
        )
        session.execute(text(f"ANALYZE {CHANGED_TABLE}"))  # as the job does
        plan = "\n".join(
            session.execute(text(f"EXPLAIN {WITHIN_REACH}"), {"reach_m": 100.0}).scalars()
        )
        assert "ix_plan_feature_geom" in plan, plan
        assert "&&" in plan.split("ix_plan_feature_geom", 1)[1].split("\n")[1], plan
        session.rollback()


def test_the_cli_queues_a_recheck_and_a_moved_nearest_hub_reaches_far(client, layers, monkeypatch):
    """`layers load --recheck`: G5 measures each area's nearest hub however far, so a hub
    moved 2 km from plan B reaches B (its nearest), not A (nearer another)."""
    monkeypatch.setenv("AREALSJEKK_RASTER_DIR", str(layers))
    near_a = {
        "navn": "A-stasjon",
        "type": "lokalt knutepunkt",
        "geometry": box(X0 + 1500, Y0, X0 + 1501, Y0 + 1).centroid,
    }
    far_b = {
        "navn": "B-stasjon",
        "type": "lokalt knutepunkt",
        "geometry": box(X0 - 5000, Y0, X0 - 4999, Y0 + 1).centroid,
    }

    def hubs_file(*records):
        frame = gpd.GeoDataFrame(
            [{k: v for k, v in r.items() if k != "geometry"} for r in records],
            geometry=[r["geometry"] for r in records],
            crs=25832,
        )
        path = layers / "hubs.geojson"
        frame.to_file(path, driver="GeoJSON", engine="pyogrio")
        return str(path)

    runner = CliRunner()
    first = runner.invoke(cli, ["layers", "load", "transport_hubs", hubs_file(near_a, far_b)])
    assert first.exit_code == 0, first.output
    a = upload_checked(client, "NEAR", X0 + 1000)
    b = upload_checked(client, "FAR", X0 - 3000)
    moved = {**far_b, "geometry": box(X0 - 5500, Y0, X0 - 5499, Y0 + 1).centroid}
    args = ["layers", "load", "transport_hubs", hubs_file(near_a, moved), "--recheck"]
    second = runner.invoke(cli, args)
    assert second.exit_code == 0, second.output
    assert "transport_hubs: re-check 1 queued" in second.output
    assert "/api/v1/layers/transport_hubs/versions/2/impact" in second.output
    again = runner.invoke(cli, args)
    assert "transport_hubs: unchanged, so nothing to re-check" in again.output

    run_jobs(monkeypatch, layers)
    assert (len(checks_of(client, a)), len(checks_of(client, b))) == (1, 2)
    recheck = client.get("/api/v1/layers/transport_hubs/versions/2/impact").json()["recheck"]
    assert recheck["requested_by"] == "arealsjekk layers load"
    assert recheck["details"]["nearest"] is True and recheck["proposal_versions"] == 1
