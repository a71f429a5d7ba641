"""G1 without a published tree line: a derived surface, a loaded one, a municipality's height."""

import numpy as np
import pytest
import rasterio
from shapely.geometry import box
from sqlalchemy import func, select
from typer.testing import CliRunner

from app.cli import app as cli
from app.db import get_sessionmaker
from app.settings import get_settings
from db.models import LayerVersionOrm
from layers.derive import DeriveError, derive_tree_line
from layers.loader import current_version
from layers.ruleset import default_rule_set
from layers.status import layer_status
from spatial.treeline import TreeLineParams, derivation_note
from tests.rule_fixtures import (
    area,
    evaluate,
    load_raster_layer,
    load_vector_layer,
    make_plan,
    rule,
)

WEST, NORTH = 465_000.0, 6_752_500.0  # Hemsedal, EPSG:25832; the DEM is 10 km x 5 km
SOUTH = NORTH - 5_000.0


def ramp() -> np.ndarray:
    """A 10 m DEM rising 100 m per km eastwards, from 500 m at its west edge to 1,500 m."""
    x = np.arange(1000) * 10.0 + 5.0
    return np.tile(500.0 + 0.1 * x, (500, 1))


def forest_up_to(line_m: float) -> dict:
    """AR5 forest (arealtype 30) from the west edge up to where the ramp reaches line_m."""
    return {"geometry": box(WEST, SOUTH, WEST + (line_m - 500.0) * 10.0, NORTH), "arealtype": 30}


# Open mountain (arealtype 50) above the forest: loaded with it, never used as forest.
OPEN_MOUNTAIN = {"geometry": box(WEST + 5_000, SOUTH, WEST + 9_000, NORTH), "arealtype": 50}


def cabin(x: float = WEST + 6_000):
    """A 200 m x 100 m future cabin area at 1,100-1,120 m (west edge at x)."""
    geometry = box(x, SOUTH + 2_000, x + 200, SOUTH + 2_100)
    return area("BFR1", geometry, 1, arealformal=1120, arealbruksstatus=2)


def only(findings):
    assert len(findings) == 1, findings
    return findings[0]


def derive(folder, params: TreeLineParams | None = None):
    with get_sessionmaker()() as session:
        return derive_tree_line(session, folder, params)


def tree_line_version(number: int) -> LayerVersionOrm:
    with get_sessionmaker()() as session:
        return session.execute(
            select(LayerVersionOrm).where(
                LayerVersionOrm.layer_id == "tree_line", LayerVersionOrm.version == number
            )
        ).scalar_one()


def test_derived_surface_lies_at_the_forest_limit_with_its_provenance(tmp_path):
    """Forest up to 1,000 m: the surface is 1,000 m within 10 m; details name the inputs."""
    load_raster_layer("elevation", ramp(), tmp_path, (WEST, NORTH))
    load_vector_layer("forest_mask", [forest_up_to(1000.0), OPEN_MOUNTAIN], tmp_path)
    result = derive(tmp_path)
    assert result.created and result.version == 1
    version = tree_line_version(1)
    with get_sessionmaker()() as session:
        elevation = current_version(session, "elevation")
        forest = current_version(session, "forest_mask")
    derived = version.details["derived"]
    assert derived["inputs"]["elevation"]["version"] == 1
    assert derived["inputs"]["elevation"]["checksum"] == elevation.checksum
    assert derived["inputs"]["forest_mask"]["version"] == 1
    assert derived["inputs"]["forest_mask"]["checksum"] == forest.checksum
    assert derived["method"] == "forest-percentile-window-v1"
    assert derived["parameters"]["percentile"] == 98.0
    assert derived["forest_codes"] == [30] and derived["forest_features"] == 1
    assert derived["open_codes"] == [50, 70, 99] and derived["open_features"] == 1
    assert derived["measured_cells"] > 0
    assert version.details["resolution"] == [500.0, 500.0]
    assert "avledet" in version.source and "CC BY 4.0" not in version.source
    assert version.licence.startswith("avledet; inndata: test (elevation), test (forest_mask)")
    path = tmp_path / version.raster_file
    with rasterio.open(path) as dataset:
        values = dataset.read(1, masked=True)
        assert dataset.crs.to_epsg() == 25832
    assert not values.mask.any()
    # The open mountain's polygons (up to 1,400 m) would lift the line if taken as forest.
    assert 990.0 <= values.min() and values.max() <= 1001.0
    assert "98-persentilen" in derivation_note(path)


def test_deriving_again_writes_nothing_and_new_inputs_give_a_new_version(tmp_path):
    """Same inputs and parameters: no new version. New forest or parameters: a new one."""
    load_raster_layer("elevation", ramp(), tmp_path, (WEST, NORTH))
    load_vector_layer("forest_mask", [forest_up_to(1000.0)], tmp_path)
    first = derive(tmp_path)
    again = derive(tmp_path)
    assert not again.created and again.version == first.version == 1
    with get_sessionmaker()() as session:
        count = session.execute(
            select(func.count()).where(LayerVersionOrm.layer_id == "tree_line")
        ).scalar_one()
    assert count == 1
    assert len(list(tmp_path.glob("tree_line-*.tif"))) == 1

    load_vector_layer("forest_mask", [forest_up_to(1100.0)], tmp_path)
    second = derive(tmp_path)
    assert second.created and second.version == 2
    assert tree_line_version(2).details["derived"]["inputs"]["forest_mask"]["version"] == 2
    third = derive(tmp_path, TreeLineParams(percentile=95.0))
    assert third.created and third.version == 3


def test_status_says_when_a_derived_tree_line_is_older_than_its_inputs(tmp_path):
    """A new forest or terrain version leaves the derived line behind: status says so."""
    load_raster_layer("elevation", ramp(), tmp_path, (WEST, NORTH))
    load_vector_layer("forest_mask", [forest_up_to(1000.0)], tmp_path)
    derive(tmp_path)
    with get_sessionmaker()() as session:
        fresh = layer_status(session, default_rule_set(), "3326")
    assert not [gap for gap in fresh.everywhere if gap.layer_id == "tree_line"]
    load_vector_layer("forest_mask", [forest_up_to(1100.0)], tmp_path)
    with get_sessionmaker()() as session:
        stale = layer_status(session, default_rule_set(), "3326")
    (gap,) = [gap for gap in stale.everywhere if gap.layer_id == "tree_line"]
    assert gap.guideline == "G1"
    assert "derived from forest_mask v1, now v2" in gap.reason
    assert "arealsjekk layers derive tree_line" in gap.reason


def test_deriving_needs_both_inputs_and_some_forest(tmp_path):
    """Without a forest mask, or with no forest in it, the error says what is missing."""
    load_raster_layer("elevation", ramp(), tmp_path, (WEST, NORTH))
    with pytest.raises(DeriveError, match="'forest_mask' is not loaded"):
        derive(tmp_path)
    load_vector_layer("forest_mask", [OPEN_MOUNTAIN], tmp_path)
    with pytest.raises(DeriveError, match="no polygon with arealtype 30"):
        derive(tmp_path)


def test_g1_measures_against_the_derived_line_and_says_so(tmp_path):
    """A cabin area at 1,100 m over a derived 1,000 m line: conflict naming the derived line."""
    load_raster_layer("elevation", ramp(), tmp_path, (WEST, NORTH))
    load_vector_layer("forest_mask", [forest_up_to(1000.0)], tmp_path)
    derive(tmp_path)
    finding = only(evaluate(rule("G1"), make_plan(cabin()), tmp_path))
    assert finding.severity == "conflict"
    assert finding.measures["tree_line_source"] == "derived"
    assert finding.measures["tree_line_version"] == 1
    assert finding.measures["tree_line_m"] == pytest.approx(1000, abs=10)
    assert "Tregrense fra kartlaget tree_line v1, avledet fra terrengmodellen" in finding.message
    assert {ref.layer_id: ref.version for ref in finding.layer_refs} == {
        "elevation": 1,
        "tree_line": 1,
    }


def test_g1_names_a_loaded_tree_line(tmp_path):
    """A tree-line file loaded as it is: the finding says it came from a loaded dataset."""
    load_raster_layer("elevation", ramp(), tmp_path, (WEST, NORTH))
    load_raster_layer("tree_line", np.full((10, 20), 1200.0), tmp_path, (WEST, NORTH), cell=500.0)
    finding = only(evaluate(rule("G1"), make_plan(cabin()), tmp_path))
    assert finding.severity == "warning"  # 1,100-1,120 m: within 100 m below 1,200 m
    assert finding.measures["tree_line_source"] == "loaded"
    assert "Tregrense fra kartlaget tree_line v1, innlest datasett." in finding.message


def test_g1_falls_back_to_the_municipalitys_configured_height(tmp_path):
    """No tree_line layer, 1,000 m configured for Hemsedal: measured against 1,000 m."""
    load_raster_layer("elevation", ramp(), tmp_path, (WEST, NORTH))
    g1 = rule("G1", tree_line_fallback_m={"3326": 1000})
    finding = only(evaluate(g1, make_plan(cabin()), tmp_path))
    assert finding.severity == "conflict"
    assert finding.measures["above_tree_line_m2"] == pytest.approx(20_000, rel=1e-6)
    assert finding.measures["tree_line_source"] == "municipality_fallback"
    assert finding.measures["tree_line_fallback_m"] == 1000
    assert finding.measures["tree_line_m"] == 1000
    assert "reservehøyde for Testkommune: 1000 moh." in finding.message
    assert [ref.layer_id for ref in finding.layer_refs] == ["elevation"]


def test_g1_a_loaded_layer_wins_over_the_fallback(tmp_path):
    """With both, the loaded tree line is used."""
    load_raster_layer("elevation", ramp(), tmp_path, (WEST, NORTH))
    load_raster_layer("tree_line", np.full((10, 20), 1200.0), tmp_path, (WEST, NORTH), cell=500.0)
    g1 = rule("G1", tree_line_fallback_m={"3326": 1000})
    finding = only(evaluate(g1, make_plan(cabin()), tmp_path))
    assert finding.measures["tree_line_source"] == "loaded"
    assert finding.measures["tree_line_m"] == 1200


def test_g1_without_layer_or_height_for_the_municipality_is_unknown(tmp_path):
    """A height for another municipality does not apply: unknown, saying why."""
    load_raster_layer("elevation", ramp(), tmp_path, (WEST, NORTH))
    g1 = rule("G1", tree_line_fallback_m={"3320": 1000})
    finding = only(evaluate(g1, make_plan(cabin()), tmp_path))
    assert finding.severity == "unknown"
    assert finding.measures["tree_line_source"] == "none"
    assert "ingen reservehøyde for skoggrensen i Testkommune (3326)" in finding.message


@pytest.mark.parametrize("bad", [{"Hemsedal": 1000}, {"3326": -5}, {"3326": 9000}])
def test_a_bad_fallback_is_refused_when_the_rule_set_is_read(bad):
    """Keys are 4-digit kommunenummer, heights 0-2,500 m."""
    with pytest.raises(Exception, match="tree_line_fallback_m"):
        rule("G1", tree_line_fallback_m=bad)


def test_cli_loads_derives_and_accepts_an_external_tree_line(tmp_path):
    """The documented commands: load elevation and forest, derive (twice), load a file."""
    dem = tmp_path / "dtm.tif"
    profile = {
        "driver": "GTiff",
        "width": 1000,
        "height": 500,
        "count": 1,
        "dtype": "float32",
        "crs": "EPSG:25832",
        "transform": rasterio.transform.from_origin(WEST, NORTH, 10.0, 10.0),
        "nodata": -9999.0,
    }
    with rasterio.open(dem, "w", **profile) as dataset:
        dataset.write(ramp().astype("float32"), 1)
    load_vector_layer("forest_mask", [forest_up_to(1000.0)], tmp_path)  # writes the GeoJSON
    runner = CliRunner()
    for args in (
        ["layers", "load", "elevation", str(dem)],
        ["layers", "load", "forest_mask", str(tmp_path / "forest_mask.geojson")],
    ):
        loaded = runner.invoke(cli, args)
        assert loaded.exit_code == 0, loaded.output
    first = runner.invoke(cli, ["layers", "derive", "tree_line"])
    assert first.exit_code == 0, first.output
    assert "tree_line: version 1 derived" in first.output
    second = runner.invoke(cli, ["layers", "derive", "tree_line"])
    assert "unchanged, version 1 has the same inputs" in second.output
    bad = runner.invoke(cli, ["layers", "derive", "tree_line", "--percentile", "20"])
    assert bad.exit_code != 0 and "percentile" in bad.output
    other = runner.invoke(cli, ["layers", "derive", "elevation"])
    assert other.exit_code != 0 and "only tree_line" in other.output

    external = tmp_path / "tregrense.tif"
    profile |= {"width": 20, "height": 10}
    profile["transform"] = rasterio.transform.from_origin(WEST, NORTH, 500.0, 500.0)
    with rasterio.open(external, "w", **profile) as dataset:
        dataset.write(np.full((10, 20), 1050.0, dtype="float32"), 1)
    loaded = runner.invoke(cli, ["layers", "load", "tree_line", str(external)])
    assert loaded.exit_code == 0, loaded.output
    assert "tree_line: version 2 loaded (raster)" in loaded.output
    version = tree_line_version(2)
    assert version.file_name == "tregrense.tif" and "derived" not in version.details
    assert derivation_note(get_settings().raster_dir / version.raster_file) is None
