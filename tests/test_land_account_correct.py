"""Land account (issue 23, acceptance 6): synthetic adopted plans whose reserves and conflict
areas are computed independently here by exact overlay, against the stored account, its
findings and the API, through the real loaders and PostGIS.

The expected figures follow the definitions (method file and rule set), not the code:
built = area ∩ union(buffer(counted building)); reserve = area − built, without the parts
narrower than 2 × min_reserve_width_m and without reserves under min_reserve_m2; conflict
per rule = reserve ∩ the conflicting layer features. The main fixture's areas have rounded
corners (radius 10 m ≥ the half width) and building buffers that lie wholly inside or
outside an area and apart from each other, so the sliver rule matters only where a shape
is designed for it: a strip, a tiny area, and in tests of their own a plain rectangle, a
building beside an area and a strip left by a row of buildings.
"""

from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from geoalchemy2.shape import to_shape
from shapely.geometry import Point, box
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select, text

from app.db import get_engine, get_sessionmaker
from app.land_account import compute_land_accounts, get_method, indicator_series
from app.settings import get_settings
from db.models import LandAccountAreaOrm, LandAccountFindingOrm, LandAccountOrm
from layers.ruleset import default_land_account_method
from spatial.land_account import LandAccountMethod
from tests.rule_fixtures import load_raster_layer, load_vector_layer, rule

TOLERANCE_M2 = 0.5
HEMSEDAL, GOL = "3326", "3324"
X0, Y0 = 470_000.0, 6_750_000.0  # inside Hemsedal, EPSG:25832
GX, GY = 500_000.0, 6_735_000.0  # inside Gol
FAR = (X0 + 20_000, Y0 + 20_000)  # far from every fixture area
# The tree line is 1,000 m everywhere; the DEM is 100 m above it west of X0 + 100 (a 10 m
# cell edge) and twice the transition zone below it east of there, except for one band in
# the transition zone: the part above the line is exactly the part west of X0 + 100.
DEM_ORIGIN = (X0 - 500, Y0 + 1_200)
DEM_CELL = 10.0
DEM_SHAPE = (170, 250)  # rows, columns: X0-500 .. X0+2000, Y0-500 .. Y0+1200
STEP_X = X0 + 100
ABOVE_TREE_LINE = box(X0 - 500, Y0 - 500, STEP_X, Y0 + 1_200)
# A band in G1's transition zone (half its depth below the line), under F12's west half.
TRANSITION = box(X0 + 1_500, Y0 - 500, X0 + 1_700, Y0 + 1_200)
TREE_LINE_M = 1_000.0


@pytest.fixture(autouse=True)
def no_accounts():
    """Land accounts are not among the tables conftest empties: start and end without any."""
    _truncate_accounts()
    yield
    _truncate_accounts()


def _truncate_accounts() -> None:
    with get_engine().begin() as connection:
        connection.execute(text("TRUNCATE land_account RESTART IDENTITY CASCADE"))


def rounded(x0: float, y0: float, x1: float, y1: float, ox: float = X0, oy: float = Y0):
    """A rectangle (relative to the origin) with corners rounded at 10 m: the sliver rule
    leaves it whole."""
    return box(ox + x0 + 10, oy + y0 + 10, ox + x1 - 10, oy + y1 - 10).buffer(10, quad_segs=32)


def rect(x0: float, y0: float, x1: float, y1: float, ox: float = X0, oy: float = Y0):
    """A plain rectangle relative to the origin."""
    return box(ox + x0, oy + y0, ox + x1, oy + y1)


def pt(x: float, y: float, ox: float = X0, oy: float = Y0) -> Point:
    """A point relative to the origin."""
    return Point(ox + x, oy + y)


def adopted(fid, geometry, code, status, knr=HEMSEDAL, plan="3326-2019001"):
    """A KpArealformålOmråde record of the adopted kommuneplan."""
    record = {"id": fid, "geometry": geometry, "arealformal": code, "arealbruksstatus": status}
    if knr is not None:
        record["kommunenummer"] = knr
    record["planidentifikasjon"] = plan
    return record


def building(geometry, status="TB", number=None, knr=HEMSEDAL):
    """A matrikkel building point (161 fritidsbygg) with its status."""
    return {
        "geometry": geometry,
        "bygningsnummer": number or f"{geometry.x:.0f}-{geometry.y:.0f}",
        "bygningstype": 161,
        "bygningsstatus": status,
        "kommunenummer": knr,
    }


# --- the synthetic adopted plan of Hemsedal -------------------------------------------

HEMSEDAL_AREAS = [
    # Cabins, west half above the tree line, east part in a value A recreation area
    # (crossing it), a building inside the A part: a conflict partly built.
    adopted("F1", rounded(0, 0, 200, 100), 1120, 2),
    # Cabins east of the step: value B recreation area over its east end, a value A one
    # over a corner of it that overlaps the B one; three cabins inside, buffers apart.
    adopted("F2", rounded(400, 0, 600, 100), 1120, 2),
    # Housing across a national deposit, a building in the part on the deposit; a local
    # deposit over its west end does not count.
    adopted("F3", rounded(0, 300, 300, 400), 1110, 2),
    # Business area 50 m from a regional deposit (its east 50 m within the 100 m buffer)
    # and crossed by a protected heritage site on its north edge.
    adopted("F4", rounded(700, 300, 900, 400), 1300, 2),
    # Spread cabins in LNFR: west part above the tree line, a protected site 20 m east of
    # it (warning zone) and an unprotected one (IKKEV) inside it.
    adopted("F5", rounded(0, 600, 300, 700), 5220, 2),
    # Friområde (green structure) inside a value A area: not a reserve purpose at all.
    adopted("F6", rounded(400, 600, 600, 700), 3040, 2),
    # Existing cabin areas (nåværende): counted for capacity, never as reserves; F7 crosses a
    # value A area that must not give a conflict.
    adopted("F7", rounded(1_200, 0, 1_500, 200), 1120, 1),
    adopted("F8", rounded(1_200, 300, 1_245, 340), 1120, 1),
    # A strip 8 m wide: narrower than 2 × 5 m, so no reserve (all of it counts as built).
    adopted("F9", rect(0, 900, 200, 908), 1110, 2),
    # A round area of 95 m²: wide enough, but under min_reserve_m2.
    adopted("F11", pt(1_400, 1_000).buffer(5.5, quad_segs=32), 1110, 2),
    # Framtidig cabins without buildings, the west half in the tree line's transition zone.
    adopted("F12", rounded(1_600, 600, 1_800, 900), 1120, 2),
]

HEMSEDAL_BUILDINGS = [
    building(pt(170, 50)),  # F1, inside the value A part
    building(pt(50, 50), "BR"),  # F1: burnt, not built
    building(pt(120, 50), "RA"),  # F1: a rammetillatelse alone, not built
    building(pt(420, 30)),  # F2
    building(pt(440, 70)),  # F2
    building(pt(470, 40)),  # F2
    building(pt(250, 350)),  # F3, on the national deposit
    building(pt(1_250, 50)),  # F7
    building(pt(1_300, 150)),  # F7
    building(pt(1_400, 100)),  # F7
    building(pt(1_222, 320)),  # F8
    building(pt(1_350, 50), " gr "),  # F7: demolished, the code written loosely
]

RECREATION = [
    {"geometry": rect(150, -50, 260, 150), "name": "Skogshorn", "value": "A"},
    {"geometry": rect(550, -50, 700, 150), "name": "Grøndalen", "value": "B"},
    {"geometry": rect(500, 60, 560, 150), "name": "Tuva", "value": "A"},
    {"geometry": rect(380, 580, 620, 720), "name": "Friområdet", "value": "A"},
    {"geometry": rect(1_450, -50, 1_600, 250), "name": "Hyttegrenda", "value": "A"},
    {"geometry": rect(1_700, 500, 1_900, 1_000), "name": "Bygdeskogen", "value": "C"},
]

DEPOSITS = [
    {"geometry": rect(200, 250, 500, 450), "name": "Nordberg", "importance": "nasjonal"},
    {"geometry": rect(-100, 350, 100, 450), "name": "Lokalgrus", "importance": "lokal"},
    {"geometry": rect(950, 200, 1_100, 500), "name": "Sørgrus", "importance": "regional"},
]

SITES = [
    {"geometry": rect(780, 380, 820, 420), "name": "Gravhaug", "vernetype": "AUT"},
    {"geometry": rect(320, 620, 340, 640), "name": "Røys", "vernetype": "AUT"},
    {"geometry": rect(150, 650, 170, 670), "name": "Tuft", "vernetype": "IKKEV"},
]

# --- a few areas of Gol, for the test that nothing leaks between municipalities ---------

GOL_AREAS = [
    adopted("G1", rounded(0, 0, 200, 100, GX, GY), 1110, 2, GOL, "3324-2018001"),
    # No kommunenummer: it belongs to Gol by where it lies.
    adopted("G2", rounded(0, 350, 150, 450, GX, GY), 1300, 2, None, "3324-2018001"),
    adopted("G3", rounded(400, 0, 600, 150, GX, GY), 1120, 1, GOL, "3324-2018001"),
]
GOL_BUILDINGS = [
    building(pt(30, 30, GX, GY), knr=GOL),
    building(pt(500, 50, GX, GY), knr=GOL),
]
GOL_DEPOSITS = [
    {"geometry": rect(150, -100, 300, 200, GX, GY), "name": "Golgrus", "importance": "nasjonal"}
]


def heritage_site(record: dict[str, Any], number: int) -> dict[str, Any]:
    """A heritage_protected record (lokalitet) from the short form above."""
    return {
        "geometry": record["geometry"],
        "name": record["name"],
        "heritage_id": f"T-{number}",
        "category": "lokalitet",
        "vernetype": record["vernetype"],
    }


def far_box() -> BaseGeometry:
    """A 100 m square far from every fixture area."""
    return box(FAR[0], FAR[1], FAR[0] + 100, FAR[1] + 100)


def load_fixture(
    folder: Path,
    areas: list[dict[str, Any]],
    buildings: list[dict[str, Any]],
    deposits: list[dict[str, Any]] = DEPOSITS,
) -> None:
    """Load the adopted plan, the buildings and every layer G1-G4 read (others far away)."""
    load_vector_layer("existing_kommuneplan", areas, folder)
    load_vector_layer("buildings", buildings, folder)
    depth = rule("G1").transition_zone_m
    values = np.full(DEM_SHAPE, TREE_LINE_M - 2 * depth, dtype="float32")
    values[:, : column(STEP_X)] = TREE_LINE_M + 100
    values[:, column(TRANSITION.bounds[0]) : column(TRANSITION.bounds[2])] = TREE_LINE_M - depth / 2
    load_raster_layer("elevation", values, folder, DEM_ORIGIN, DEM_CELL)
    load_raster_layer("tree_line", np.full((40, 60), TREE_LINE_M), folder, DEM_ORIGIN, 50.0)
    load_vector_layer("recreation_areas", RECREATION, folder)
    load_vector_layer("state_recreation_areas", [{"geometry": far_box(), "name": "Langt"}], folder)
    load_vector_layer(
        "villrein_areas",
        [{"geometry": far_box(), "name": "Langt", "category": "leveområde", "function": None}],
        folder,
    )
    load_vector_layer(
        "villrein_corridors",
        [
            {
                "geometry": shapely.LineString([FAR, (FAR[0] + 100, FAR[1] + 100)]),
                "name": "Langt",
                "villrein_area": "Nordfjella",
            }
        ],
        folder,
    )
    load_vector_layer("intact_nature", [{"geometry": far_box(), "zone": "sone 1"}], folder)
    load_vector_layer(
        "mineral_deposits", [{**d, "resource_type": "grus"} for d in deposits], folder
    )
    load_vector_layer(
        "heritage_protected", [heritage_site(s, i) for i, s in enumerate(SITES, 1)], folder
    )
    load_vector_layer(
        "cultural_environments",
        [{"geometry": far_box(), "name": "Langt", "category": "utvalgt kulturlandskap"}],
        folder,
    )
    load_vector_layer(
        "municipal_heritage_plans",
        [
            {
                "geometry": far_box(),
                "name": "Langt",
                "kommunenummer": HEMSEDAL,
                "plan_name": "Kulturminneplan",
            }
        ],
        folder,
    )


def column(x: float) -> int:
    """The DEM column whose west edge is at x (x on a cell edge)."""
    index = (x - DEM_ORIGIN[0]) / DEM_CELL
    assert index == int(index)
    return int(index)


def settings_for(folder: Path):
    """The application's settings with the test's raster folder."""
    return get_settings().model_copy(update={"raster_dir": folder})


# --- the independent computation -------------------------------------------------------


def without_narrow_parts(geometry: BaseGeometry, half_width: float) -> BaseGeometry:
    """Drop the connected parts that no disc of radius `half_width` fits into (the fixture
    shapes are designed so that no part is narrow only in places)."""
    kept = [
        part
        for part in shapely.get_parts(geometry)
        if part.area > 0
        and shapely.maximum_inscribed_circle(part, 0.01).length >= half_width - 0.01
    ]
    return shapely.union_all(kept) if kept else shapely.Polygon()


def share_of(method: LandAccountMethod, area_m2: float) -> float:
    """The method's lot share for an area of this size (bands by upper bound)."""
    return next(share for bound, share in method.params.lot_share if area_m2 <= bound)


def expected_areas(
    method: LandAccountMethod,
    areas: list[dict[str, Any]],
    buildings: list[dict[str, Any]],
    deposits: list[dict[str, Any]] = DEPOSITS,
) -> dict[str, dict[str, Any]]:
    """Per adopted area of a reserve purpose: area, built, reserve, lots and the conflict
    and warning areas per rule, computed from the definitions."""
    params = method.params
    counted = [
        b["geometry"]
        for b in buildings
        if b["bygningsstatus"].strip().upper() not in params.not_built_statuses
    ]
    cover = shapely.union_all([b.buffer(params.built_buffer_m) for b in counted])
    g1, g2, g3, g4 = (rule(r) for r in ("G1", "G2", "G3", "G4"))
    out = {}
    for record in areas:
        code, status = record["arealformal"], record["arealbruksstatus"]
        if method.group_of(code) is None:
            continue
        geometry = record["geometry"]
        unbuilt = without_narrow_parts(
            shapely.difference(geometry, cover), params.min_reserve_width_m
        )
        if unbuilt.area < params.min_reserve_m2:
            unbuilt = shapely.Polygon()
        capacity = code in params.capacity_purposes and status in params.capacity_status
        entry = {
            "group": method.group_of(code),
            "status": status,
            "area_m2": geometry.area,
            "unbuilt": unbuilt,
            "built_m2": geometry.area - unbuilt.area,
            "building_count": sum(1 for b in counted if geometry.intersects(b)),
            "is_reserve": status in params.reserve_status and unbuilt.area > 0,
            "lots": int(unbuilt.area * share_of(method, geometry.area) // params.lot_size_m2)
            if capacity
            else None,
            "rules": {},
        }
        if entry["is_reserve"]:
            entry["rules"] = {
                rule_id: figures
                for rule_id, figures in (
                    ("G1", _g1(g1, code, unbuilt)),
                    ("G2", _g2(g2, code, unbuilt)),
                    (
                        "G3",
                        _overlay(
                            unbuilt,
                            code,
                            g3.sterilising_purposes,
                            _deposits(g3, deposits),
                            g3.buffer_m,
                            g3.min_overlap_m2,
                        ),
                    ),
                    (
                        "G4",
                        _overlay(
                            unbuilt,
                            code,
                            g4.development_purposes,
                            _sites(g4),
                            g4.buffer_m,
                            g4.min_overlap_m2,
                        ),
                    ),
                )
                if figures is not None
            }
        out[record["id"]] = entry
    return out


def _g1(g1, code: int, reserve: BaseGeometry) -> dict[str, BaseGeometry] | None:
    if code not in g1.kommuneplan_purposes:
        return None
    above = shapely.intersection(reserve, ABOVE_TREE_LINE)
    transition = shapely.intersection(reserve, TRANSITION)
    threshold = max(g1.conflict_min_area_m2, g1.conflict_min_share_pct / 100 * reserve.area)
    # A conflict shows the part above the line; a warning the part above it (under the
    # threshold) and the part in the transition zone; the rest of the DEM lies far below.
    if above.area > threshold:
        return {"conflict": above, "warning": shapely.Polygon()}
    return {"conflict": shapely.Polygon(), "warning": shapely.union(above, transition)}


def _g2(g2, code: int, reserve: BaseGeometry) -> dict[str, BaseGeometry] | None:
    if code not in g2.kommuneplan_purposes:
        return None

    def over(values) -> BaseGeometry:
        parts = [
            cut
            for r in RECREATION
            if r["value"] in values
            and (cut := shapely.intersection(reserve, r["geometry"])).area > g2.min_overlap_m2
        ]
        return shapely.union_all(parts) if parts else shapely.Polygon()

    conflict = over(g2.recreation_conflict_values)
    warning = shapely.difference(over(g2.recreation_warning_values), conflict)
    return {"conflict": conflict, "warning": warning}


def _deposits(g3, deposits) -> list[BaseGeometry]:
    wanted = set(g3.protected_importance)
    return [d["geometry"] for d in deposits if d["importance"] in wanted]


def _sites(g4) -> list[BaseGeometry]:
    return [s["geometry"] for s in SITES if s["vernetype"] not in g4.unprotected_vernetyper]


def _overlay(reserve, code, purposes, features, buffer_m, min_overlap_m2):
    """G3/G4: overlap with protected features is a conflict; without any overlap, the part
    within the buffer of nearby features a warning."""
    if code not in purposes:
        return None
    overlapping = [f for f in features if shapely.intersection(reserve, f).area > min_overlap_m2]
    if overlapping:
        conflict = shapely.intersection(reserve, shapely.union_all(overlapping))
        return {"conflict": conflict, "warning": shapely.Polygon()}
    nearby = [f for f in features if shapely.distance(reserve, f) <= buffer_m]
    warning = (
        shapely.intersection(reserve, shapely.union_all(nearby).buffer(buffer_m))
        if nearby
        else shapely.Polygon()
    )
    return {"conflict": shapely.Polygon(), "warning": warning}


def conflict_union(entry: dict[str, Any]) -> BaseGeometry:
    """The part of an expected reserve in conflict with at least one rule."""
    parts = [f["conflict"] for f in entry["rules"].values() if not f["conflict"].is_empty]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def expected_totals(method: LandAccountMethod, expected: dict[str, dict[str, Any]]):
    """The account's totals from the per-area expectations."""
    status_ok = [e for e in expected.values() if e["status"] in method.params.reserve_status]
    reserves = [e for e in expected.values() if e["is_reserve"]]
    totals = {
        "area_m2": sum(e["area_m2"] for e in status_ok),
        "built_m2": sum(e["built_m2"] for e in status_ok),
        "reserve_m2": sum(e["unbuilt"].area for e in reserves),
        "reserve_count": len(reserves),
        "conflict_m2": sum(conflict_union(e).area for e in reserves),
        "reserves_in_conflict": sum(1 for e in reserves if conflict_union(e).area > 0),
    }
    by_rule = defaultdict(lambda: {"conflict_m2": 0.0, "warning_m2": 0.0, "in_conflict": 0})
    by_group = defaultdict(lambda: defaultdict(float))
    for e in status_ok:
        by_group[e["group"]]["area_m2"] += e["area_m2"]
        by_group[e["group"]]["built_m2"] += e["built_m2"]
    for e in reserves:
        group = by_group[e["group"]]
        group["reserve_m2"] += e["unbuilt"].area
        group["reserve_count"] += 1
        group["conflict_m2"] += conflict_union(e).area
        for rule_id, figures in e["rules"].items():
            by_rule[rule_id]["conflict_m2"] += figures["conflict"].area
            by_rule[rule_id]["warning_m2"] += figures["warning"].area
            by_rule[rule_id]["in_conflict"] += figures["conflict"].area > 0
    cabins = [e for e in expected.values() if e["lots"] is not None]
    by_status: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for e in cabins:
        by_status[str(e["status"])]["area_m2"] += e["area_m2"]
        by_status[str(e["status"])]["unbuilt_m2"] += e["unbuilt"].area
        by_status[str(e["status"])]["lots"] += e["lots"]
    capacity = {
        "by_status": by_status,
        "areas": len(cabins),
        "area_m2": sum(e["area_m2"] for e in cabins),
        "unbuilt_m2": sum(e["unbuilt"].area for e in cabins),
        "lots": sum(e["lots"] for e in cabins),
        "buildings": sum(e["building_count"] for e in cabins),
    }
    return totals, dict(by_rule), dict(by_group), capacity


def assert_m2(got: float, want: float, what: str, tolerance: float = TOLERANCE_M2) -> None:
    assert abs(got - want) <= tolerance, f"{what}: stored {got}, expected {want:.2f}"


def check_account(
    account: dict[str, Any],
    method: LandAccountMethod,
    expected: dict[str, dict[str, Any]],
) -> None:
    """Compare an account's totals (as stored or served) with the expectations."""
    totals, by_rule, by_group, capacity = expected_totals(method, expected)
    got = account["totals"]
    for key in ("area_m2", "built_m2", "reserve_m2", "conflict_m2"):
        assert_m2(got[key], totals[key], f"totals.{key}")
    assert got["reserve_count"] == totals["reserve_count"]
    assert got["reserves_in_conflict"] == totals["reserves_in_conflict"]
    assert got["conflict_share_pct"] == pytest.approx(
        100 * totals["conflict_m2"] / totals["reserve_m2"], abs=0.01
    )
    for rule_id in method.params.rules:
        want = by_rule.get(rule_id, {"conflict_m2": 0.0, "warning_m2": 0.0, "in_conflict": 0})
        figures = got["by_rule"][rule_id]
        assert_m2(figures["conflict_m2"], want["conflict_m2"], f"{rule_id} conflict_m2")
        assert_m2(figures["warning_m2"], want["warning_m2"], f"{rule_id} warning_m2")
        assert figures["unknown_m2"] == 0, f"{rule_id} could not check some reserve"
        assert figures["reserves_in_conflict"] == want["in_conflict"], rule_id
        assert figures["conflict_share_pct"] == pytest.approx(
            100 * want["conflict_m2"] / totals["reserve_m2"], abs=0.01
        )
    for name, entry in got["by_group"].items():
        want = by_group.get(name, {})
        for key in ("area_m2", "built_m2", "reserve_m2", "conflict_m2"):
            assert_m2(entry[key], want.get(key, 0.0), f"by_group.{name}.{key}")
        assert entry["reserve_count"] == want.get("reserve_count", 0), name
        reserve_m2 = want.get("reserve_m2", 0.0)
        share = 100 * want.get("conflict_m2", 0.0) / reserve_m2 if reserve_m2 else 0.0
        assert entry["conflict_share_pct"] == pytest.approx(share, abs=0.01), name
    cabins = got["cabin_capacity"]
    assert cabins["areas"] == capacity["areas"]
    assert cabins["lots"] == capacity["lots"]
    assert cabins["buildings"] == capacity["buildings"]
    assert_m2(cabins["area_m2"], capacity["area_m2"], "cabin area")
    assert_m2(cabins["unbuilt_m2"], capacity["unbuilt_m2"], "cabin unbuilt")
    assert cabins["lot_size_m2"] == method.params.lot_size_m2
    assert set(cabins["by_status"]) == set(capacity["by_status"])
    for status, want in capacity["by_status"].items():
        entry = cabins["by_status"][status]
        assert entry["lots"] == want["lots"], status
        assert_m2(entry["area_m2"], want["area_m2"], f"cabin area, status {status}")
        assert_m2(entry["unbuilt_m2"], want["unbuilt_m2"], f"cabin unbuilt, status {status}")


def stored_rows(account_id: int) -> dict[str, LandAccountAreaOrm]:
    """The stored area rows of an account, by source key."""
    with get_sessionmaker()() as session:
        rows = session.scalars(
            select(LandAccountAreaOrm).where(LandAccountAreaOrm.account_id == account_id)
        ).all()
        session.expunge_all()
    return {row.feature_key: row for row in rows}


def stored_account(account_id: int) -> dict[str, Any]:
    """An account's stored figures and what it was computed from."""
    with get_sessionmaker()() as session:
        account = session.get(LandAccountOrm, account_id)
        return {
            "kommunenummer": account.kommunenummer,
            "totals": account.totals,
            "layer_versions": account.layer_versions,
            "computed_at": account.computed_at,
        }


def check_rows(rows: dict[str, LandAccountAreaOrm], expected: dict[str, dict[str, Any]]):
    """Compare the stored per-area rows with the expectations."""
    assert set(rows) == set(expected)
    for key, want in expected.items():
        row = rows[key]
        assert row.is_reserve == want["is_reserve"], key
        assert_m2(row.area_m2, want["area_m2"], f"{key} area")
        assert_m2(row.built_m2, want["built_m2"], f"{key} built")
        assert_m2(row.unbuilt_m2, want["unbuilt"].area, f"{key} unbuilt")
        assert row.building_count == want["building_count"], key
        assert row.lots == want["lots"], key
        if want["unbuilt"].is_empty or not want["is_reserve"]:
            assert row.geom is None, key  # only a reserve's outline is stored
        else:
            geometry = to_shape(row.geom)
            assert_m2(shapely.symmetric_difference(geometry, want["unbuilt"]).area, 0, key)
        assert set(row.conflicts) == set(want["rules"]), key
        for rule_id, figures in want["rules"].items():
            got = row.conflicts[rule_id]
            assert_m2(got["conflict_m2"], figures["conflict"].area, f"{key} {rule_id} conflict")
            assert_m2(got["warning_m2"], figures["warning"].area, f"{key} {rule_id} warning")
            assert got["unknown_m2"] == 0, f"{key} {rule_id}"
        assert_m2(row.conflict_m2, conflict_union(want).area if want["rules"] else 0, key)


# --- the tests ---------------------------------------------------------------------------


def test_the_fixture_exercises_what_it_claims():
    """The independent expectations themselves: each designed case has the shape it should
    (a test of the fixture, so that the DB tests below cannot pass vacuously)."""
    method = default_land_account_method()
    expected = expected_areas(method, HEMSEDAL_AREAS, HEMSEDAL_BUILDINGS)
    assert "F6" not in expected  # friområde is no reserve purpose
    f1, f2, f3, f4, f5 = (expected[k] for k in ("F1", "F2", "F3", "F4", "F5"))
    # F1: partly built; its G1 part and its G2 part are both large; the G2 part is built
    # in part (the cabin at 170, 50).
    assert 300 < f1["built_m2"] < 700
    assert f1["rules"]["G1"]["conflict"].area > 9_000
    g2_part = shapely.intersection(RECREATION[0]["geometry"], HEMSEDAL_AREAS[0]["geometry"])
    assert g2_part.area - f1["rules"]["G2"]["conflict"].area > 300
    # F2: both a conflict and a warning, the warning less the part in conflict.
    assert f2["rules"]["G2"]["conflict"].area > 2_000 and f2["rules"]["G2"]["warning"].area > 4_000
    assert f3["rules"]["G3"]["conflict"].area > 9_000 and f3["built_m2"] > 300
    assert f4["rules"]["G3"]["warning"].area > 4_000 and f4["rules"]["G4"]["conflict"].area > 700
    assert f5["rules"]["G1"]["conflict"].area > 9_000 and f5["rules"]["G4"]["warning"].area > 1_000
    assert expected["F9"]["unbuilt"].is_empty and not expected["F9"]["is_reserve"]
    assert expected["F11"]["unbuilt"].is_empty and expected["F11"]["area_m2"] > 90
    # Every building buffer lies wholly inside or wholly outside each area: the sliver rule
    # has nothing to round (the cases where it has are the tests of their own below).
    for b in HEMSEDAL_BUILDINGS:
        for a in HEMSEDAL_AREAS:
            cover = b["geometry"].buffer(method.params.built_buffer_m)
            assert a["geometry"].contains(cover) or not a["geometry"].intersects(cover)
    # ... and no two buffers meet: the wedges between overlapping buffers are slivers the
    # method drops (tests/unit/test_land_account_method.py measures that case).
    counted = [b["geometry"] for b in HEMSEDAL_BUILDINGS if b["bygningsstatus"] == "TB"]
    for i, one in enumerate(counted):
        for other in counted[i + 1 :]:
            assert one.distance(other) > 2 * method.params.built_buffer_m
    assert expected["F12"]["rules"]["G1"]["warning"].area > 25_000
    assert expected["F12"]["rules"]["G1"]["conflict"].is_empty
    assert all(g.is_empty for g in expected["F2"]["rules"]["G1"].values())  # far below
    assert {expected[k]["lots"] is not None for k in ("F1", "F2", "F7", "F8", "F12")} == {True}
    assert share_of(method, expected["F8"]["area_m2"]) == 1.0
    assert share_of(method, expected["F7"]["area_m2"]) == 0.5
    assert share_of(method, expected["F1"]["area_m2"]) == 0.75


def test_reserves_and_conflicts_equal_the_exact_overlay(tmp_path, client):
    """One municipality: the stored totals, per-area rows, findings and the API agree with
    the overlay computed here, to 0.5 m²."""
    load_fixture(tmp_path, HEMSEDAL_AREAS, HEMSEDAL_BUILDINGS)
    settings = settings_for(tmp_path)
    method = get_method(settings)
    (account_id,) = compute_land_accounts(settings, HEMSEDAL, trigger="test")
    expected = expected_areas(method, HEMSEDAL_AREAS, HEMSEDAL_BUILDINGS)

    account = stored_account(account_id)
    check_account(account, method, expected)
    check_rows(stored_rows(account_id), expected)
    assert set(account["layer_versions"]) >= {
        "existing_kommuneplan",
        "buildings",
        "elevation",
        "tree_line",
        "recreation_areas",
        "mineral_deposits",
        "heritage_protected",
    }

    served = client.get(f"/api/v1/land-account/{HEMSEDAL}")
    assert served.status_code == 200, served.text
    assert served.json()["id"] == account_id
    check_account(served.json(), method, expected)

    reserves = client.get(f"/api/v1/land-account/{HEMSEDAL}/reserves?crs=EPSG:25832")
    assert reserves.status_code == 200, reserves.text
    features = reserves.json()["features"]
    want = {k: e for k, e in expected.items() if e["is_reserve"]}
    assert {f["properties"]["source_key"] for f in features} == set(want)
    conflicts = [f["properties"]["conflict_m2"] for f in features]
    assert conflicts == sorted(conflicts, reverse=True)  # heaviest conflict first
    for feature in features:
        props = feature["properties"]
        entry = want[props["source_key"]]
        assert_m2(props["reserve_m2"], entry["unbuilt"].area, props["source_key"])
        assert_m2(props["conflict_m2"], conflict_union(entry).area, props["source_key"])
        assert_m2(
            shapely.geometry.shape(feature["geometry"]).area,
            entry["unbuilt"].area,
            f"{props['source_key']} geometry",
        )
        for rule_id, figures in entry["rules"].items():
            got = props["conflicts"][rule_id]
            assert_m2(got["conflict_m2"], figures["conflict"].area, rule_id)
            assert_m2(got["warning_m2"], figures["warning"].area, rule_id)
    only = client.get(f"/api/v1/land-account/{HEMSEDAL}/reserves?conflicts_only=true")
    in_conflict = {k for k, e in want.items() if conflict_union(e).area > 0}
    assert {f["properties"]["source_key"] for f in only.json()["features"]} == in_conflict
    assert in_conflict == {"F1", "F2", "F3", "F4", "F5"}


def test_stored_findings_add_up_to_the_figures(tmp_path):
    """Per rule, the stored findings' areas (the part of the reserve each concerns) sum to
    the account's conflict figure, and to its warning figure where no reserve has both."""
    load_fixture(tmp_path, HEMSEDAL_AREAS, HEMSEDAL_BUILDINGS)
    settings = settings_for(tmp_path)
    (account_id,) = compute_land_accounts(settings, HEMSEDAL, trigger="test")
    totals = stored_account(account_id)["totals"]
    with get_sessionmaker()() as session:
        findings = session.execute(
            select(
                LandAccountFindingOrm.rule_id,
                LandAccountFindingOrm.severity,
                LandAccountFindingOrm.area_m2,
                LandAccountAreaOrm.feature_key,
            )
            .join(LandAccountAreaOrm, LandAccountAreaOrm.id == LandAccountFindingOrm.area_id)
            .where(LandAccountFindingOrm.account_id == account_id)
        ).all()
    sums: dict[tuple[str, str], float] = defaultdict(float)
    for rule_id, severity, area_m2, _ in findings:
        sums[rule_id, severity] += area_m2
    for rule_id, figures in totals["by_rule"].items():
        assert_m2(sums[rule_id, "conflict"], figures["conflict_m2"], f"{rule_id} conflicts")
        assert not sums.get((rule_id, "unknown")), rule_id
    for rule_id in ("G1", "G3", "G4"):  # one finding per reserve: conflict or warning
        figures = totals["by_rule"][rule_id]
        assert_m2(sums[rule_id, "warning"], figures["warning_m2"], f"{rule_id} warnings")
    # Every reserve in conflict has a conflict finding of each rule that counts it.
    with_conflict = {
        (rule_id, key) for rule_id, severity, _, key in findings if severity == "conflict"
    }
    assert with_conflict == {
        ("G1", "F1"),
        ("G2", "F1"),
        ("G2", "F2"),
        ("G3", "F3"),
        ("G4", "F4"),
        ("G1", "F5"),
    }


def test_an_unbuilt_rectangle_is_all_reserve(tmp_path):
    """A plain rectangular framtidig area with no building anywhere near is wholly a
    reserve: nothing of it is built, and its corners are not narrow parts."""
    areas = [adopted("R1", rect(0, 0, 200, 100), 1110, 2)]
    load_fixture(tmp_path, areas, [building(pt(1_000, 1_000))])
    settings = settings_for(tmp_path)
    (account_id,) = compute_land_accounts(settings, HEMSEDAL, trigger="test")
    row = stored_rows(account_id)["R1"]
    assert (row.area_m2, row.built_m2, row.unbuilt_m2) == (20_000.0, 0.0, 20_000.0)


def test_a_building_beside_an_area_builds_the_part_within_its_buffer(tmp_path):
    """A building 5 m outside an area makes the part of the area within its buffer built
    (and only that); it is not counted among the area's buildings."""
    areas = [adopted("R1", rounded(0, 0, 200, 100), 1110, 2)]
    outside = [building(pt(-5, 50))]
    load_fixture(tmp_path, areas, outside)
    settings = settings_for(tmp_path)
    method = get_method(settings)
    (account_id,) = compute_land_accounts(settings, HEMSEDAL, trigger="test")
    row = stored_rows(account_id)["R1"]
    bite = shapely.intersection(
        areas[0]["geometry"], outside[0]["geometry"].buffer(method.params.built_buffer_m)
    )
    assert bite.area > 50
    assert row.building_count == 0
    assert_m2(row.built_m2, bite.area, "built")
    assert_m2(row.unbuilt_m2, areas[0]["geometry"].area - bite.area, "unbuilt")


def test_a_narrow_strip_left_by_a_row_of_buildings_is_no_reserve(tmp_path):
    """A row of buildings 1 m apart leaves a strip about 6 m wide along the area's east
    edge: narrower than 2 × min_reserve_width_m, it is dropped; the rest is the reserve."""
    areas = [adopted("R1", rounded(0, 0, 100, 100), 1300, 2)]
    row_x = 84.0
    row = [building(pt(row_x, -10.5 + i)) for i in range(121)]  # y -10.5 .. 109.5
    load_fixture(tmp_path, areas, row)
    settings = settings_for(tmp_path)
    method = get_method(settings)
    (account_id,) = compute_land_accounts(settings, HEMSEDAL, trigger="test")
    stored = stored_rows(account_id)["R1"]
    buffer_m = method.params.built_buffer_m
    assert method.params.min_reserve_width_m * 2 > 100 - (row_x + buffer_m)  # designed narrow
    cover = shapely.union_all([b["geometry"].buffer(buffer_m) for b in row])
    parts = shapely.get_parts(shapely.difference(areas[0]["geometry"], cover))
    west = shapely.union_all([p for p in parts if p.centroid.x < X0 + row_x])
    east = shapely.union_all([p for p in parts if p.centroid.x > X0 + row_x])
    assert 500 < east.area < 650
    kept = to_shape(stored.geom)
    assert shapely.intersection(kept, rect(row_x, -50, 200, 150)).area == 0  # strip dropped
    assert stored.building_count == 100
    assert_m2(stored.unbuilt_m2, west.area, "unbuilt")
    assert_m2(stored.built_m2, areas[0]["geometry"].area - west.area, "built")


def test_two_municipalities_keep_to_their_own_areas(tmp_path):
    """Hemsedal's and Gol's accounts each hold their own areas, buildings and conflicts:
    the figures of one are those computed for it alone."""
    load_fixture(
        tmp_path,
        HEMSEDAL_AREAS + GOL_AREAS,
        HEMSEDAL_BUILDINGS + GOL_BUILDINGS,
        DEPOSITS + GOL_DEPOSITS,
    )
    settings = settings_for(tmp_path)
    method = get_method(settings)
    ids = compute_land_accounts(settings, trigger="test")
    assert len(ids) == 18
    by_knr = {stored_account(i)["kommunenummer"]: i for i in ids}
    deposits = DEPOSITS + GOL_DEPOSITS
    buildings = HEMSEDAL_BUILDINGS + GOL_BUILDINGS
    for knr, areas in ((HEMSEDAL, HEMSEDAL_AREAS), (GOL, GOL_AREAS)):
        expected = expected_areas(method, areas, buildings, deposits)
        check_account(stored_account(by_knr[knr]), method, expected)
        check_rows(stored_rows(by_knr[knr]), expected)
    gol = expected_areas(method, GOL_AREAS, buildings, deposits)
    assert gol["G1"]["rules"]["G3"]["conflict"].area > 4_000  # a real conflict in Gol
    assert gol["G2"]["is_reserve"] and gol["G3"]["lots"] > 0
    for knr, account_id in by_knr.items():
        if knr not in (HEMSEDAL, GOL):
            totals = stored_account(account_id)["totals"]
            assert (totals["area_m2"], totals["reserve_count"]) == (0, 0), knr
            assert stored_rows(account_id) == {}, knr


def test_date_returns_the_older_account_and_the_indicator_has_one_point_a_year(tmp_path, client):
    """After a second computation (a new cabin built in F2, the first account dated 2025),
    `?date=` gives the older figures, no date the newer; the indicator has one point per
    municipality and year, the year's last account."""
    load_fixture(tmp_path, HEMSEDAL_AREAS, HEMSEDAL_BUILDINGS)
    settings = settings_for(tmp_path)
    method = get_method(settings)
    first_ids = compute_land_accounts(settings, trigger="test")
    first = next(i for i in first_ids if stored_account(i)["kommunenummer"] == HEMSEDAL)
    with get_engine().begin() as connection:
        connection.execute(
            text(
                "UPDATE land_account SET computed_at = '2025-06-01 12:00+02' WHERE id = ANY(:ids)"
            ),
            {"ids": first_ids},
        )
    more = [*HEMSEDAL_BUILDINGS, building(pt(575, 40))]  # in F2, in its value B part
    load_vector_layer("buildings", more, tmp_path)
    (middle,) = compute_land_accounts(settings, HEMSEDAL, trigger="test")
    (second,) = compute_land_accounts(settings, HEMSEDAL, trigger="test")
    (gol,) = compute_land_accounts(settings, GOL, trigger="test")
    assert stored_account(second)["layer_versions"]["buildings"] == 2

    old = expected_areas(method, HEMSEDAL_AREAS, HEMSEDAL_BUILDINGS)
    new = expected_areas(method, HEMSEDAL_AREAS, more)
    assert new["F2"]["unbuilt"].area < old["F2"]["unbuilt"].area - 250

    on_date = client.get(f"/api/v1/land-account/{HEMSEDAL}?date=2025-06-01")
    assert on_date.status_code == 200, on_date.text
    assert on_date.json()["id"] == first
    check_account(on_date.json(), method, old)
    latest = client.get(f"/api/v1/land-account/{HEMSEDAL}")
    assert latest.json()["id"] == second
    check_account(latest.json(), method, new)
    assert client.get(f"/api/v1/land-account/{HEMSEDAL}?date=2025-05-31").status_code == 404
    reserves = client.get(f"/api/v1/land-account/{HEMSEDAL}/reserves?date=2025-06-01")
    assert reserves.json()["account_id"] == first

    this_year = date.today().year
    with get_sessionmaker()() as session:
        series = indicator_series(session)
    points = [(p["kommunenummer"], p["year"]) for p in series]
    assert len(points) == len(set(points))  # one point per municipality and year
    assert {knr for knr, year in points if year == 2025} == {
        stored_account(i)["kommunenummer"] for i in first_ids
    }
    assert len([p for p in points if p[1] == 2025]) == 18
    assert sorted(p for p in points if p[1] == this_year) == [
        (GOL, this_year),
        (HEMSEDAL, this_year),
    ]
    hemsedal = {p["year"]: p for p in series if p["kommunenummer"] == HEMSEDAL}
    assert hemsedal[2025]["account_id"] == first
    assert hemsedal[this_year]["account_id"] == second != middle
    old_totals, *_ = expected_totals(method, old)
    new_totals, *_ = expected_totals(method, new)
    assert_m2(hemsedal[2025]["reserve_m2"], old_totals["reserve_m2"], "2025 reserve")
    assert_m2(hemsedal[this_year]["reserve_m2"], new_totals["reserve_m2"], "reserve")
    assert_m2(hemsedal[this_year]["conflict_m2"], new_totals["conflict_m2"], "conflict")
    assert hemsedal[this_year]["reserves_in_conflict"] == new_totals["reserves_in_conflict"]
    assert [p["year"] for p in latest.json()["trend"]] == [2025, this_year]
    assert stored_account(gol)["kommunenummer"] == GOL

    county = client.get("/api/v1/land-account?date=2025-06-01").json()
    assert {row["account_id"] for row in county["municipalities"]} == set(first_ids)
    assert_m2(county["county"]["reserve_m2"], old_totals["reserve_m2"], "county reserve")
    assert_m2(county["county"]["conflict_m2"], old_totals["conflict_m2"], "county conflict")
    county_now = client.get("/api/v1/land-account").json()
    now_ids = {row["kommunenummer"]: row["account_id"] for row in county_now["municipalities"]}
    assert now_ids[HEMSEDAL] == second and now_ids[GOL] == gol


def test_dates_and_years_are_norwegian(tmp_path, client):
    """`?date=` and the indicator's years follow Norwegian time: an account computed at
    23:30 on 1 June (Oslo) counts for that day, one at 00:30 on 2 June does not, and one at
    00:30 on New Year's Day counts for the new year although it is still the old one in UTC."""
    load_vector_layer(
        "existing_kommuneplan", [adopted("F1", rounded(0, 0, 200, 100), 1110, 2)], tmp_path
    )
    settings = settings_for(tmp_path)
    ids = [compute_land_accounts(settings, HEMSEDAL, trigger="test")[0] for _ in range(3)]
    times = ["2025-06-01 23:30+02", "2025-06-02 00:30+02", "2026-01-01 00:30+01"]
    with get_engine().begin() as connection:
        for account_id, when in zip(ids, times, strict=True):
            connection.execute(
                text("UPDATE land_account SET computed_at = :when WHERE id = :id"),
                {"when": when, "id": account_id},
            )
    on_first = client.get(f"/api/v1/land-account/{HEMSEDAL}?date=2025-06-01")
    assert on_first.json()["id"] == ids[0]
    assert client.get(f"/api/v1/land-account/{HEMSEDAL}?date=2025-06-02").json()["id"] == ids[1]
    assert client.get(f"/api/v1/land-account/{HEMSEDAL}?date=2025-12-31").json()["id"] == ids[1]
    assert client.get(f"/api/v1/land-account/{HEMSEDAL}?date=2026-01-01").json()["id"] == ids[2]
    assert client.get(f"/api/v1/land-account/{HEMSEDAL}?date=2025-05-31").status_code == 404
    with get_sessionmaker()() as session:
        series = indicator_series(session, HEMSEDAL)
    assert [(p["year"], p["account_id"]) for p in series] == [(2025, ids[1]), (2026, ids[2])]


def test_a_reserve_the_rasters_do_not_cover_is_unknown_to_g1_never_ok(tmp_path):
    """A cabin reserve east of the DEM: G1 counts all of it as unknown, none as conflict."""
    areas = [adopted("U1", rounded(3_000, 0, 3_200, 100), 1120, 2)]
    load_fixture(tmp_path, areas, [building(pt(3_100, 50))])
    settings = settings_for(tmp_path)
    method = get_method(settings)
    (account_id,) = compute_land_accounts(settings, HEMSEDAL, trigger="test")
    expected = expected_areas(method, areas, [building(pt(3_100, 50))])["U1"]
    row = stored_rows(account_id)["U1"]
    assert_m2(row.unbuilt_m2, expected["unbuilt"].area, "reserve")
    assert_m2(row.conflicts["G1"]["unknown_m2"], expected["unbuilt"].area, "G1 unknown")
    assert row.conflicts["G1"]["conflict_m2"] == 0 and row.conflict_m2 == 0
    totals = stored_account(account_id)["totals"]
    assert_m2(totals["by_rule"]["G1"]["unknown_m2"], expected["unbuilt"].area, "G1 unknown")
    assert totals["by_rule"]["G2"]["unknown_m2"] == 0
