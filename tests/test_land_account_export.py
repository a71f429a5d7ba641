"""The land account's CSV and XLSX files (issue 23, acceptance 5): read back with the csv
module and openpyxl, every figure equal to the API's JSON; Norwegian Excel's CSV dialect;
file names; hostile names stay text (no formula).

The accounts are computed from the synthetic demo layers (Ål 3328 has a reserve in conflict
with G1, Drammen 3301 has no adopted reserves).
"""

import csv
import io
from datetime import datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from app.db import get_engine
from app.land_account import OSLO
from app.land_account_export import Column, Sheet, safe_text, to_csv
from tests.test_e2e_browser import demo_layers  # noqa: F401 (module fixture)

pytestmark = pytest.mark.keep_layers

PREFIX = "/api/v1/land-account"
CONFLICTED = "3328"
EMPTY = "3301"
TODAY = datetime.now(OSLO).date().isoformat()
FORMULA_NAME = '=HYPERLINK("http://example.invalid","klikk")'
MARKUP_NAME = '<img src=x onerror="window.__xss=1">'


def number(field: str) -> float:
    """A CSV figure in Norwegian Excel's form ('1234,5') as a float."""
    assert " " not in field and "." not in field, field
    return float(field.replace(",", "."))


def read_csv(response) -> list[dict[str, str]]:
    """Check the CSV dialect (BOM, `;`, CRLF) and parse the file into rows by heading."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    body = response.content
    assert body.startswith(b"\xef\xbb\xbf"), "no UTF-8 byte order mark"
    decoded = body.decode("utf-8-sig")
    assert "\r\n" in decoded and decoded.endswith("\r\n")
    return list(csv.DictReader(io.StringIO(decoded, newline=""), delimiter=";"))


def read_xlsx(response) -> dict[str, list[dict[str, object]]]:
    """Parse an XLSX answer into {sheet: rows by heading}."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    workbook = load_workbook(io.BytesIO(response.content))
    sheets = {}
    for worksheet in workbook.worksheets:
        rows = list(worksheet.iter_rows(values_only=True))
        sheets[worksheet.title] = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    return sheets


def test_county_csv_has_every_figure_of_the_summary(client, accounts):
    summary = client.get(PREFIX).json()
    response = client.get(f"{PREFIX}.csv")
    assert response.headers["content-disposition"] == (
        f'attachment; filename="arealregnskap-buskerud-{TODAY}.csv"'
    )
    rows = read_csv(response)
    by_number = {row["Kommunenummer"]: row for row in rows if row["Kommunenummer"]}
    assert set(by_number) == {CONFLICTED, EMPTY}
    for api in summary["municipalities"]:
        row = by_number[api["kommunenummer"]]
        assert row["Kommune"] == api["municipality"]
        assert number(row["Arealreserve (m²)"]) == api["reserve_m2"]
        assert number(row["Reserve i konflikt (m²)"]) == api["conflict_m2"]
        assert number(row["Andel i konflikt (%)"]) == api["conflict_share_pct"]
        assert int(row["Reserver i konflikt"]) == api["reserves_in_conflict"]
        assert int(row["Mulige hyttetomter"]) == api["cabin_lots"]
        for rule, conflict in api["by_rule"].items():
            assert number(row[f"{rule} i konflikt (m²)"]) == conflict
    (total,) = [row for row in rows if not row["Kommunenummer"]]
    assert number(total["Arealreserve (m²)"]) == summary["county"]["reserve_m2"]
    assert number(total["Reserve i konflikt (m²)"]) == summary["county"]["conflict_m2"]
    assert number(by_number[CONFLICTED]["Reserve i konflikt (m²)"]) > 0


def test_municipality_csv_lists_the_reserves_as_the_geojson(client, accounts):
    reserves = client.get(f"{PREFIX}/{CONFLICTED}/reserves").json()["features"]
    response = client.get(f"{PREFIX}/{CONFLICTED}.csv")
    assert response.headers["content-disposition"] == (
        f'attachment; filename="arealregnskap-{CONFLICTED}-{TODAY}.csv"'
    )
    rows = read_csv(response)
    assert len(rows) == len(reserves) >= 2
    for row, feature in zip(rows, reserves, strict=True):  # heaviest conflict first, both
        p = feature["properties"]
        assert int(row["Nr."]) == feature["id"]
        assert row["Navn"] == p["name"]
        assert int(row["Arealformål (kode)"]) == p["arealformal"]
        assert number(row["Areal (m²)"]) == p["area_m2"]
        assert number(row["Bebygd (m²)"]) == p["built_m2"]
        assert number(row["Arealreserve (m²)"]) == p["reserve_m2"]
        assert number(row["I konflikt (m²)"]) == p["conflict_m2"]
        assert number(row["Andel i konflikt (%)"]) == p["conflict_share_pct"]
        for rule, figures in p["conflicts"].items():
            assert number(row[f"{rule} konflikt (m²)"]) == figures["conflict_m2"]
            assert number(row[f"{rule} advarsel (m²)"]) == figures["warning_m2"]
    assert number(rows[0]["I konflikt (m²)"]) > 0


def test_municipality_xlsx_has_the_accounts_figures(client, accounts):
    account = client.get(f"{PREFIX}/{CONFLICTED}").json()
    reserves = client.get(f"{PREFIX}/{CONFLICTED}/reserves").json()["features"]
    response = client.get(f"{PREFIX}/{CONFLICTED}.xlsx")
    assert response.headers["content-disposition"] == (
        f'attachment; filename="arealregnskap-{CONFLICTED}-{TODAY}.xlsx"'
    )
    sheets = read_xlsx(response)
    assert list(sheets) == [
        "Reserver",
        "Formålsgrupper",
        "Retningslinjer",
        "Utvikling",
        "Om beregningen",
    ]
    for row, feature in zip(sheets["Reserver"], reserves, strict=True):
        assert row["Arealreserve (m²)"] == feature["properties"]["reserve_m2"]
        assert row["I konflikt (m²)"] == feature["properties"]["conflict_m2"]
        assert isinstance(row["Arealreserve (m²)"], float)
    groups = {row["Formålsgruppe"]: row for row in sheets["Formålsgrupper"]}
    for entry in account["totals"]["by_group"].values():
        assert groups[entry["label"]]["Arealreserve (m²)"] == entry["reserve_m2"]
        assert groups[entry["label"]]["I konflikt (m²)"] == entry["conflict_m2"]
    rules = {row["Retningslinje"]: row for row in sheets["Retningslinjer"]}
    assert set(rules) == set(account["totals"]["by_rule"])
    for rule, figures in account["totals"]["by_rule"].items():
        assert rules[rule]["I konflikt (m²)"] == figures["conflict_m2"]
        assert rules[rule]["Andel av reserven i konflikt (%)"] == figures["conflict_share_pct"]
    assert [row["År"] for row in sheets["Utvikling"]] == [p["year"] for p in account["trend"]]
    assert sheets["Utvikling"][-1]["Reserve i konflikt (m²)"] == account["totals"]["conflict_m2"]
    about = {row["Hva"]: row["Verdi"] for row in sheets["Om beregningen"]}
    assert about["Regelsett"] == (
        f"{account['rule_set']['id']} versjon {account['rule_set']['version']}"
    )
    assert about["Kartlag existing_kommuneplan"].startswith("versjon ")


def test_county_xlsx_has_the_table_and_the_indicator(client, accounts):
    summary = client.get(PREFIX).json()
    sheets = read_xlsx(client.get(f"{PREFIX}.xlsx"))
    rows = {row["Kommunenummer"]: row for row in sheets["Kommuner"]}
    for api in summary["municipalities"]:
        assert rows[api["kommunenummer"]]["Reserve i konflikt (m²)"] == api["conflict_m2"]
    assert len(sheets["Indikator"]) == len(summary["indicator"]) == 2


def test_exports_answer_404_without_an_account_and_follow_date(client, accounts):
    assert client.get(f"{PREFIX}/3326.csv").status_code == 404
    assert client.get(f"{PREFIX}/3326.xlsx").status_code == 404
    assert client.get(f"{PREFIX}/9999.csv").status_code == 404
    assert (
        client.get(f"{PREFIX}/{CONFLICTED}.csv", params={"date": "2020-01-01"}).status_code == 404
    )
    assert (
        client.get(f"{PREFIX}/{CONFLICTED}.csv", params={"date": "2020-13-01"}).status_code == 422
    )
    before = client.get(f"{PREFIX}.csv", params={"date": "2020-01-01"})
    assert read_csv(before) == []  # only the headings: nothing was computed then
    assert (
        'filename="arealregnskap-buskerud-2020-01-01.csv"' in before.headers["content-disposition"]
    )
    empty = read_csv(client.get(f"{PREFIX}/{EMPTY}.csv"))
    assert empty == []


def test_account_links_name_the_files(client, accounts):
    links = {link["href"] for link in client.get(f"{PREFIX}/{CONFLICTED}").json()["links"]}
    assert {f"{PREFIX}/{CONFLICTED}.csv", f"{PREFIX}/{CONFLICTED}.xlsx"} <= links
    links = {link["href"] for link in client.get(PREFIX).json()["links"]}
    assert {f"{PREFIX}.csv", f"{PREFIX}.xlsx"} <= links


def test_hostile_names_stay_text_in_csv_and_xlsx(client, accounts):
    """A reserve name from a plan file that would be a formula or markup is written as text."""
    with get_engine().begin() as connection:
        positions = (
            connection.execute(
                text(
                    "SELECT position FROM land_account_area WHERE account_id = :id AND is_reserve "
                    "ORDER BY position"
                ),
                {"id": accounts[CONFLICTED]},
            )
            .scalars()
            .all()
        )
        for position, name in zip(positions, (FORMULA_NAME, MARKUP_NAME), strict=False):
            connection.execute(
                text(
                    "UPDATE land_account_area SET name = :name "
                    "WHERE account_id = :id AND position = :position"
                ),
                {"name": name, "id": accounts[CONFLICTED], "position": position},
            )
    names = {row["Navn"] for row in read_csv(client.get(f"{PREFIX}/{CONFLICTED}.csv"))}
    assert "'" + FORMULA_NAME in names and MARKUP_NAME in names
    response = client.get(f"{PREFIX}/{CONFLICTED}.xlsx")
    worksheet = load_workbook(io.BytesIO(response.content))["Reserver"]
    cells = [row[1] for row in worksheet.iter_rows(min_row=2)]
    formula_cell = next(cell for cell in cells if cell.value == FORMULA_NAME)
    assert formula_cell.data_type == "s"  # a text cell, not a formula ("f")
    assert MARKUP_NAME in {cell.value for cell in cells}


def test_csv_dialect_of_the_builder():
    """Decimal comma, `;` quoted where a field holds one, formula starts neutralised."""
    sheet = Sheet(
        "t",
        [Column("Navn", "name"), Column("Areal (m²)", "area", "m2"), Column("%", "pct", "pct")],
        [
            {"name": "Øvre; nedre", "area": 1234.5, "pct": 12.5},
            {"name": "-1+1", "area": 0.04, "pct": 0},
            {"name": None, "area": None, "pct": None},
        ],
    )
    body = to_csv(sheet).decode("utf-8-sig")
    assert body == ('Navn;Areal (m²);%\r\n"Øvre; nedre";1234,5;12,50\r\n\'-1+1;0,0;0,00\r\n;;\r\n')
    assert safe_text("@SUM(A1)") == "'@SUM(A1)"
    assert safe_text("Fjellet\x07") == "Fjellet"
