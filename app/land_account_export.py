"""The land account as tables and charts: CSV and XLSX files of the county table and of one
municipality's reserves, and the figures of the page /arealregnskap.

Both files are built from the same rows the API answers (the county summary, the account and
its reserves), so a figure in a file is the figure in the JSON.

CSV is written for Excel with Norwegian settings, which is what planners open it in: fields
separated by `;`, decimal comma, no thousands separator (Excel reads "1234,5" as a number
there), UTF-8 with a byte order mark (without it Excel reads æ, ø and å as Windows-1252) and
CRLF line ends (RFC 4180). Areas are in m² with the stored 0.1 m², shares in % with 0.01.

Names come from the municipalities' plan files: a text starting with `=`, `+`, `-`, `@`, a tab
or a carriage return would be run as a formula by a spreadsheet (OWASP «CSV Injection»), so
such a text gets a leading apostrophe in CSV and is stored as a string in XLSX.
"""

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.land_account import reserve_properties
from app.reports.formatting import OSLO
from db.models import LandAccountAreaOrm
from spatial.figures import fmt_daa, fmt_pct

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# The guidelines of the account, in the order the files list them.
RULES = ("G1", "G2", "G3", "G4")
STATUS_LABELS = {1: "Nåværende", 2: "Framtidig", 3: "Videreutvikling av nåværende"}


@dataclass(frozen=True)
class Column:
    """A column of a table: its heading, the row key it shows and the kind of figure."""

    header: str
    key: str
    kind: str = "text"  # text, int, m2 (0.1), pct (0.01), datetime


@dataclass
class Sheet:
    """One table of an export: a sheet in XLSX, the whole file in CSV."""

    title: str
    columns: list[Column]
    rows: list[dict[str, Any]] = field(default_factory=list)


# --- rows ----------------------------------------------------------------------------------


def rule_ids(by_rule: dict[str, Any]) -> list[str]:
    """The guideline ids of an account, G1..G4 first in their order."""
    return sorted(by_rule, key=lambda r: (RULES.index(r) if r in RULES else len(RULES), r))


def county_sheet(summary: dict[str, Any]) -> Sheet:
    """The county table: one row per municipality's latest account, and the county's sum."""
    rules = sorted({r for row in summary["municipalities"] for r in row["by_rule"]}, key=str)
    columns = [
        Column("Kommunenummer", "kommunenummer"),
        Column("Kommune", "municipality"),
        Column("Beregnet", "computed_at", "datetime"),
        Column("Framtidige utbyggingsområder (m²)", "area_m2", "m2"),
        Column("Bebygd (m²)", "built_m2", "m2"),
        Column("Arealreserve (m²)", "reserve_m2", "m2"),
        Column("Antall reserver", "reserve_count", "int"),
        Column("Reserve i konflikt (m²)", "conflict_m2", "m2"),
        Column("Reserver i konflikt", "reserves_in_conflict", "int"),
        Column("Andel i konflikt (%)", "conflict_share_pct", "pct"),
        Column("Mulige hyttetomter", "cabin_lots", "int"),
        *(Column(f"{rule} i konflikt (m²)", f"rule_{rule}", "m2") for rule in rules),
    ]
    rows = [
        {**row, **{f"rule_{rule}": row["by_rule"].get(rule, 0.0) for rule in rules}}
        for row in summary["municipalities"]
    ]
    if rows:
        county = summary["county"]
        rows.append(
            {
                **county,
                "kommunenummer": "",
                "municipality": "Sum for kommunene over",
                "computed_at": None,
                **{f"rule_{r}": round(sum(row[f"rule_{r}"] for row in rows), 1) for r in rules},
            }
        )
    return Sheet("Kommuner", columns, rows)


# The indicator «konflikter i arealregnskapet» for one year, as the county's and a
# municipality's trend sheets give it.
INDICATOR_COLUMNS = (
    Column("År", "year", "int"),
    Column("Beregnet", "computed_at", "datetime"),
    Column("Arealreserve (m²)", "reserve_m2", "m2"),
    Column("Reserve i konflikt (m²)", "conflict_m2", "m2"),
    Column("Andel i konflikt (%)", "conflict_share_pct", "pct"),
    Column("Reserver i konflikt", "reserves_in_conflict", "int"),
)


def indicator_sheet(indicator: Sequence[dict[str, Any]], names: dict[str, str]) -> Sheet:
    """The indicator «konflikter i arealregnskapet» per municipality and year."""
    columns = [
        Column("Kommunenummer", "kommunenummer"),
        Column("Kommune", "municipality"),
        *INDICATOR_COLUMNS,
    ]
    rows = [{**p, "municipality": names.get(p["kommunenummer"], "")} for p in indicator]
    return Sheet("Indikator", columns, rows)


def reserve_rows(session: Session, account_id: int) -> list[dict[str, Any]]:
    """The account's reserves with their figures, heaviest conflict first (as the API's
    GeoJSON of the reserves lists them)."""
    areas = session.scalars(
        select(LandAccountAreaOrm)
        .where(LandAccountAreaOrm.account_id == account_id, LandAccountAreaOrm.is_reserve)
        .order_by(LandAccountAreaOrm.position)
    )
    rows = []
    for area in areas:
        row = {
            "id": area.position + 1,  # the planvask's number: positions are in its order
            **reserve_properties(area),
            "status_label": STATUS_LABELS.get(area.arealbruksstatus, ""),
        }
        for rule, figures in (area.conflicts or {}).items():
            row[f"{rule}_conflict_m2"] = figures.get("conflict_m2", 0.0)
            row[f"{rule}_warning_m2"] = figures.get("warning_m2", 0.0)
        rows.append(row)
    return rows


def reserves_sheet(account: dict[str, Any], reserves: list[dict[str, Any]]) -> Sheet:
    """One municipality's reserves: the planvask's list, one row per reserve."""
    groups = account["totals"]["by_group"]
    rules = rule_ids(account["totals"]["by_rule"])
    columns = [
        Column("Nr.", "id", "int"),
        Column("Navn", "name"),
        Column("Planidentifikasjon", "planidentifikasjon"),
        Column("Arealformål (kode)", "arealformal", "int"),
        Column("Arealformål", "arealformal_name"),
        Column("Formålsgruppe", "group_label"),
        Column("Arealbruksstatus", "status_label"),
        Column("Areal (m²)", "area_m2", "m2"),
        Column("Bebygd (m²)", "built_m2", "m2"),
        Column("Arealreserve (m²)", "reserve_m2", "m2"),
        Column("Bygninger", "building_count", "int"),
        Column("Mulige hyttetomter", "lots", "int"),
        Column("I konflikt (m²)", "conflict_m2", "m2"),
        Column("Andel i konflikt (%)", "conflict_share_pct", "pct"),
    ]
    for rule in rules:
        columns.append(Column(f"{rule} konflikt (m²)", f"{rule}_conflict_m2", "m2"))
        columns.append(Column(f"{rule} advarsel (m²)", f"{rule}_warning_m2", "m2"))
    rows = [
        {**row, "group_label": groups.get(row["purpose_group"], {}).get("label", "")}
        for row in reserves
    ]
    return Sheet("Reserver", columns, rows)


def groups_sheet(account: dict[str, Any]) -> Sheet:
    """The account's figures per arealformål group."""
    rules = rule_ids(account["totals"]["by_rule"])
    columns = [
        Column("Formålsgruppe", "label"),
        Column("Framtidige utbyggingsområder (m²)", "area_m2", "m2"),
        Column("Bebygd (m²)", "built_m2", "m2"),
        Column("Arealreserve (m²)", "reserve_m2", "m2"),
        Column("Antall reserver", "reserve_count", "int"),
        Column("I konflikt (m²)", "conflict_m2", "m2"),
        Column("Reserver i konflikt", "reserves_in_conflict", "int"),
        Column("Andel i konflikt (%)", "conflict_share_pct", "pct"),
        *(Column(f"{rule} konflikt (m²)", f"{rule}_conflict_m2", "m2") for rule in rules),
    ]
    rows = [
        {
            **entry,
            **{
                f"{r}_conflict_m2": entry["rules"].get(r, {}).get("conflict_m2", 0.0) for r in rules
            },
        }
        for entry in account["totals"]["by_group"].values()
    ]
    return Sheet("Formålsgrupper", columns, rows)


def rules_sheet(account: dict[str, Any]) -> Sheet:
    """The account's figures per guideline."""
    columns = [
        Column("Retningslinje", "rule"),
        Column("Tittel", "title"),
        Column("Hjemmel", "paragraph"),
        Column("I konflikt (m²)", "conflict_m2", "m2"),
        Column("Andel av reserven i konflikt (%)", "conflict_share_pct", "pct"),
        Column("Reserver i konflikt", "reserves_in_conflict", "int"),
        Column("Advarsel (m²)", "warning_m2", "m2"),
        Column("Ikke kontrollert (m²)", "unknown_m2", "m2"),
    ]
    by_rule = account["totals"]["by_rule"]
    rows = [{"rule": rule, **by_rule[rule]} for rule in rule_ids(by_rule)]
    return Sheet("Retningslinjer", columns, rows)


def trend_sheet(account: dict[str, Any]) -> Sheet:
    """The municipality's indicator per year."""
    return Sheet("Utvikling", list(INDICATOR_COLUMNS), [dict(p) for p in account["trend"]])


def about_sheet(account: dict[str, Any]) -> Sheet:
    """What the account was computed from: when, method, rule set, layer versions, notes."""
    columns = [Column("Hva", "what"), Column("Verdi", "value")]
    rows = [
        {"what": "Kommune", "value": f"{account['kommunenummer']} {account['municipality']}"},
        {"what": "Beregnet", "value": local_time(account["computed_at"])},
        {
            "what": "Metode",
            "value": f"{account['method']['id']} versjon {account['method']['version']}",
        },
        {
            "what": "Regelsett",
            "value": f"{account['rule_set']['id']} versjon {account['rule_set']['version']}",
        },
        *(
            {"what": f"Kartlag {layer}", "value": "ikke lastet" if v is None else f"versjon {v}"}
            for layer, v in sorted(account["layer_versions"].items())
        ),
        *({"what": "Merknad", "value": note} for note in account["notes"]),
    ]
    return Sheet("Om beregningen", columns, rows)


def municipality_sheets(account: dict[str, Any], reserves: list[dict[str, Any]]) -> list[Sheet]:
    """The sheets of a municipality's XLSX: reserves first (the CSV), then the summaries."""
    return [
        reserves_sheet(account, reserves),
        groups_sheet(account),
        rules_sheet(account),
        trend_sheet(account),
        about_sheet(account),
    ]


# --- files ---------------------------------------------------------------------------------


def local_time(value: datetime | str | None) -> str:
    """A moment in Norwegian time, as a spreadsheet reads it: '2026-12-07 07:13'."""
    if value is None or value == "":
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(OSLO).strftime("%Y-%m-%d %H:%M")


def safe_text(value: Any) -> str:
    """A text a spreadsheet shows as text, never runs as a formula."""
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_value(column: Column, value: Any) -> str:
    """One CSV field, Norwegian Excel style (decimal comma, no thousands separator)."""
    if value is None:
        return ""
    if column.kind == "datetime":
        return local_time(value)
    if column.kind == "m2":
        return f"{float(value):.1f}".replace(".", ",")
    if column.kind == "pct":
        return f"{float(value):.2f}".replace(".", ",")
    if column.kind == "int":
        return str(int(value))
    return safe_text(value)


def to_csv(sheet: Sheet) -> bytes:
    """The sheet as a CSV file for Excel in Norway: `;`, decimal comma, UTF-8 with BOM."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([c.header for c in sheet.columns])
    for row in sheet.rows:
        writer.writerow([csv_value(c, row.get(c.key)) for c in sheet.columns])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


NUMBER_FORMATS = {"m2": "#,##0.0", "pct": "0.00", "int": "0"}


def to_xlsx(sheets: Iterable[Sheet], title: str) -> bytes:
    """The sheets as an XLSX workbook: numbers as numbers, texts as texts, headings bold."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    workbook.properties.title = safe_text(title)
    workbook.properties.creator = "Arealsjekk"
    bold = Font(bold=True)
    for sheet in sheets:
        worksheet = workbook.create_sheet(sheet.title[:31])
        worksheet.append([c.header for c in sheet.columns])
        for cell in worksheet[1]:
            cell.font = bold
        # Cells addressed by row and column: reading back `worksheet[n]` or `max_row` scans
        # every cell, which made a workbook of N rows take N² steps.
        for row_number, row in enumerate(sheet.rows, start=2):
            for column_number, column in enumerate(sheet.columns, start=1):
                value = xlsx_value(column, row.get(column.key))
                cell = worksheet.cell(row=row_number, column=column_number, value=value)
                if column.kind in NUMBER_FORMATS:
                    cell.number_format = NUMBER_FORMATS[column.kind]
                elif cell.value is not None:
                    # openpyxl takes a text starting with "=" for a formula: a text it stays.
                    cell.data_type = "s"
        worksheet.freeze_panes = "A2"
        for index, column in enumerate(sheet.columns, start=1):
            worksheet.column_dimensions[get_column_letter(index)].width = max(
                12, min(48, len(column.header) + 2)
            )
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def xlsx_value(column: Column, value: Any) -> Any:
    """One XLSX cell's value: a number for figures, a text otherwise."""
    if value is None:
        return None
    if column.kind == "datetime":
        return local_time(value)
    if column.kind in ("m2", "pct"):
        return float(value)
    if column.kind == "int":
        return int(value)
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))


def filename(stem: str, day: date, suffix: str) -> str:
    """A download's file name: arealregnskap-3326-2026-12-07.csv."""
    return f"arealregnskap-{re.sub(r'[^a-z0-9-]', '', stem.lower())}-{day.isoformat()}.{suffix}"


def attachment(name: str) -> dict[str, str]:
    """The Content-Disposition header of a download."""
    return {"Content-Disposition": f'attachment; filename="{name}"'}


# --- the page's charts -----------------------------------------------------------------------


def daa(value_m2: float) -> str:
    """An area in whole dekar, as the planvask report writes it: '6 878 daa'."""
    return fmt_daa(value_m2)


@dataclass(frozen=True)
class Bar:
    """One bar of a chart: its label, the figure's text and its length as a share of the axis."""

    label: str
    text: str
    share: float  # 0..1 of the longest bar
    part: float = 0.0  # 0..1 of the axis: the part in conflict, drawn over the bar
    part_text: str = ""


def scaled(values: Sequence[float]) -> list[float]:
    """Values as shares of the largest (all zero when nothing is above zero)."""
    top = max(values, default=0.0)
    return [v / top if top > 0 else 0.0 for v in values]


def group_bars(account: dict[str, Any]) -> list[Bar]:
    """Reserves by arealformål group (daa), the part in conflict over each."""
    groups = [g for g in account["totals"]["by_group"].values() if g["area_m2"] > 0]
    top = max((g["reserve_m2"] for g in groups), default=0.0)
    return [
        Bar(
            g["label"],
            daa(g["reserve_m2"]),
            g["reserve_m2"] / top if top else 0.0,
            g["conflict_m2"] / top if top else 0.0,
            f"{daa(g['conflict_m2'])} i konflikt ({fmt_pct(g['conflict_share_pct'])})",
        )
        for g in groups
    ]


def rule_bars(account: dict[str, Any]) -> list[Bar]:
    """The share of the reserve in conflict with each guideline (0–100 %)."""
    by_rule = account["totals"]["by_rule"]
    return [
        Bar(
            f"{rule} {by_rule[rule]['title']}",
            f"{fmt_pct(by_rule[rule]['conflict_share_pct'])} ({daa(by_rule[rule]['conflict_m2'])})",
            by_rule[rule]["conflict_share_pct"] / 100,
        )
        for rule in rule_ids(by_rule)
    ]


def trend_bars(account: dict[str, Any]) -> list[Bar]:
    """The indicator per year: the reserve area in conflict (daa)."""
    trend = account["trend"]
    shares = scaled([p["conflict_m2"] for p in trend])
    return [
        Bar(
            str(p["year"]),
            f"{daa(p['conflict_m2'])} ({fmt_pct(p['conflict_share_pct'])})",
            share,
        )
        for p, share in zip(trend, shares, strict=True)
    ]


# --- the page ------------------------------------------------------------------------------

PLANVASK_FORMATS = (
    ("html", "Planvask (nettside)"),
    ("pdf", "Planvask (PDF)"),
    ("geojson", "Planvask (GeoJSON for QGIS)"),
)


def with_date(url: str, day: date | None) -> str:
    """A URL of ours with `date=` added when a day is chosen."""
    if day is None:
        return url
    return f"{url}{'&' if '?' in url else '?'}date={day.isoformat()}"


def page_view(session: Session, kommunenummer: str | None, day: date | None) -> dict[str, Any]:
    """What the page /arealregnskap shows: the county table and, for a chosen municipality,
    its account's figures, charts, reserves in conflict and links (or why there is none).
    `status` is 404 for an unknown kommunenummer."""
    # Imported here: the router imports this module for its exports.
    from app.routers.land_account import PREFIX, county_summary, municipality_account
    from db.models import MunicipalityOrm
    from spatial.errors import NotFoundError

    names = dict(
        session.execute(
            select(MunicipalityOrm.kommunenummer, MunicipalityOrm.name).order_by(
                MunicipalityOrm.kommunenummer
            )
        ).all()
    )
    summary = county_summary(session, day).model_dump(mode="json")
    computed = {row["kommunenummer"]: row for row in summary["municipalities"]}
    view: dict[str, Any] = {
        "status": 200,
        "day": day,
        "municipalities": names,
        "county_rows": [(knr, name, computed.get(knr)) for knr, name in names.items()],
        "county": summary["county"] if computed else None,
        "county_files": {
            "CSV": with_date(f"{PREFIX}.csv", day),
            "XLSX": with_date(f"{PREFIX}.xlsx", day),
            "JSON": with_date(PREFIX, day),
        },
        "selected": kommunenummer,
        "selected_name": names.get(kommunenummer or ""),
        "account": None,
    }
    if kommunenummer is None:
        return view
    if kommunenummer not in names:
        view["status"] = 404
        return view
    try:
        public = municipality_account(kommunenummer, session, day)
    except NotFoundError:
        return view
    account = public.model_dump(mode="json")
    base = f"{PREFIX}/{kommunenummer}"
    rows = reserve_rows(session, public.id)
    groups = account["totals"]["by_group"]
    view.update(
        account=account,
        computed_at=public.computed_at,
        group_bars=group_bars(account),
        rule_bars=rule_bars(account),
        trend_bars=trend_bars(account),
        conflicts=[
            {**row, "group_label": groups.get(row["purpose_group"], {}).get("label", "")}
            for row in rows
            if row["conflict_m2"] > 0
        ],
        rule_list=rule_ids(account["totals"]["by_rule"]),
        reserves_geojson=with_date(f"{base}/reserves?conflicts_only=true&crs=CRS84", day),
        files=[
            ("Reserver (GeoJSON)", with_date(f"{base}/reserves", day)),
            ("Reserver (CSV)", with_date(f"{base}.csv", day)),
            ("Arealregnskap (XLSX)", with_date(f"{base}.xlsx", day)),
            ("Arealregnskap (JSON)", with_date(base, day)),
            *(
                (label, with_date(f"{base}/planvask.{suffix}", day))
                for suffix, label in PLANVASK_FORMATS
            ),
        ],
    )
    return view
