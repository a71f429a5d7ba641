"""The page /arealregnskap (issue 23, acceptance 5): the county table, a municipality's charts
(reserves by purpose, share in conflict per guideline, the trend), the map of the reserves in
conflict, the files, `?date=`, and the message when no account is computed.

HTTP tests read the served markup (security headers, no inline script, hostile names as
text, figures equal to the API's); the browser test opens the page in Debian's Chromium with
the fixtures of tests/test_e2e_browser.py (every request off this machine refused), sees the
charts and the map draw the reserves, and runs axe-core on it as
tests/test_e2e_accessibility.py does.
"""

from datetime import datetime, timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import text

from app.db import get_engine
from app.land_account import OSLO, compute_land_accounts
from app.land_account_export import daa
from app.settings import get_settings
from spatial.figures import fmt_pct
from tests.test_e2e_accessibility import PHONE, assert_accessible, assert_fits, assert_on_screen
from tests.test_e2e_browser import (  # noqa: F401 (fixtures)
    browser,
    demo_layers,
    page,
    shoot,
)
from tests.test_security_pages import (
    FELTNAVN_IMG,
    FELTNAVN_SCRIPT,
    assert_secure_document,
    audit,
    text_of,
)

pytestmark = pytest.mark.keep_layers

PAGE = "/arealregnskap"
PREFIX = "/api/v1/land-account"
CONFLICTED = "3328"  # Ål: a cabin reserve above the tree line (G1)
EMPTY = "3301"  # Drammen: no adopted reserves in the demo plan
NOT_COMPUTED = "3326"


def move_back(account_id: int, days: int) -> datetime:
    """Date a stored account `days` back, as if computed then; return its new time."""
    with get_engine().begin() as connection:
        return connection.execute(
            text(
                "UPDATE land_account SET computed_at = computed_at - make_interval(days => :days)"
                " WHERE id = :id RETURNING computed_at"
            ),
            {"days": days, "id": account_id},
        ).scalar_one()


def rename_reserves(account_id: int, *names: str) -> None:
    """Give the account's reserves names as a hostile plan file could carry them."""
    with get_engine().begin() as connection:
        positions = (
            connection.execute(
                text(
                    "SELECT position FROM land_account_area WHERE account_id = :id AND "
                    "is_reserve ORDER BY conflict_m2 DESC, position"
                ),
                {"id": account_id},
            )
            .scalars()
            .all()
        )
        for position, name in zip(positions, names, strict=False):
            connection.execute(
                text(
                    "UPDATE land_account_area SET name = :name "
                    "WHERE account_id = :id AND position = :position"
                ),
                {"name": name, "id": account_id, "position": position},
            )


def assert_safe_page(client, response) -> str:
    """Security headers, no inline script, every script a served JavaScript file."""
    assert response.headers["content-type"].startswith("text/html")
    assert_secure_document(response)
    found = audit(response.text)
    assert found.problems == [], found.problems
    assert found.scripts
    for src in found.scripts:
        assert src.startswith("/") and not src.startswith("//"), src
        script = client.get(src)
        assert script.status_code == 200, src
        assert script.headers["content-type"].split(";")[0] == "text/javascript", src
    return text_of(response.text)


def test_county_page_lists_every_municipality(client, accounts):
    response = client.get(PAGE)
    assert response.status_code == 200
    shown = assert_safe_page(client, response)
    summary = client.get(PREFIX).json()
    assert "Arealregnskap" in shown and "Kommunene i Buskerud" in shown
    # All 18 municipalities, linked; those without an account say so.
    assert response.text.count('data-testid="land-county-row"') == 18
    assert f'href="/arealregnskap?kommune={CONFLICTED}"' in response.text
    assert shown.count("ikke beregnet") == 16
    row = next(r for r in summary["municipalities"] if r["kommunenummer"] == CONFLICTED)
    assert daa(row["conflict_m2"]) in shown and fmt_pct(row["conflict_share_pct"]) in shown
    assert daa(summary["county"]["reserve_m2"]) in shown
    for href in (f"{PREFIX}.csv", f"{PREFIX}.xlsx"):
        assert f'href="{href}"' in response.text
    assert 'data-testid="nav-arealregnskap"' in response.text


def test_municipality_page_has_charts_figures_and_links(client, accounts):
    account = client.get(f"{PREFIX}/{CONFLICTED}").json()
    conflicts = client.get(f"{PREFIX}/{CONFLICTED}/reserves?conflicts_only=true").json()
    response = client.get(PAGE, params={"kommune": CONFLICTED})
    assert response.status_code == 200
    html = response.text
    shown = assert_safe_page(client, response)
    totals = account["totals"]
    assert f"{CONFLICTED} {account['municipality']}" in shown
    assert daa(totals["reserve_m2"]) in shown
    assert f"{daa(totals['conflict_m2'])} ({fmt_pct(totals['conflict_share_pct'])})" in shown
    # Three charts, each an image with a title and a description, and a table of its figures.
    for chart in ("chart-groups", "chart-rules", "chart-trend"):
        assert f'data-testid="{chart}-svg"' in html and f'data-testid="{chart}-table"' in html
        assert f'aria-labelledby="{chart}-title {chart}-desc"' in html
    groups = [g for g in totals["by_group"].values() if g["area_m2"] > 0]
    for group in groups:
        assert group["label"] in shown and daa(group["reserve_m2"]) in shown
    for figures in totals["by_rule"].values():
        assert f"{fmt_pct(figures['conflict_share_pct'])} ({daa(figures['conflict_m2'])})" in shown
        assert figures["title"] in shown
    assert html.count('data-testid="chart-bar"') == len(groups) + 4 + len(account["trend"])
    # The reserves in conflict, as the GeoJSON lists them.
    assert html.count('data-testid="land-conflict-row"') == len(conflicts["features"]) >= 1
    # What it was computed from, and the files.
    assert account["method"]["version"] in shown and account["rule_set"]["id"] in shown
    assert "existing_kommuneplan: versjon" in shown
    base = f"{PREFIX}/{CONFLICTED}"
    for href in (
        f"{base}/reserves",
        f"{base}.csv",
        f"{base}.xlsx",
        f"{base}/planvask.html",
        f"{base}/planvask.pdf",
        f"{base}/planvask.geojson",
    ):
        assert f'href="{href}"' in html, href
    assert f'data-geojson="{base}/reserves?conflicts_only=true&amp;crs=CRS84"' in html
    assert 'aria-current="true"' in html  # the municipality's row in the county table


def test_a_municipality_without_reserves_shows_its_notes(client, accounts):
    shown = text_of(client.get(PAGE, params={"kommune": EMPTY}).text)
    note = client.get(f"{PREFIX}/{EMPTY}").json()["notes"][0]
    assert note in shown
    assert "Ingen av reservene er i konflikt" in shown


def test_a_municipality_without_an_account_says_how_to_compute_it(client, accounts):
    response = client.get(PAGE, params={"kommune": NOT_COMPUTED})
    assert response.status_code == 200
    shown = assert_safe_page(client, response)
    assert "Arealregnskapet for 3326 Hemsedal er ikke beregnet" in shown
    assert f"arealsjekk land-account --kommune {NOT_COMPUTED}" in shown
    assert 'id="land-map"' not in response.text


def test_unknown_municipality_is_404_and_a_bad_one_422(client, accounts):
    response = client.get(PAGE, params={"kommune": "9999"})
    assert response.status_code == 404
    assert "Kommunenummer 9999 er ikke en kommune i Buskerud" in text_of(response.text)
    assert_secure_document(response)
    assert client.get(PAGE, params={"kommune": "33a8"}).status_code == 422
    assert client.get(PAGE, params={"date": "2026-02-30"}).status_code == 422
    # What the page's form sends for «Hele fylket» and no date.
    assert client.get(f"{PAGE}?kommune=&date=").status_code == 200


def test_date_shows_the_account_as_it_stood_then(client, accounts):
    old_time = move_back(accounts[CONFLICTED], 400)
    (newer,) = compute_land_accounts(get_settings(), CONFLICTED, trigger="test")
    with get_engine().begin() as connection:  # the newer account lost its conflict
        connection.execute(
            text(
                "UPDATE land_account SET totals = jsonb_set(totals, '{conflict_m2}', '0')"
                " WHERE id = :id"
            ),
            {"id": newer},
        )
    old_day = old_time.astimezone(OSLO).date()
    old = client.get(f"{PREFIX}/{CONFLICTED}", params={"date": old_day.isoformat()}).json()
    assert old["id"] == accounts[CONFLICTED]

    then = text_of(client.get(PAGE, params={"kommune": CONFLICTED, "date": old_day}).text)
    assert old_day.strftime("%d.%m.%Y") in then  # «Viser regnskapet slik det var …»
    assert f"Beregnet {old_time.astimezone(OSLO).strftime('%d.%m.%Y')}" in then
    assert (
        f"{daa(old['totals']['conflict_m2'])} ({fmt_pct(old['totals']['conflict_share_pct'])})"
        in then
    )
    now = text_of(client.get(PAGE, params={"kommune": CONFLICTED}).text)
    assert f"Beregnet {datetime.now(OSLO).strftime('%d.%m.%Y')}" in now
    # The trend as it stood then has the old year only, today's has both; links keep the date.
    years = [str(old_day.year), str(datetime.now(OSLO).year)]

    def trend_years(params: dict) -> list[str]:
        html = client.get(PAGE, params=params).text
        trend = html.split('data-testid="chart-trend-table"', 1)[1].split("</table>", 1)[0]
        return [year for year in years if f'<th scope="row">{year}</th>' in trend]

    assert trend_years({"kommune": CONFLICTED, "date": old_day}) == years[:1]
    assert trend_years({"kommune": CONFLICTED}) == years
    html = client.get(PAGE, params={"kommune": CONFLICTED, "date": old_day}).text
    assert f"{PREFIX}/{CONFLICTED}.csv?date={old_day.isoformat()}" in html
    assert f"{PREFIX}/{CONFLICTED}/planvask.pdf?date={old_day.isoformat()}" in html

    before = old_day - timedelta(days=1)
    missing = text_of(client.get(PAGE, params={"kommune": CONFLICTED, "date": before}).text)
    assert f"er ikke beregnet på eller før {before.strftime('%d.%m.%Y')}" in missing


def test_hostile_reserve_names_are_text(client, accounts):
    rename_reserves(accounts[CONFLICTED], FELTNAVN_IMG, FELTNAVN_SCRIPT)
    response = client.get(PAGE, params={"kommune": CONFLICTED})
    shown = assert_safe_page(client, response)
    assert FELTNAVN_IMG in shown  # the conflicting reserve's row, as text
    assert "<img src=x" not in response.text


def test_browser_draws_the_charts_and_the_map(page, live_server, accounts):  # noqa: F811
    """Chromium: the charts, the map's reserves in conflict (popup text from a hostile name),
    no script error, nothing blocked by the policy, nothing fetched off this machine, axe."""
    rename_reserves(accounts[CONFLICTED], FELTNAVN_IMG)
    outside: list[str] = []

    def refuse(route):
        outside.append(route.request.url)
        route.abort()

    page.context.route(lambda url: urlsplit(url).hostname != "127.0.0.1", refuse)
    conflicts = page.request.get(
        f"{live_server}{PREFIX}/{CONFLICTED}/reserves?conflicts_only=true"
    ).json()["features"]

    assert page.goto(f"{live_server}{PAGE}").status == 200
    page.wait_for_selector("body[data-ready]")
    page.get_by_test_id("land-kommune").select_option(CONFLICTED)
    page.get_by_test_id("land-show").click()
    page.wait_for_url(f"**{PAGE}?kommune={CONFLICTED}*")
    page.wait_for_selector("body[data-ready]")
    page.wait_for_selector(f"#land-map[data-drawn='{len(conflicts)}']")
    for chart in ("chart-groups", "chart-rules", "chart-trend"):
        svg = page.get_by_test_id(f"{chart}-svg")
        assert svg.is_visible()
        assert svg.bounding_box()["height"] > 20
    # The conflicting part of the purpose chart is drawn (red over the bar).
    assert page.locator("#chart-groups .chart-bar-conflict").count() >= 1
    reserves = page.locator("#land-map path.land-reserve")
    assert reserves.count() == len(conflicts) >= 1
    box = page.get_by_test_id("land-map").bounding_box()
    drawn = reserves.first.bounding_box()
    assert drawn["width"] > 10 and box["x"] <= drawn["x"] <= box["x"] + box["width"]
    assert "i konflikt vist på kartet" in page.get_by_test_id("land-map-status").inner_text()
    page.wait_for_timeout(400)
    shoot(page, "land-account", readme=True)

    # The popup of a reserve: the hostile name as text.
    reserves.first.click(force=True)
    popup = page.locator(".land-popup")
    popup.wait_for()
    assert FELTNAVN_IMG in popup.inner_text()
    assert page.evaluate("window.__xss") is None
    assert page.evaluate("window.__cspViolations") == []
    assert page.errors == []
    page.keyboard.press("Escape")
    assert_accessible(page, f"{PAGE}?kommune={CONFLICTED}")

    # The message for a municipality without an account, in the browser too.
    page.goto(f"{live_server}{PAGE}?kommune={NOT_COMPUTED}")
    page.wait_for_selector("body[data-ready]")
    assert "arealsjekk land-account --kommune" in page.get_by_test_id("land-missing").inner_text()
    assert_accessible(page, f"{PAGE}?kommune={NOT_COMPUTED}")

    # On a phone: no sideways scrolling, the picker, the charts and the map on screen.
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server}{PAGE}?kommune={CONFLICTED}")
    page.wait_for_selector(f"#land-map[data-drawn='{len(conflicts)}']")
    assert_fits(page, f"{PAGE} at 390 px")
    for control in ("land-kommune", "land-show", "chart-groups-svg", "chart-rules-svg", "land-map"):
        assert_on_screen(page.get_by_test_id(control), control)
    shoot(page, "phone-land-account")
    assert page.errors == []
    assert outside == [], f"requests left the machine: {outside}"
