"""The planvask (issue 23, item 2): a municipality's adopted reserves in conflict with the
guidelines, heaviest first, as HTML, PDF and GeoJSON for QGIS.

A small adopted kommuneplan in Hemsedal is loaded as the layer existing_kommuneplan beside a
tree line, a terrain model and a mineral deposit, and its land account computed; the
reports are read back over the API.
"""

import json
import re

import numpy as np
import pytest
from markupsafe import escape
from shapely.geometry import Point, box, shape
from sqlalchemy import text as sql

from app.db import get_engine
from app.land_account import compute_land_accounts, get_method
from app.reports import maps, planvask
from app.reports.data import without_layer_ids
from app.reports.planvask import WEIGHT_TEXT
from app.settings import get_settings
from spatial.figures import fmt_m, fmt_m2, fmt_pct
from tests.report_data import HEMSEDAL_XY, assert_pdf
from tests.rule_fixtures import load_raster_layer, load_vector_layer
from tests.test_gis_clients import gdal

BOKMAL = {"Accept-Language": "nb"}
HOSTILE = "<script>alert('planvask')</script>"
HOSTILE_PLAN = '<img src=x onerror="alert(1)">'
X0, Y0 = HEMSEDAL_XY
BASE = "/api/v1/land-account/3326"
# The adopted areas: (områdenavn, geometry, arealformål, arealbruksstatus, planidentifikasjon).
# The terrain is 1 100 m west of X0 + 100 (above the tree line at 1 000 m), 950 m up to
# X0 + 250 (the G1 transition zone) and 800 m east of it; the deposit is X0+300..X0+400.
ADOPTED = [
    # Cabins above the tree line (20 000 m², a conflict with G1) and into the transition
    # zone (5 000 m², a warning); more than G3's 100 m from the deposit.
    ("Storefjell øst", box(X0 - 100, Y0, X0 + 150, Y0 + 100), 1120, 2, "KPA2018"),
    # Housing on the deposit: 10 000 m² in conflict with G3; a hostile name and plan id.
    (HOSTILE, box(X0 + 300, Y0, X0 + 400, Y0 + 100), 1110, 2, HOSTILE_PLAN),
    # Cabins in the transition zone only: a warning (G1), no conflict.
    ("Storefjell vest", box(X0 + 120, Y0 + 200, X0 + 240, Y0 + 300), 1120, 2, "KPA2018"),
    # Housing far from everything: a reserve without conflict, not in the planvask.
    ("Bygdetunet", box(X0 + 300, Y0 - 300, X0 + 400, Y0 - 200), 1110, 2, "KPA2018"),
    # Existing cabins above the tree line: nåværende, not a reserve.
    ("Gamlestølen", box(X0 - 400, Y0 + 200, X0 - 300, Y0 + 300), 1120, 1, "KPA2018"),
]


def load_planvask_layers(folder) -> None:
    """Tree line, terrain in three bands, a regional deposit, a building, the adopted plan."""
    origin = (X0 - 500.0, Y0 + 600.0)
    load_raster_layer("tree_line", np.full((20, 20), 1000.0), folder, origin, cell=50.0)
    terrain = np.full((100, 100), 800.0)
    terrain[:, :60] = 1100.0
    terrain[:, 60:75] = 950.0
    load_raster_layer("elevation", terrain, folder, origin)
    deposit = {"geometry": box(X0 + 300, Y0, X0 + 400, Y0 + 100), "importance": "regional"}
    load_vector_layer("mineral_deposits", [deposit], folder)
    # A building point in the clear housing area: its surroundings count as built.
    building = {"geometry": Point(X0 + 350, Y0 - 250), "bygningsstatus": "TB"}
    load_vector_layer("buildings", [building], folder)
    load_vector_layer(
        "existing_kommuneplan",
        [
            {
                "geometry": geometry,
                "arealformal": code,
                "arealbruksstatus": status,
                "planidentifikasjon": planid,
                "kommunenummer": "3326",
                "omradenavn": name,
            }
            for name, geometry, code, status, planid in ADOPTED
        ],
        folder,
    )


@pytest.fixture
def account(client, tmp_path, override_settings) -> dict:
    """The layers loaded and Hemsedal's land account computed; the account as the API gives it."""
    settings = override_settings(raster_dir=tmp_path)
    load_planvask_layers(tmp_path)
    compute_land_accounts(settings, "3326", trigger="cli")
    response = client.get(BASE)
    assert response.status_code == 200, response.text
    return response.json()


def planvask_geojson(client, query: str = "") -> dict:
    """The planvask GeoJSON."""
    response = client.get(f"{BASE}/planvask.geojson{query}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/geo+json")
    return response.json()


def test_geojson_lists_conflicts_then_warnings_heaviest_first(client, account):
    """The features are the reserves to wash in weight order, with their figures per
    guideline, paragraphs, messages and the method's actions."""
    body = planvask_geojson(client)
    features = body["features"]
    props = [f["properties"] for f in features]
    assert [p["rank"] for p in props] == list(range(1, len(props) + 1))
    assert [f["id"] for f in features] == [p["rank"] for p in props]
    # Conflicts (G1 20 000 m², G3 10 000 m²) before the warning (G1 transition zone).
    assert [p["severity"] for p in props] == ["conflict", "conflict", "warning"]
    assert [p["severity_label"] for p in props] == ["Konflikt", "Konflikt", "Advarsel"]
    assert props[0]["conflict_m2"] == pytest.approx(20_000, rel=0.01)
    assert props[1]["conflict_m2"] == pytest.approx(10_000, rel=0.01)
    assert props[2]["conflict_m2"] == 0 and props[2]["weight_m2"] > 0
    assert props[0]["weight_m2"] > props[1]["weight_m2"]
    assert props[0]["guidelines"] == "G1" and props[1]["guidelines"] == "G3"
    assert props[0]["name"] == "Storefjell øst" and props[2]["name"] == "Storefjell vest"
    assert props[1]["name"] == HOSTILE and props[1]["planidentifikasjon"] == HOSTILE_PLAN
    # The same order as the account's reserves in conflict, and the same figures.
    reserves = client.get(f"{BASE}/reserves?conflicts_only=true").json()["features"]
    assert [p["source_key"] for p in props[:2]] == [r["properties"]["source_key"] for r in reserves]
    # Every entry, warnings too, has the number the reserves (and the CSV's «Nr.») give it.
    numbered = client.get(f"{BASE}/reserves").json()["features"]
    number_of = {r["properties"]["source_key"]: r["id"] for r in numbered}
    assert [number_of[p["source_key"]] for p in props] == [p["rank"] for p in props]
    for prop, reserve in zip(props, reserves, strict=False):
        for key in ("name", "planidentifikasjon", "arealformal", "reserve_m2", "conflict_m2"):
            assert prop[key] == reserve["properties"][key], key
        assert prop["conflict_share_pct"] == reserve["properties"]["conflict_share_pct"]
    # Every feature has the same keys, a column per guideline of the method.
    keys = [list(p) for p in props]
    assert all(k == keys[0] for k in keys)
    rules = list(account["totals"]["by_rule"])
    for rule_id in rules:
        assert f"{rule_id.lower()}_conflict_m2" in keys[0]
    assert props[0]["g1_conflict_m2"] == props[0]["conflict_m2"]
    assert props[1]["g3_conflict_m2"] == props[1]["conflict_m2"]
    assert props[2]["g1_warning_m2"] == props[2]["weight_m2"]
    # Text for people in bokmål: the arealformål's name, the paragraph and the method's action.
    method = get_method(get_settings())
    assert props[0]["arealformal_name"] == "Fritidsbebyggelse"
    assert props[0]["arealbruksstatus_name"] == "Framtidig"
    assert props[0]["actions"] == f"G1: {method.actions['G1']}"
    assert props[1]["actions"] == f"G3: {method.actions['G3']}"
    assert account["totals"]["by_rule"]["G1"]["paragraph"] in props[0]["paragraphs"]
    assert "skoggrensen" in props[0]["messages"]
    # Not in the planvask: the reserve without conflict and the existing area.
    assert len(props) == 3
    # The collection names the account; CRS84 by default, another CRS on request.
    assert body["account_id"] == account["id"] and "crs" not in body
    lon, lat = features[0]["geometry"]["coordinates"][0][0][0]
    assert 7 < lon < 10 and 60 < lat < 62
    utm = client.get(f"{BASE}/planvask.geojson?crs=EPSG:25832")
    assert utm.headers["content-crs"] == "<http://www.opengis.net/def/crs/EPSG/0/25832>"
    geometry = shape(utm.json()["features"][0]["geometry"])
    assert geometry.area == pytest.approx(props[0]["reserve_m2"], rel=1e-3)


def test_html_has_entries_in_weight_order_and_the_account_figures(client, account):
    """The report names the account, method and rule set, says what a reserve is, shows the
    account's figures and the reserves in weight order with paragraph, messages and action."""
    response = client.get(f"{BASE}/planvask.html")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert '<html lang="nb">' in html
    totals = account["totals"]
    settings = get_settings()
    method = get_method(settings)

    # Header: municipality, account, method, rule set, what a reserve is (from the method).
    for text in (
        "Planvask for Hemsedal kommune",
        "Hemsedal (3326)",
        f"Nr. {account['id']}",
        f"{account['method']['id']}, versjon {account['method']['version']}",
        account["method"]["checksum"],
        f"{account['rule_set']['id']}, versjon {account['rule_set']['version']}",
        account["rule_set"]["checksum"],
        f"innenfor {fmt_m(method.params.built_buffer_m)} fra et bygningspunkt",
        "arealbruksstatus framtidig",
        WEIGHT_TEXT,
    ):
        assert text in " ".join(html.split()), text
    for layer_id in ("tree_line", "elevation", "mineral_deposits", "existing_kommuneplan"):
        assert account["layer_versions"][layer_id] is not None

    # Summary: the figures of GET /api/v1/land-account/3326.
    summary = html[html.index('id="summary"') : html.index('id="overview"')]
    for text in (
        f"{totals['reserve_count']} reserver, {fmt_m2(totals['reserve_m2'])}",
        f"{totals['reserves_in_conflict']} reserver, {fmt_m2(totals['conflict_m2'])}",
        fmt_pct(totals["conflict_share_pct"]),
    ):
        assert text in summary, text
    by_rule = summary[summary.index('id="by-rule"') :]
    for rule_id, figures in totals["by_rule"].items():
        row = by_rule[by_rule.index(f"<strong>{rule_id}</strong>") :]
        row = row[: row.index("</tr>")]
        assert str(escape(figures["title"])) in row
        assert (
            fmt_m2(figures["conflict_m2"]) in row and fmt_pct(figures["conflict_share_pct"]) in row
        )
        assert fmt_m2(figures["warning_m2"]) in row and fmt_m2(figures["unknown_m2"]) in row

    # The overview and a detail map per reserve, as embedded PNGs.
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(images) == 1 + 3

    # Entries in weight order: the GeoJSON's, conflicts in their section, then the warning.
    features = planvask_geojson(client)["features"]
    conflicts = html[html.index('id="conflicts"') : html.index('id="warnings"')]
    warnings = html[html.index('id="warnings"') : html.index('id="actions"')]
    positions = []
    for feature in features:
        props = feature["properties"]
        section = conflicts if props["severity"] == "conflict" else warnings
        start = section.index(f'id="reserve-{props["rank"]}"')
        entry = section[start : section.index("</article>", start)]
        positions.append((props["severity"], start))
        assert str(escape(props["name"])) in entry
        assert fmt_m2(props["reserve_m2"]) in entry
        rule_id = props["guidelines"]
        paragraph = totals["by_rule"][rule_id]["paragraph"]
        assert str(escape(paragraph)) in entry
        assert str(escape(method.action(rule_id, props["severity"]))) in entry
        if props["severity"] == "conflict":
            assert f"I konflikt: {fmt_m2(props['conflict_m2'])}" in entry
            assert fmt_pct(props["conflict_share_pct"]) in entry
    assert [p for _, p in positions[:2]] == sorted(p for _, p in positions[:2])
    # ... which is the account's own order of its reserves in conflict, heaviest first.
    heaviest = client.get(f"{BASE}/reserves?conflicts_only=true").json()["features"]
    names = [str(escape(r["properties"]["name"])) for r in heaviest]
    assert len(names) == 2
    assert conflicts.index(names[0]) < conflicts.index(names[1])
    assert "Fritidsbebyggelse" in conflicts and "Boligbebyggelse" in conflicts
    # The rule engine's messages, as stored with the account.
    with get_engine().connect() as connection:
        stored = connection.execute(
            sql(
                "SELECT severity, message FROM land_account_finding WHERE account_id = :a "
                "AND severity IN ('conflict', 'warning')"
            ),
            {"a": account["id"]},
        ).all()
    assert {severity for severity, _ in stored} == {"conflict", "warning"}
    for _, message in stored:
        assert str(escape(without_layer_ids(message))) in conflicts + warnings
    assert "skoggrensen" in conflicts and "overgangssonen" in warnings
    # Not in the planvask: the reserve without conflict.
    reserves = client.get(f"{BASE}/reserves").json()["features"]
    clear = [r["properties"]["name"] for r in reserves if r["properties"]["conflict_m2"] == 0]
    listed = {f["properties"]["name"] for f in features}
    unlisted = [name for name in clear if name not in listed]
    assert len(unlisted) == 1
    assert str(escape(unlisted[0])) not in conflicts + warnings


def test_hostile_names_are_escaped(client, account):
    """A name and a planidentifikasjon with markup from a layer file are shown as text."""
    html = client.get(f"{BASE}/planvask.html").text
    for hostile in (HOSTILE, HOSTILE_PLAN):
        assert hostile not in html
        assert str(escape(hostile)) in html
    assert "<script" not in html
    assert "onerror" not in html.replace("onerror=&#34;", "")


def test_pdf_is_a_pdf_with_the_municipality_and_the_first_reserve(client, account, tmp_path):
    """planvask.pdf is an A4 PDF whose text names the municipality and the heaviest reserve."""
    first = planvask_geojson(client)["features"][0]["properties"]["name"]
    response = client.get(f"{BASE}/planvask.pdf")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert 'filename="arealsjekk-planvask-3326.pdf"' in response.headers["content-disposition"]
    assert_pdf(response.content, tmp_path, "Planvask for Hemsedal kommune", first, "Side 1 av")


@pytest.mark.slow
def test_gdal_reads_the_geojson(client, account, live_server, tmp_path):
    """ogrinfo opens the GeoJSON from the service's URL (as QGIS would) and from a file, with
    the features in order and typed fields; ogr2ogr copies it to a GeoPackage."""
    summary = gdal("ogrinfo", "-ro", "-so", "-al", f"{live_server}{BASE}/planvask.geojson").stdout
    assert "Feature Count: 3" in summary
    assert re.search(r"Geometry: (Multi )?Polygon", summary)
    fields = dict(re.findall(r"^(\w+): (\w+)", summary, re.M))
    assert fields["rank"] == "Integer" and fields["name"] == "String"
    assert fields["conflict_m2"] == "Real" and fields["g1_conflict_m2"] == "Real"
    path = tmp_path / "planvask.geojson"
    path.write_text(json.dumps(planvask_geojson(client, "?crs=EPSG:25832")))
    package = tmp_path / "planvask.gpkg"
    gdal("ogr2ogr", "-f", "GPKG", str(package), str(path))
    listing = gdal("ogrinfo", "-ro", "-al", "-fields=YES", str(package)).stdout
    ranks = [int(n) for n in re.findall(r"^\s+rank \(Integer\) = (\d+)", listing, re.M)]
    assert ranks == [1, 2, 3]
    assert 'EPSG",25832' in listing or "25832" in listing


def test_no_account_is_a_bokmal_404(client, account):
    """Before the first account there is no planvask: a 404 problem in bokmål."""
    for suffix in ("html", "pdf", "geojson"):
        response = client.get(f"{BASE}/planvask.{suffix}?date=2000-01-01", headers=BOKMAL)
        assert response.status_code == 404, suffix
        assert response.headers["content-type"] == "application/problem+json"
        assert "arealregnskapet for kommune 3326 er ikke beregnet" in response.json()["detail"]


def test_the_account_links_the_planvask_and_dates_carry_over(client, account):
    """The account links its planvask in three formats; ?date= picks the account and the
    report's own links keep it."""
    links = {(link["href"], link["type"]) for link in account["links"] if link["rel"] == "planvask"}
    assert links == {
        (f"{BASE}/planvask.html", "text/html"),
        (f"{BASE}/planvask.pdf", "application/pdf"),
        (f"{BASE}/planvask.geojson", "application/geo+json"),
    }
    html = client.get(f"{BASE}/planvask.html?date=2099-12-31").text
    assert f"{BASE}/planvask.pdf?date=2099-12-31" in html
    assert planvask_geojson(client, "?date=2099-12-31")["account_id"] == account["id"]


def test_the_report_is_bounded_and_says_what_it_leaves_out(client, account, monkeypatch):
    """Past the detailed entries the rest are rows of a table, past the maps' bound entries
    have no detail map; the report says so and links the GeoJSON, which has them all."""
    monkeypatch.setattr(planvask, "MAX_DETAILED_ENTRIES", 1)
    monkeypatch.setattr(planvask, "MAX_TABLE_ENTRIES", 1)
    monkeypatch.setattr(maps, "MAX_DETAIL_MAPS", 0)
    html = client.get(f"{BASE}/planvask.html").text
    assert html.count("data:image/png;base64,") == 1  # the overview only
    assert "1 reserve er vist uten detaljkart" in html
    more = html[html.index('id="more"') : html.index('id="actions"')]
    flat = " ".join(more.split())
    assert "Planvasken har 3 reserver; de 1 tyngste er vist over" in flat
    assert "Tabellen viser de neste 1; 1 er ikke med i rapporten" in flat
    assert 'id="reserve-2"' in more and 'id="reserve-3"' not in html
    assert f"{BASE}/planvask.geojson" in more
    assert len(planvask_geojson(client)["features"]) == 3
