"""Baseline: the same checks G1-G5 as a GIS analyst would script them with GeoPandas.

This is the straightforward script the benchmark compares Arealsjekk with: read the plan
and the guideline layers with GeoPandas (the same GeoPackages that were loaded into the
bench database, read with a bounding-box filter around the plan, as an analyst would), do
the overlays with `gpd.overlay` / `gpd.sjoin` / buffers, the tree-line share with
rasterstats `zonal_stats` on the same 10 m DEM (tree line taken at a point in each area
with `point_query`), and the nearest hub with `gpd.sjoin_nearest`. Thresholds come from the
same rule-set file. It uses nothing of Arealsjekk's code. It produces counts of findings
per rule and severity (no texts, no finding geometries stored), so it does less than the
engine; the counts are compared with the engine's in the results.

Run: .venv/bin/python bench/baseline.py --size S --repeat 3   (prints one JSON line)
"""

import argparse
import json
import re
import time
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import common
import geopandas as gpd
import numpy as np
import pandas as pd
import yaml
from rasterstats import point_query, zonal_stats

RULE_FILE = common.ROOT / "layers" / "rules" / "buskerudplanen-2026.yaml"
MUNICIPALITY_FILE = common.ROOT / "layers" / "data" / "buskerud_municipalities.yaml"
DEM = common.LAYER_DIR / "elevation.tif"
TREE_LINE = common.LAYER_DIR / "tree_line.tif"
NODATA = -9999.0


def codes(value: Any) -> set[int]:
    """Expand [1120, "1121-1123"] into a set of codes."""
    out: set[int] = set()
    for item in value if isinstance(value, list) else [value]:
        text = str(item)
        if "-" in text:
            low, high = (int(v) for v in text.split("-"))
            out.update(range(low, high + 1))
        else:
            out.add(int(text))
    return out


PARAMS = {
    rule["id"]: {name: spec["value"] for name, spec in rule["params"].items()}
    for rule in yaml.safe_load(RULE_FILE.read_text("utf-8"))["rules"]
}
CENTRALITY = {
    k: v["centrality_class"]
    for k, v in yaml.safe_load(MUNICIPALITY_FILE.read_text("utf-8"))["municipalities"].items()
}


def read_layer(
    name: str, bbox: tuple[float, float, float, float] | None = None
) -> gpd.GeoDataFrame:
    """Read a layer GeoPackage, optionally only what meets a bounding box."""
    return gpd.read_file(common.LAYER_DIR / f"{name}.gpkg", bbox=bbox, engine="pyogrio")


def grow(bounds: np.ndarray, metres: float) -> tuple[float, float, float, float]:
    """A bounding box grown by some metres."""
    minx, miny, maxx, maxy = bounds
    return (minx - metres, miny - metres, maxx + metres, maxy + metres)


def ids(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Keep an area id and the geometry."""
    return gpd.GeoDataFrame(
        {"aid": frame["aid"].values}, geometry=frame.geometry.values, crs=frame.crs
    )


def new_areas(areas: gpd.GeoDataFrame, kp: bool, p: dict[str, Any], purposes: set[int]) -> Any:
    """Areas of the purposes that are new (status 2 or missing in a kommuneplan)."""
    if not kp:
        return areas[areas["formal"].isin(purposes)]
    status = areas["status"]
    return areas[
        areas["formal"].isin(purposes) & (status.isna() | status.isin(codes(p["new_status"])))
    ]


def g1(areas: gpd.GeoDataFrame, kp: bool) -> Counter[str]:
    """New cabin areas above the tree line: zonal stats on the DEM against the tree line."""
    p = PARAMS["G1"]
    purposes = codes(p["kommuneplan_purposes"] if kp else p["reguleringsplan_purposes"])
    cabins = ids(new_areas(areas, kp, p, purposes))
    found: Counter[str] = Counter()
    if cabins.empty:
        return Counter({"info": 1})
    existing = read_layer("existing_kommuneplan", tuple(cabins.total_bounds))
    existing = existing[existing["arealformal"].isin(codes(p["existing_cabin_purposes"]))]
    new = cabins
    if not existing.empty:
        new = gpd.overlay(cabins, existing[["geometry"]], how="difference")
        new = new[new.area >= 1.0]
    found["ok"] += len(cabins) - len(new)  # entirely inside adopted cabin areas
    if new.empty:
        return found
    tree_line = point_query(list(new.geometry.representative_point()), str(TREE_LINE))
    stats = zonal_stats(new, str(DEM), stats=["count"], raster_out=True, nodata=NODATA)
    for area, line, stat in zip(new.area, tree_line, stats, strict=True):
        cells = stat["mini_raster_array"]
        if line is None or stat["count"] in (None, 0):
            found["unknown"] += 1
            continue
        above = float((cells > line).sum()) * 100.0
        transition = float(((cells <= line) & (cells > line - p["transition_zone_m"])).sum()) * 100
        threshold = max(p["conflict_min_area_m2"], p["conflict_min_share_pct"] / 100 * area)
        if above > threshold:
            found["conflict"] += 1
        elif above > 0 or transition > 0:
            found["warning"] += 1
        else:
            found["ok"] += 1
    return found


def g2(areas: gpd.GeoDataFrame, kp: bool) -> Counter[str]:
    """Cabin areas overlaid with recreation, villrein, state-secured and INON areas."""
    p = PARAMS["G2"]
    purposes = codes(p["kommuneplan_purposes"] if kp else p["reguleringsplan_purposes"])
    cabins = ids(new_areas(areas, kp, p, purposes))
    if cabins.empty:
        return Counter({"info": 1})
    bbox = tuple(cabins.total_bounds)
    found: Counter[str] = Counter()
    flagged: set[int] = set()
    conflict_values = set(p["recreation_conflict_values"])
    warning_values = set(p["recreation_warning_values"])
    recreation = read_layer("recreation_areas", bbox)
    recreation = recreation[recreation["value"].isin(conflict_values | warning_values)]
    layers = [
        ("recreation", recreation[["value", "geometry"]], None),
        ("state", read_layer("state_recreation_areas", bbox)[["geometry"]], "state_recreation"),
        ("villrein", read_layer("villrein_areas", bbox)[["geometry"]], "villrein"),
        ("inon", read_layer("intact_nature", bbox)[["geometry"]], "intact_nature"),
    ]
    for name, layer, severity_key in layers:
        if layer.empty:
            continue
        overlap = gpd.overlay(cabins, layer, how="intersection", keep_geom_type=True)
        overlap = overlap[overlap.area > p["min_overlap_m2"]]
        if name == "recreation":
            for (aid, value), _ in overlap.groupby(["aid", "value"]):
                found["conflict" if value in conflict_values else "warning"] += 1
                flagged.add(aid)
        else:
            hits = overlap["aid"].unique()
            found[p[f"{severity_key}_severity"]] += len(hits)
            flagged.update(hits)
    corridors = read_layer("villrein_corridors", bbox)
    if not corridors.empty:
        joined = gpd.sjoin(cabins, corridors[["geometry"]], predicate="intersects")
        if not joined.empty:
            lines = corridors.geometry.loc[joined["index_right"]].values
            cut = joined.geometry.intersection(gpd.GeoSeries(lines, index=joined.index)).length
            hits = joined.loc[cut > 0, "aid"].unique()
            found[p["corridor_severity"]] += len(hits)
            flagged.update(hits)
    found["ok"] += int((~cabins["aid"].isin(flagged)).sum())
    return found


def g3(areas: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, boundary: Any, kp: bool) -> Counter[str]:
    """Sterilising areas on or near deposits; in a kommuneplan, deposits safeguarded."""
    p = PARAMS["G3"]
    found: Counter[str] = Counter()
    sterilising = areas[areas["formal"].isin(codes(p["sterilising_purposes"]))]
    if kp:
        sterilising = sterilising[~sterilising["status"].isin(codes(p["existing_status"]))]
    sterilising = ids(sterilising)
    if sterilising.empty and not kp:
        return Counter({"info": 1})
    protected = set(p["protected_importance"])
    if not sterilising.empty:
        deposits = read_layer("mineral_deposits", grow(sterilising.total_bounds, p["buffer_m"]))
        deposits = deposits[deposits["importance"].isin(protected)][["geometry"]]
        conflict: set[int] = set()
        near: set[int] = set()
        if not deposits.empty:
            overlap = gpd.overlay(sterilising, deposits, how="intersection")
            conflict = set(overlap.loc[overlap.area > p["min_overlap_m2"], "aid"])
            zone = gpd.GeoDataFrame(geometry=deposits.buffer(p["buffer_m"]), crs=deposits.crs)
            near = set(gpd.sjoin(sterilising, zone, predicate="intersects")["aid"])
        found["conflict"] += len(conflict)
        found["warning"] += len(near - conflict)
        found["ok"] += len(sterilising) - len(near | conflict)
    if kp:
        found.update(_safeguarding(areas, zones, boundary, p, protected))
    return found


def _safeguarding(
    areas: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, boundary: Any, p: dict, protected: set
) -> Counter[str]:
    deposits = read_layer("mineral_deposits", tuple(boundary.bounds))
    deposits = deposits[deposits["importance"].isin(protected)][["geometry"]]
    cover = pd.concat(
        [
            areas.loc[areas["formal"].isin(codes(p["safeguard_purposes"])), ["geometry"]],
            zones.loc[zones["code"].isin(codes(p["safeguard_zones"])), ["geometry"]],
        ]
    )
    return _uncovered(
        deposits, boundary, cover, p["min_overlap_m2"], p["omission_min_uncovered_pct"]
    )


def _uncovered(
    layer: gpd.GeoDataFrame, boundary: Any, cover: gpd.GeoDataFrame, min_m2: float, max_pct: float
) -> Counter[str]:
    """Per feature inside the plan boundary: warning if more than max_pct is not covered."""
    found: Counter[str] = Counter()
    if layer.empty:
        return Counter({"ok": 1})
    plan = gpd.GeoDataFrame(geometry=[boundary], crs=layer.crs)
    inside = gpd.overlay(
        layer.reset_index(names="fid")[["fid", "geometry"]], plan, how="intersection"
    )
    inside = inside[inside.area > min_m2]
    if inside.empty:
        return Counter({"ok": 1})
    inside["whole"] = inside.area
    rest = inside
    if not cover.empty:
        rest = gpd.overlay(
            inside,
            gpd.GeoDataFrame(geometry=cover.geometry.values, crs=layer.crs),
            how="difference",
        )
    share = (rest.area / rest["whole"] * 100).groupby(rest["fid"]).sum()
    warned = int((share > max_pct).sum())
    found["warning"] += warned
    found["ok"] += len(inside) - warned
    return found


def g4(areas: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, boundary: Any, kp: bool) -> Counter[str]:
    """Development on or near protected heritage; in a kommuneplan, zones over environments."""
    p = PARAMS["G4"]
    found: Counter[str] = Counter()
    development = areas[areas["formal"].isin(codes(p["development_purposes"]))]
    if kp:
        development = development[~development["status"].isin(codes(p["existing_status"]))]
    development = ids(development)
    if development.empty and not kp:
        return Counter({"info": 1})
    if not development.empty:
        heritage = read_layer("heritage_protected", grow(development.total_bounds, p["buffer_m"]))
        heritage = heritage[["geometry"]]
        conflict: set[int] = set()
        near: set[int] = set()
        if not heritage.empty:
            overlap = gpd.overlay(development, heritage, how="intersection")
            conflict = set(overlap.loc[overlap.area > p["min_overlap_m2"], "aid"])
            zone = gpd.GeoDataFrame(geometry=heritage.buffer(p["buffer_m"]), crs=heritage.crs)
            near = set(gpd.sjoin(development, zone, predicate="intersects")["aid"])
        found["conflict"] += len(conflict)
        found["warning"] += len(near - conflict)
        found["ok"] += len(development) - len(near | conflict)
        if not kp:
            environments = read_layer("cultural_environments", tuple(development.total_bounds))
            categories = set(p["overlap_info_categories"])
            environments = environments[environments["category"].isin(categories)]
            if not environments.empty:
                overlap = gpd.overlay(development, environments[["geometry"]], how="intersection")
                found["info"] += overlap.loc[overlap.area > p["min_overlap_m2"], "aid"].nunique()
    if kp:
        bbox = tuple(boundary.bounds)
        environment_zones = zones[zones["code"].isin(codes(p["environment_zones"]))]
        protected_zones = zones[zones["code"].isin(codes(p["protected_environment_zones"]))]
        for name, cover, where in (
            ("cultural_environments", environment_zones, None),
            ("municipal_heritage_plans", environment_zones, None),
            ("heritage_protected", protected_zones, "category = 'fredet kulturmiljø'"),
        ):
            layer = gpd.read_file(
                common.LAYER_DIR / f"{name}.gpkg", bbox=bbox, where=where, engine="pyogrio"
            )
            found.update(
                _uncovered(
                    layer[["geometry"]],
                    boundary,
                    cover[["geometry"]],
                    p["min_overlap_m2"],
                    p["omission_min_uncovered_pct"],
                )
            )
    return found


def g5(areas: gpd.GeoDataFrame, kp: bool, kommunenummer: str) -> Counter[str]:
    """New development areas in the centrality x pressure matrix: hub distance, tettsted."""
    p = PARAMS["G5"]
    uses = {use: codes(value) for use, value in p["uses"].items()}
    all_codes = set().union(*uses.values())
    development = new_areas(areas, kp, p, all_codes)
    if development.empty:
        return Counter({"info": 1})
    development = development.copy()
    centrality = (
        p["centrality_overrides"].get(kommunenummer)
        or p["centrality_by_class"][CENTRALITY[kommunenummer]]
    )
    tettsteder = read_layer("tettsteder")[["population", "geometry"]]
    hubs = read_layer("transport_hubs")[["name", "geometry"]]
    points = gpd.GeoDataFrame(
        {"aid": development["aid"].values},
        geometry=development.geometry.representative_point().values,
        crs=development.crs,
    )
    home = gpd.sjoin(points, tettsteder, predicate="within").groupby("aid")["population"].max()
    inside = gpd.overlay(ids(development), tettsteder[["geometry"]], how="intersection")
    inside_m2 = inside.area.groupby(inside["aid"]).sum()
    nearest = gpd.sjoin_nearest(ids(development), hubs, distance_col="distance")
    distance = nearest.groupby("aid")["distance"].min()
    utilisation = development.get("utnyttingstall")
    kind = development.get("utnyttingstype")
    found: Counter[str] = Counter()
    for row, area in zip(development.itertuples(), development.area, strict=True):
        population = home.get(row.aid)
        if population is None or np.isnan(population):
            pressure = "spredtbygd"
        elif population >= p["larger_tettsted_population"]:
            pressure = "større tettsted"
        else:
            pressure = "mindre tettsted"
        cell = p["matrix"][centrality][pressure]
        use = next(u for u, c in uses.items() if row.formal in c)
        wanted = cell.get("requirements", {}).get(use, {})
        unmet = False
        if "max_hub_distance_m" in wanted:
            unmet |= round(float(distance.get(row.aid, np.inf)), 1) > wanted["max_hub_distance_m"]
        if wanted.get("inside_tettsted"):
            share = 100 * float(inside_m2.get(row.aid, 0.0)) / area
            unmet |= round(share, 2) < p["inside_tettsted_min_pct"]
        if "min_utilisation_pct_bra" in wanted and utilisation is not None:
            stated = utilisation.loc[row.Index] if kind.loc[row.Index] == 18 else np.nan
            unmet |= bool(stated < wanted["min_utilisation_pct_bra"])
        found[cell["severity_if_unmet"] if unmet else "ok"] += 1
    return found


def check_plan(path: Path) -> tuple[dict[str, Counter[str]], dict[str, float]]:
    """Run G1-G5 on one plan file; return counts per rule and severity, and times (s)."""
    times: dict[str, float] = {}
    started = time.perf_counter()
    kommunenummer = path.stem.split("_")[1]
    kp = not path.stem.startswith("S_")  # S is a reguleringsplan, M and L kommuneplaner
    plan = gpd.read_file(path, engine="pyogrio")
    plan["aid"] = np.arange(len(plan))
    areas = plan[plan["arealformal"].notna()].copy()
    areas["formal"] = areas["arealformal"].astype(int)
    areas["status"] = areas["arealbruksstatus"] if "arealbruksstatus" in areas else np.nan
    zones = plan[plan["hensynssone"].notna()].copy()
    zones["code"] = [int(re.match(r"H?(\d+)", str(z)).group(1)) for z in zones["hensynssone"]]
    outline = plan[plan["objtype"].isin(["KpOmråde", "RpOmråde"])]
    boundary = (outline if not outline.empty else plan).union_all()
    times["read_plan"] = time.perf_counter() - started
    counts = {}
    for rule, run in (
        ("G1", lambda: g1(areas, kp)),
        ("G2", lambda: g2(areas, kp)),
        ("G3", lambda: g3(areas, zones, boundary, kp)),
        ("G4", lambda: g4(areas, zones, boundary, kp)),
        ("G5", lambda: g5(areas, kp, kommunenummer)),
    ):
        t = time.perf_counter()
        counts[rule] = run()
        times[rule] = time.perf_counter() - t
    return counts, times


def check_size(size: str) -> dict[str, Any]:
    """Check every plan file of a size once."""
    totals: Counter[str] = Counter()
    times: Counter[str] = Counter()
    started = time.perf_counter()
    for path in common.plan_files(size):
        counts, plan_times = check_plan(path)
        for rule, found in counts.items():
            totals.update({f"{rule}:{severity}": n for severity, n in found.items() if n})
        times.update(plan_times)
    return {
        "total_s": time.perf_counter() - started,
        "parts_s": dict(times),
        "findings": dict(sorted(totals.items())),
    }


def main() -> None:
    """Check a plan size after one cold run, `--repeat` times or paced; print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=common.PLAN_SIZES, required=True)
    parser.add_argument("--repeat", type=int, default=3, help="warm repetitions")
    parser.add_argument(
        "--paced", action="store_true", help="one warm run per 'run' line on stdin (run.py)"
    )
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=RuntimeWarning)
    rss_before = common.current_rss_mb()
    cold = check_size(args.size)
    warm = common.warm_runs(lambda: check_size(args.size), args.repeat, args.paced)
    runs = warm or [cold]
    out = {
        "size": args.size,
        "cold_total_s": cold["total_s"],
        "total_s": common.summary([r["total_s"] for r in runs]),
        "parts_s_p50": {
            part: common.percentile([r["parts_s"][part] for r in runs], 50)
            for part in sorted(runs[0]["parts_s"])
        },
        "findings": cold["findings"],
        "rss_after_imports_mb": round(rss_before, 1),
        "peak_rss_mb": round(common.peak_rss_mb(), 1),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
