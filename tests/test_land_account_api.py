"""The land account over time: the API, `?date=`, the indicator, the CLI, the queued and the
scheduled recomputation, and the remaining cabin capacity in checks (issue 23, items 3-4)."""

from datetime import date
from pathlib import Path

import numpy as np
import pytest
import shapely
import yaml
from geoalchemy2.shape import to_shape
from shapely.geometry import Point, box
from sqlalchemy import text
from typer.testing import CliRunner

from app.cli import app as cli
from app.db import get_engine, get_sessionmaker
from app.land_account import compute_land_accounts
from app.settings import get_settings
from db.models import LandAccountOrm, MunicipalityOrm
from spatial.figures import thousands
from tests.rule_fixtures import load_raster_layer, load_vector_layer
from tests.workers import job_rows

pytestmark = pytest.mark.db

HEMSEDAL = "3326"


def _inner_point(kommunenummer: str) -> Point:
    with get_sessionmaker()() as session:
        return to_shape(session.get(MunicipalityOrm, kommunenummer).geom).representative_point()


@pytest.fixture
def adopted(tmp_path):
    """An adopted kommuneplan for Hemsedal: a framtidig cabin area (one cabin built in it),
    a nåværende cabin area, and a framtidig housing area; building points."""
    centre = _inner_point(HEMSEDAL)
    x, y = centre.x, centre.y
    cabins_new = box(x, y, x + 300, y + 200)  # 60 000 m²
    cabins_old = box(x, y - 400, x + 200, y - 200)  # 40 000 m²
    housing = box(x - 400, y, x - 200, y + 100)  # 20 000 m²
    load_vector_layer(
        "existing_kommuneplan",
        [
            {
                "geometry": cabins_new,
                "kommunenummer": HEMSEDAL,
                "planidentifikasjon": "KPA1",
                "arealformal": 1120,
                "arealbruksstatus": 2,
                "områdenavn": "Nyfeltet",
            },
            {
                "geometry": cabins_old,
                "kommunenummer": HEMSEDAL,
                "planidentifikasjon": "KPA1",
                "arealformal": 1120,
                "arealbruksstatus": 1,
                "områdenavn": "Gamlefeltet",
            },
            {
                "geometry": housing,
                "kommunenummer": HEMSEDAL,
                "planidentifikasjon": "KPA1",
                "arealformal": 1110,
                "arealbruksstatus": 2,
                "områdenavn": "Bustadfeltet",
            },
        ],
        tmp_path,
    )
    load_vector_layer(
        "buildings",
        [
            {"geometry": Point(x + 150, y + 100), "bygningstype": 161, "bygningsstatus": "TB"},
            {"geometry": Point(x + 100, y - 300), "bygningstype": 161, "bygningsstatus": "TB"},
        ],
        tmp_path,
    )
    return {
        "cabins_new": cabins_new,
        "cabins_old": cabins_old,
        "housing": housing,
        "x": x,
        "y": y,
        "folder": tmp_path,
    }


def _set_computed_at(account_id: int, when: str) -> None:
    with get_engine().begin() as connection:
        connection.execute(
            text("UPDATE land_account SET computed_at = :when WHERE id = :id"),
            {"when": when, "id": account_id},
        )


def test_an_account_is_stored_with_what_it_used_and_read_back(client, adopted):
    """The account records method, rule set and layer versions; its reserves are the unbuilt
    parts of the framtidig areas; the nåværende cabin area counts only in the capacity."""
    (account_id,) = compute_land_accounts(get_settings(), HEMSEDAL, trigger="api")
    body = client.get(f"/api/v1/land-account/{HEMSEDAL}").json()
    assert body["id"] == account_id
    assert body["municipality"] == "Hemsedal"
    assert body["trigger"] == "api"
    assert body["method"]["id"] == "arealregnskap-2026"
    assert body["rule_set"]["id"] == "buskerudplanen-2026"
    assert body["layer_versions"]["existing_kommuneplan"] == 1
    assert body["layer_versions"]["buildings"] == 1
    totals = body["totals"]
    assert totals["reserve_count"] == 2  # the two framtidig areas
    built_circle = Point(0, 0).buffer(10).area  # one cabin, 10 m around it, inside the area
    expected_reserve = adopted["cabins_new"].area - built_circle + adopted["housing"].area
    assert totals["reserve_m2"] == pytest.approx(expected_reserve, abs=2)
    assert totals["by_group"]["fritid"]["reserve_count"] == 1
    assert totals["by_group"]["bolig"]["reserve_m2"] == pytest.approx(20_000, abs=0.5)
    capacity = totals["cabin_capacity"]
    assert capacity["areas"] == 2  # nåværende and framtidig cabin areas
    assert capacity["unbuilt_m2"] == pytest.approx(100_000 - 2 * built_circle, abs=2)
    # 60 000 m² and 40 000 m² are in the 0.75 band (2 000 – 50 000 m²: 0.75; above: 0.5)
    expected_lots = int((60_000 - built_circle) * 0.5 // 1000) + int(
        (40_000 - built_circle) * 0.75 // 1000
    )
    assert capacity["lots"] == expected_lots
    assert [link["rel"] for link in body["links"]][:2] == ["self", "reserves"]

    reserves = client.get(f"/api/v1/land-account/{HEMSEDAL}/reserves?crs=EPSG:25832").json()
    names = {f["properties"]["name"] for f in reserves["features"]}
    assert names == {"Nyfeltet", "Bustadfeltet"}
    nyfeltet = next(f for f in reserves["features"] if f["properties"]["name"] == "Nyfeltet")
    hole = shapely.geometry.shape(nyfeltet["geometry"])
    assert hole.area == pytest.approx(60_000 - built_circle, abs=2)
    assert not hole.contains(Point(adopted["x"] + 150, adopted["y"] + 100))


def test_date_returns_the_account_as_it_stood_and_the_trend_has_one_point_a_year(
    client, adopted, tmp_path
):
    """Two computations a year apart: ?date= picks the older; the indicator has a point per
    year (the year's last account); the county summary lists the latest."""
    (first,) = compute_land_accounts(get_settings(), HEMSEDAL)
    _set_computed_at(first, "2025-06-01T12:00:00+02:00")
    (earlier_same_year,) = compute_land_accounts(get_settings(), HEMSEDAL)
    _set_computed_at(earlier_same_year, "2025-03-01T12:00:00+01:00")
    x, y = adopted["x"], adopted["y"]
    load_vector_layer(
        "buildings",
        [
            {"geometry": Point(x + 150, y + 100), "bygningstype": 161, "bygningsstatus": "TB"},
            {"geometry": Point(x + 50, y + 50), "bygningstype": 161, "bygningsstatus": "TB"},
            {"geometry": Point(x + 100, y - 300), "bygningstype": 161, "bygningsstatus": "TB"},
        ],
        tmp_path,
    )
    (second,) = compute_land_accounts(get_settings(), HEMSEDAL)

    latest = client.get(f"/api/v1/land-account/{HEMSEDAL}").json()
    assert latest["id"] == second
    assert latest["layer_versions"]["buildings"] == 2
    old = client.get(f"/api/v1/land-account/{HEMSEDAL}?date=2025-12-31").json()
    assert old["id"] == first
    assert [p["account_id"] for p in old["trend"]] == [first]  # the trend as it stood then
    assert old["totals"]["reserve_m2"] > latest["totals"]["reserve_m2"]  # one more cabin
    assert client.get(f"/api/v1/land-account/{HEMSEDAL}?date=2025-06-01").json()["id"] == first
    assert client.get(f"/api/v1/land-account/{HEMSEDAL}?date=9999-12-31").json()["id"] == second
    assert client.get("/api/v1/land-account?date=9999-12-31").status_code == 200
    missing = client.get(f"/api/v1/land-account/{HEMSEDAL}?date=2024-12-31")
    assert missing.status_code == 404
    assert "2024-12-31" in missing.json()["detail"]

    trend = latest["trend"]
    assert [(p["year"], p["account_id"]) for p in trend] == [
        (2025, first),
        (date.today().year, second),
    ]
    summary = client.get("/api/v1/land-account").json()
    assert [row["account_id"] for row in summary["municipalities"]] == [second]
    assert summary["county"]["reserve_count"] == latest["totals"]["reserve_count"]
    assert isinstance(summary["county"]["reserve_count"], int)
    as_of = client.get("/api/v1/land-account?date=2025-12-31").json()
    assert [row["account_id"] for row in as_of["municipalities"]] == [first]


def test_unknown_inputs_are_named(client, anonymous):
    """No account yet, an unknown municipality, a malformed date: clear problems."""
    none_yet = anonymous.get(f"/api/v1/land-account/{HEMSEDAL}")
    assert none_yet.status_code == 404
    assert "arealsjekk land-account --kommune 3326" in none_yet.json()["detail"]
    assert anonymous.get("/api/v1/land-account/9999").status_code == 404
    bad = anonymous.get(f"/api/v1/land-account/{HEMSEDAL}?date=i-fjor")
    assert bad.status_code in (400, 422)
    assert "date" in bad.json()["detail"]
    assert anonymous.get("/api/v1/land-account/33x6").status_code in (400, 404, 422)


def test_computing_needs_an_admin_and_queues_one_job(client, anonymous, api_keys, adopted):
    """POST queues a job (admin only); a second request while it waits adds none; a worker
    runs it."""
    assert anonymous.post("/api/v1/land-account").status_code == 401
    planner = {"Authorization": f"Bearer {api_keys['planner_3326']}"}
    assert client.post("/api/v1/land-account", headers=planner).status_code == 403
    admin = {"Authorization": f"Bearer {api_keys['admin']}"}
    first = client.post(f"/api/v1/land-account?kommunenummer={HEMSEDAL}", headers=admin)
    assert first.status_code == 202
    assert first.headers["Location"] == f"http://testserver/api/v1/land-account/{HEMSEDAL}"
    assert first.json()["job_id"] is not None
    again = client.post(f"/api/v1/land-account?kommunenummer={HEMSEDAL}", headers=admin)
    assert again.status_code == 202 and again.json()["job_id"] is None
    assert len(job_rows("land_accounts")) == 1
    unknown = client.post("/api/v1/land-account?kommunenummer=9999", headers=admin)
    assert unknown.status_code == 404

    from app import jobs

    jobs.drain(get_settings())
    assert job_rows("land_accounts") == []
    body = client.get(f"/api/v1/land-account/{HEMSEDAL}").json()
    assert body["trigger"] == "api"


def _run_maintenance() -> None:
    from app import jobs

    with get_engine().begin() as connection:
        connection.execute(
            text(
                "INSERT INTO procrastinate_jobs (queue_name, task_name, queueing_lock, status, "
                "priority, args) VALUES ('maintenance', 'maintenance', 'maintenance', 'todo', 10, "
                "'{\"timestamp\": 0}')"
            )
        )
    jobs.drain(get_settings())


def _accounts(kommunenummer: str) -> list[dict]:
    with get_engine().connect() as connection:
        rows = connection.execute(
            text(
                "SELECT id, trigger, layer_versions FROM land_account "
                "WHERE kommunenummer = :k ORDER BY id"
            ),
            {"k": kommunenummer},
        )
        return [dict(row._mapping) for row in rows]


def test_a_new_layer_version_schedules_a_recomputation(adopted, tmp_path):
    """The maintenance job recomputes the accounts when a layer they read has a new version
    (loaded any way), and not otherwise."""
    compute_land_accounts(get_settings(), HEMSEDAL)
    _run_maintenance()
    assert len(_accounts(HEMSEDAL)) == 1  # nothing changed, nothing recomputed

    x, y = adopted["x"], adopted["y"]
    load_vector_layer(
        "buildings",
        [{"geometry": Point(x + 10, y + 10), "bygningstype": 161, "bygningsstatus": "TB"}],
        tmp_path,
    )
    _run_maintenance()
    accounts = _accounts(HEMSEDAL)
    assert len(accounts) == 2
    assert accounts[-1]["trigger"] == "layers"
    assert accounts[-1]["layer_versions"]["buildings"] == 2
    _run_maintenance()
    assert len(_accounts(HEMSEDAL)) == 2  # up to date again


def test_the_cli_computes_and_reports(adopted):
    """`arealsjekk land-account --kommune 3326` stores an account and prints its figures."""
    result = CliRunner().invoke(cli, ["land-account", "--kommune", HEMSEDAL])
    assert result.exit_code == 0, result.output
    assert "3326 account" in result.output and "cabin lots left" in result.output
    assert len(_accounts(HEMSEDAL)) == 1
    again = CliRunner().invoke(cli, ["land-account", "--kommune", HEMSEDAL, "--if-missing"])
    assert again.exit_code == 0, again.output
    assert "0 land accounts" in again.output
    assert len(_accounts(HEMSEDAL)) == 1  # `make run` does not add one per start
    unknown = CliRunner().invoke(cli, ["land-account", "--kommune", "9999"])
    assert unknown.exit_code == 1
    assert "9999" in unknown.output


def test_the_cli_needs_the_adopted_plans():
    """Without existing_kommuneplan the account cannot be computed, and says why."""
    result = CliRunner().invoke(cli, ["land-account"])
    assert result.exit_code == 1
    assert "existing_kommuneplan" in result.output
    # `make run` with real data but no adopted plans yet: a note, not a failed start.
    quiet = CliRunner().invoke(cli, ["land-account", "--if-missing"])
    assert quiet.exit_code == 0
    assert "note:" in quiet.output


def test_new_cabin_conflicts_mention_the_remaining_capacity(
    client, adopted, tmp_path, override_settings
):
    """§6.2.4: a G2 conflict on a new cabin area says how much is left in the adopted cabin
    areas, from the latest land account; the check shows new cabin areas beside it."""
    x, y = adopted["x"], adopted["y"]
    new_cabins = box(x + 1000, y + 1000, x + 1200, y + 1200)
    load_vector_layer(
        "recreation_areas",
        [{"geometry": new_cabins.buffer(50), "name": "Fjellet", "value": "A"}],
        tmp_path,
    )
    # Terrain well below the tree line, so that G1 measures the new area (ok).
    grid = (x + 900, y + 1300)
    load_raster_layer("elevation", np.full((40, 40), 500.0), tmp_path, grid)
    load_raster_layer("tree_line", np.full((40, 40), 1000.0), tmp_path, grid)
    settings = override_settings(raster_dir=tmp_path)
    (account_id,) = compute_land_accounts(settings, HEMSEDAL)
    plan = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::25832"}},
        "features": [
            {
                "type": "Feature",
                "properties": {
                    "kommunenummer": HEMSEDAL,
                    "planidentifikasjon": "KPA-TEST",
                    "plantype": 20,
                    "arealformal": 1120,
                    "arealbruksstatus": 2,
                    "feltnavn": "BFR9",
                },
                "geometry": shapely.geometry.mapping(new_cabins),
            }
        ],
    }
    upload = client.post("/api/v1/proposals", json=plan)
    assert upload.status_code == 201, upload.text
    check = client.post(f"{upload.json()['links'][0]['href']}/checks")
    assert check.status_code == 201, check.text
    body = check.json()
    g2 = [f for f in body["findings"] if f["rule_id"] == "G2" and f["severity"] == "conflict"]
    assert g2, body["findings"]
    assert "fortettes før nye områder" in g2[0]["message"]
    assert g2[0]["measures"]["land_account_id"] == account_id
    with get_sessionmaker()() as session:
        from app.repositories.land_accounts import cabin_capacity

        lots = cabin_capacity(session, HEMSEDAL).lots
    assert g2[0]["measures"]["existing_cabin_lots"] == lots
    assert body["cabin_areas"]["existing"]["lots"] == lots
    assert body["cabin_areas"]["existing"]["account_id"] == account_id
    assert body["cabin_areas"]["new_areas"] == 1
    assert body["cabin_areas"]["new_area_m2"] == pytest.approx(new_cabins.area, abs=1)
    report = client.get(f"/api/v1/checks/{body['id']}/report.html")
    assert report.status_code == 200
    assert "Fortetting før nye hytteområder (§6.2.4)" in report.text
    assert f"anslagsvis {thousands(lots)} tomter" in report.text


def test_overlapping_adopted_areas_are_named_in_a_note(client, tmp_path):
    """Two plan generations loaded together overlap: the account says so, with the area."""
    centre = _inner_point(HEMSEDAL)
    x, y = centre.x, centre.y
    common = {"kommunenummer": HEMSEDAL, "arealformal": 1110, "arealbruksstatus": 2}
    load_vector_layer(
        "existing_kommuneplan",
        [
            {"geometry": box(x, y, x + 100, y + 100), "planidentifikasjon": "KPA2015", **common},
            {
                "geometry": box(x + 50, y, x + 150, y + 100),
                "planidentifikasjon": "KPA2023",
                **common,
            },
        ],
        tmp_path,
    )
    compute_land_accounts(get_settings(), HEMSEDAL)
    notes = client.get(f"/api/v1/land-account/{HEMSEDAL}").json()["notes"]
    assert any("5 000 m²" in note and "to ganger" in note for note in notes), notes
    assert any("buildings" in note for note in notes)  # no building layer: nothing built


def test_the_lot_density_is_configurable(adopted, tmp_path):
    """A method file with half the lot size (AREALSJEKK_LAND_ACCOUNT_METHOD_FILE) gives twice
    the lots, and the account records that method's checksum."""
    shipped = Path(__file__).parent.parent / "layers" / "rules" / "arealregnskap-2026.yaml"
    document = yaml.safe_load(shipped.read_text("utf-8"))
    document["version"] = "2026.1-tett"
    document["params"]["lot_size_m2"]["value"] = 500
    custom = tmp_path / "tett.yaml"
    custom.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    (default_id,) = compute_land_accounts(get_settings(), HEMSEDAL)
    settings = get_settings().model_copy(update={"land_account_method_file": custom})
    (dense_id,) = compute_land_accounts(settings, HEMSEDAL)
    with get_sessionmaker()() as session:
        default, dense = (session.get(LandAccountOrm, i) for i in (default_id, dense_id))
        assert dense.method_version == "2026.1-tett"
        assert dense.method_checksum != default.method_checksum
        lots = default.totals["cabin_capacity"]["lots"]
        assert dense.totals["cabin_capacity"]["lots"] in (2 * lots, 2 * lots + 1, 2 * lots + 2)
        assert dense.totals["cabin_capacity"]["lot_size_m2"] == 500


def test_one_failing_municipality_does_not_stop_the_others(adopted, monkeypatch):
    """A municipality whose account fails is named; the others are stored. The scheduled run
    recomputes only the stale ones, so the failing one does not re-store the rest."""
    import app.land_account as land_account

    compute_land_accounts(get_settings(), HEMSEDAL)
    compute_land_accounts(get_settings(), "3328")
    real = land_account.compute_account

    def failing_in_hemsedal(session, layers, rule_set, method, municipality, trigger):
        if municipality.kommunenummer == HEMSEDAL:
            raise RuntimeError("geometry trouble with SQL text inside")
        return real(session, layers, rule_set, method, municipality, trigger)

    monkeypatch.setattr(land_account, "compute_account", failing_in_hemsedal)
    with pytest.raises(land_account.LandAccountFailedError) as failed:
        compute_land_accounts(get_settings(), trigger="cli")
    detail = str(failed.value.detail)
    assert "3326" in detail and "intern feil" in detail and "SQL" not in detail
    assert len(failed.value.computed) == 17  # every other municipality is stored
    assert len(_accounts(HEMSEDAL)) == 1

    result = CliRunner().invoke(cli, ["land-account", "--kommune", HEMSEDAL])
    assert result.exit_code == 1 and "3326" in result.output
    quiet = CliRunner().invoke(cli, ["land-account", "--if-missing", "--kommune", "3301"])
    assert quiet.exit_code == 0  # 3301 has one already: nothing to do

    # Nothing changed since: the scheduled run finds no stale account to store again.
    assert compute_land_accounts(get_settings(), trigger="layers", only_stale=True) == []
    x, y = adopted["x"], adopted["y"]
    load_vector_layer(
        "buildings",
        [{"geometry": Point(x + 10, y + 10), "bygningstype": 161, "bygningsstatus": "TB"}],
        adopted["folder"],
    )
    with pytest.raises(land_account.LandAccountFailedError) as again:
        compute_land_accounts(get_settings(), trigger="layers", only_stale=True)
    assert len(again.value.computed) == 17  # stale after the new version, all but Hemsedal
    with pytest.raises(land_account.LandAccountFailedError) as third:
        compute_land_accounts(get_settings(), trigger="layers", only_stale=True)
    assert third.value.computed == []  # only Hemsedal is tried again, the rest stay as stored


def test_a_broken_method_file_is_refused_at_start_not_job_by_job(tmp_path, monkeypatch):
    """The API and the worker refuse to start with a broken method file, naming it; the
    maintenance job (already running) logs it and does the rest of its work."""
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: x\nversion: '1'\n", encoding="utf-8")
    monkeypatch.setenv("AREALSJEKK_LAND_ACCOUNT_METHOD_FILE", str(broken))
    get_settings.cache_clear()
    try:
        from app.main import create_app
        from spatial.land_account import LandAccountError

        with pytest.raises(LandAccountError, match="broken.yaml"):
            create_app()
        worker = CliRunner().invoke(cli, ["worker"])
        assert worker.exit_code == 1 and "broken.yaml" in worker.output
        monkeypatch.setenv("AREALSJEKK_LAND_ACCOUNT_METHOD_FILE", str(tmp_path / "nowhere.yaml"))
        get_settings.cache_clear()
        missing = CliRunner().invoke(cli, ["land-account"])
        assert missing.exit_code == 1 and "nowhere.yaml" in missing.output
        _run_maintenance()
        assert job_rows() == []  # maintenance succeeded (failed jobs would stay)
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
