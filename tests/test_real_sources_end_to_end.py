"""G1-G5 on a plan, against guideline layers loaded only from downloads in the real schemas.

Every layer comes from a file as the agency distributes it (tests/fixtures/layers/), loaded
with the command docs/operator.md gives; then `arealsjekk check` runs the whole rule set.
"""

import json
import zipfile

import numpy as np
import pytest
import rasterio
import shapely
from pyproj import Transformer
from rasterio.transform import from_origin
from shapely.geometry import box, mapping
from typer.testing import CliRunner

from app.cli import app as cli
from tests.fixtures.layers import make_real_fixtures as real
from tests.fixtures.layers.make_real_fixtures_transit import write_netex

TO_25833 = Transformer.from_crs(25832, 25833, always_xy=True)
TO_CRS84 = Transformer.from_crs(25832, 4326, always_xy=True)
# The terrain and tree-line rasters cover Hole and southern Ringerike (EPSG:25833).
RASTER_WEST, RASTER_NORTH = 230_000.0, 6_685_000.0
DTM_CELL, DTM_COLUMNS, DTM_ROWS = 10.0, 1400, 2200


def run(*args) -> str:
    result = CliRunner().invoke(cli, [str(arg) for arg in args])
    assert result.exit_code == 0, result.output
    return result.output


def write_dtm_tiles(folder):
    """Two DTM 10 tiles (EPSG:25833, float32, nodata declared), zipped as downloaded."""
    tiles = folder / "dtm10"
    tiles.mkdir()
    half = DTM_ROWS // 2
    for index, first_row in enumerate((0, half)):
        rows = np.arange(first_row, first_row + half)
        # 150 m in the north, rising 1 m per 100 m southwards: far below any tree line.
        values = np.repeat((150.0 + rows * DTM_CELL / 100)[:, None], DTM_COLUMNS, axis=1)
        profile = {
            "driver": "GTiff", "width": DTM_COLUMNS, "height": half, "count": 1,
            "dtype": "float32", "crs": "EPSG:25833", "nodata": -32767.0, "compress": "lzw",
            "transform": from_origin(
                RASTER_WEST, RASTER_NORTH - first_row * DTM_CELL, DTM_CELL, DTM_CELL
            ),
        }  # fmt: skip
        with rasterio.open(tiles / f"6678_{index + 1}_10m_z33.tif", "w", **profile) as out:
            out.write(values.astype("float32"), 1)
    archive = folder / "dtm10_hole_ringerike.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for tile in sorted(tiles.iterdir()):
            out.write(tile, f"dtm10/{tile.name}")
    return archive


def write_tree_line(folder):
    """An externally supplied tree-line surface: 900 m a.s.l. everywhere (100 m cells)."""
    path = folder / "skoggrense.tif"
    profile = {
        "driver": "GTiff", "width": 140, "height": 220, "count": 1, "dtype": "float32",
        "crs": "EPSG:25833", "nodata": -9999.0,
        "transform": from_origin(RASTER_WEST, RASTER_NORTH, 100.0, 100.0),
    }  # fmt: skip
    with rasterio.open(path, "w", **profile) as out:
        out.write(np.full((220, 140), 900.0, dtype="float32"), 1)
    return path


def area(name: str, geometry, arealformal: int) -> dict:
    """A future plan area, its geometry given in EPSG:25832 and written in CRS84."""
    lonlat = shapely.transform(geometry, lambda xy: np.column_stack(TO_CRS84.transform(*xy.T)))
    properties = {"arealformal": arealformal, "arealbruksstatus": 2, "feltnavn": name}
    return {"type": "Feature", "id": name, "properties": properties, "geometry": mapping(lonlat)}


@pytest.fixture
def loaded(tmp_path, monkeypatch):
    """Every layer G1-G5 read, loaded from its download with the documented command."""
    monkeypatch.setenv("AREALSJEKK_RASTER_DIR", str(tmp_path / "rasters"))
    files = real.write_fixtures(tmp_path / "downloads")
    nsr = write_netex(tmp_path / "nsr")
    load = ("layers", "load")
    run(*load, "mineral_deposits", files["grus_pukk_fgdb"],
        "--source-layer", "SandGrusOmr", "--source-layer", "PukkOmr")  # fmt: skip
    heritage = []
    for layer in ("lokalitet", "enkeltminne", "sikringssone"):
        heritage += ["--source-layer", layer, "--set", f"{layer}:category={layer}"]
    run(*load, "heritage_protected", files["kulturminner_gml"], *heritage)
    run(*load, "cultural_environments", files["kulturlandskap_fgdb"])
    run(*load, "municipal_heritage_plans", files["kulturminneplan_gpkg"])
    run(*load, "recreation_areas", files["friluftsliv_fgdb"])
    run(*load, "state_recreation_areas", files["statsikra_fgdb"])
    villrein = [
        "--source-layer",
        "villrein_leveomrade",
        "--source-layer",
        "villrein_funksjonsomrade",
    ]
    run(*load, "villrein_areas", files["villrein_fgdb"], *villrein)
    run(*load, "villrein_corridors", files["villrein_fgdb"], "--source-layer", "villrein_trekk")
    run(*load, "intact_nature", files["inon_shape"])
    run(*load, "tettsteder", files["tettsteder_fgdb"])
    run(*load, "transport_hubs", nsr["zip"])
    run(*load, "elevation", write_dtm_tiles(tmp_path))
    run(*load, "tree_line", write_tree_line(tmp_path), "--licence", "test surface")
    return tmp_path


def test_g1_to_g5_run_on_layers_loaded_from_real_schema_downloads(loaded):
    """Each guideline gives a verdict from the loaded data, none 'unknown' for want of it."""
    hole = real.HOLE
    deposit = real.square(real.HONEFOSS, 0, 0)  # Eggemoen, Nasjonal betydning
    recreation = real.square(hole, 0, 6000)  # Kilemoen, SvaertViktigFriluftslivsomraade
    gravhaug = real.square(hole, 0, 4000)  # enkeltminne 165570-6 (AUT) and its sikringssone
    vik = real.square(hole, 0, 2000, 600)  # tettsted Vik, 1,342 inhabitants
    features = [
        area("BFR1", deposit.buffer(-20), 1120),
        area("BFR2", recreation.buffer(-20), 1120),
        area("BFR3", gravhaug.buffer(-20), 1120),
        area("B1", box(*vik.buffer(-100).bounds), 1110),
    ]
    plan = {
        "type": "FeatureCollection",
        "plan": {"kommunenummer": "3305", "planidentifikasjon": "2026001", "plantype": 20,
                 "planstatus": 2, "plannavn": "Kommuneplanens arealdel Ringerike"},
        "features": features,
    }  # fmt: skip
    path = loaded / "plan.geojson"
    path.write_text(json.dumps(plan), encoding="utf-8")
    document = json.loads(run("check", path, "--json"))
    versions = document["layer_versions"]
    for layer in ("mineral_deposits", "heritage_protected", "recreation_areas", "tettsteder",
                  "transport_hubs", "elevation", "tree_line", "intact_nature"):  # fmt: skip
        assert versions[layer] == 1, (layer, versions)
    findings = [f["properties"] for f in document["findings"]["features"]]
    by_rule: dict[str, list[dict]] = {}
    for finding in findings:
        by_rule.setdefault(finding["rule_id"], []).append(finding)
    assert sorted(by_rule) == ["G1", "G2", "G3", "G4", "G5"]
    for rule_id, found in by_rule.items():
        assert all(f["severity"] != "unknown" for f in found), (rule_id, found)
    flagged = {
        (f["rule_id"], f["check"], f["severity"], tuple(f["plan_feature_keys"]))
        for f in findings
        if f["severity"] != "ok"
    }
    assert flagged == {
        ("G2", "recreation_A", "conflict", ("BFR2",)),  # omraadeverdi SvaertViktig… → A
        ("G3", "deposit_overlap", "conflict", ("BFR1",)),  # rastoffBetydning Nasjonal betydning
        ("G3", "not_safeguarded", "warning", ()),
        ("G4", "protected_overlap", "conflict", ("BFR3",)),  # category from the GML layer
        ("G5", "matrix_cell", "warning", ("B1",)),  # Vik (totalbefolkning), NSR hub far off
    }
    # G1 measured each cabin area against the loaded terrain and tree line: all far below.
    g1 = [f for f in by_rule["G1"] if f["check"] == "above_tree_line"]
    assert sorted(k for f in g1 for k in f["plan_feature_keys"]) == ["BFR1", "BFR2", "BFR3"]
    assert all("skoggrensen der 900 moh." in f["message"] for f in g1)
    g4 = next(f for f in by_rule["G4"] if f["severity"] == "conflict")
    assert "(enkeltminne, automatisk fredet)" in g4["message"]
    assert "(sikringssone, automatisk fredet)" in g4["message"]
    g5 = by_rule["G5"][0]["measures"]
    assert (g5["tettsted"], g5["tettsted_population"]) == ("Vik", 1342)
    assert (g5["nearest_hub"], g5["nearest_hub_type"]) == ("Hønefoss stasjon", "jernbanestasjon")
