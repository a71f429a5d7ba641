"""G1 (§6.2.4 guideline 1): new cabin areas above the tree line, hand-computed fixtures."""

import numpy as np
import pytest
from shapely.geometry import box

from tests.rule_fixtures import (
    area,
    evaluate,
    load_raster_layer,
    load_vector_layer,
    make_plan,
    rule,
)

X0, Y0 = 470_000.0, 6_750_000.0  # Hemsedal, EPSG:25832
ORIGIN = (X0 - 500.0, Y0 + 600.0)  # rasters cover X0-500 .. X0+500, Y0-400 .. Y0+600


def terrain(west: float, east: float) -> np.ndarray:
    """A 10 m DEM (100 x 100 cells) at `west` m west of X0 + 100 m and `east` m from there."""
    values = np.full((100, 100), east, dtype="float32")
    values[:, :60] = west  # columns 0-59 lie west of X0 + 100
    return values


@pytest.fixture
def flat_tree_line(tmp_path):
    """A tree line at 1,000 m everywhere (50 m cells)."""
    load_raster_layer("tree_line", np.full((20, 20), 1000.0), tmp_path, ORIGIN, cell=50.0)
    return tmp_path


def cabin(x=X0, width=200.0, status=2, code=1120):
    """A 200 m x 100 m future cabin area with its west edge at x."""
    return area(
        "BFR1", box(x, Y0, x + width, Y0 + 100), 1, arealformal=code, arealbruksstatus=status
    )


def only(findings):
    assert len(findings) == 1, findings
    return findings[0]


def test_west_half_above_a_flat_tree_line_is_a_conflict_of_10000_m2(flat_tree_line):
    """200 m x 100 m, west half at 1,100 m against a 1,000 m tree line: 10,000 m², 50 %."""
    load_raster_layer("elevation", terrain(1100, 800), flat_tree_line, ORIGIN)
    finding = only(evaluate(rule("G1"), make_plan(cabin()), flat_tree_line))
    assert finding.severity == "conflict"
    assert finding.measures["above_tree_line_m2"] == pytest.approx(10_000, rel=1e-6)
    assert finding.measures["above_tree_line_pct"] == pytest.approx(50.0)
    assert finding.measures["max_elevation_m"] == 1100
    assert finding.measures["tree_line_m"] == 1000
    assert finding.geometry.area == pytest.approx(10_000, rel=1e-6)
    assert finding.paragraph.startswith("Buskerudplanen 2026 §6.2.4")
    assert finding.plan_feature_ids == (1,)
    assert {ref.layer_id: ref.version for ref in finding.layer_refs} == {
        "elevation": 1,
        "tree_line": 1,
    }
    assert "10 000 m²" in finding.message and "over skoggrensen" in finding.message


def test_partial_cells_are_weighted_by_coverage_like_an_exact_overlay(flat_tree_line):
    """Shifted 5 m off the grid, the raster measure equals the vector answer (9,500 m²)."""
    load_raster_layer("elevation", terrain(1100, 800), flat_tree_line, ORIGIN)
    shifted = cabin(x=X0 + 5)
    finding = only(evaluate(rule("G1"), make_plan(shifted), flat_tree_line))
    above_region = box(X0 - 500, Y0 - 400, X0 + 100, Y0 + 600)
    exact = shifted.geometry.intersection(above_region).area
    assert exact == pytest.approx(9_500)
    assert finding.measures["above_tree_line_m2"] == pytest.approx(exact, rel=0.01)


def test_transition_zone_is_a_warning(flat_tree_line):
    """West half 50 m below the line (within the 100 m zone), east half far below: warning."""
    load_raster_layer("elevation", terrain(950, 800), flat_tree_line, ORIGIN)
    finding = only(evaluate(rule("G1"), make_plan(cabin()), flat_tree_line))
    assert finding.severity == "warning"
    assert finding.measures["transition_zone_m2"] == pytest.approx(10_000, rel=1e-6)
    assert finding.measures["above_tree_line_m2"] == 0
    assert "overgangssonen" in finding.message


def test_sliver_above_the_line_under_the_threshold_is_a_warning_not_a_conflict(flat_tree_line):
    """40 m² above the line is below max(50 m², 0.5 %) = 100 m²: warning."""
    values = terrain(800, 800)
    values[40, 59] = 1100  # one 10 m cell at X0 + 90..100 m
    load_raster_layer("elevation", values, flat_tree_line, ORIGIN)
    row_top = ORIGIN[1] - 40 * 10
    # The area lies north of row 40 and reaches 4 m down into its cell at column 59.
    area_geometry = box(X0, row_top, X0 + 200, row_top + 100).union(
        box(X0 + 90, row_top - 4, X0 + 100, row_top)
    )
    plan = make_plan(area("BFR1", area_geometry, 1, arealformal=1120, arealbruksstatus=2))
    finding = only(evaluate(rule("G1"), plan, flat_tree_line))
    assert finding.measures["above_tree_line_m2"] == pytest.approx(40, rel=0.01)
    assert finding.severity == "warning"


def test_far_below_the_line_is_ok(flat_tree_line):
    """Terrain at 800 m, 200 m below the line: ok with the heights reported."""
    load_raster_layer("elevation", terrain(800, 800), flat_tree_line, ORIGIN)
    finding = only(evaluate(rule("G1"), make_plan(cabin()), flat_tree_line))
    assert finding.severity == "ok"
    assert finding.measures["max_height_above_tree_line_m"] == -200


def test_missing_layer_is_unknown_never_ok(tmp_path):
    """Without a tree line the check cannot be made: unknown, naming the layer."""
    load_raster_layer("elevation", terrain(1100, 800), tmp_path, ORIGIN)
    finding = only(evaluate(rule("G1"), make_plan(cabin()), tmp_path))
    assert finding.severity == "unknown"
    assert "tree_line" in finding.message
    assert finding.plan_feature_ids == (1,)


def test_area_outside_raster_coverage_is_unknown(flat_tree_line):
    """An area half outside the DEM is not measured: unknown with the covered share."""
    load_raster_layer("elevation", terrain(1100, 800), flat_tree_line, ORIGIN)
    outside = cabin(x=X0 + 400)  # runs 100 m past the DEM's east edge at X0 + 500
    finding = only(evaluate(rule("G1"), make_plan(outside), flat_tree_line))
    assert finding.severity == "unknown"
    assert finding.measures["data_coverage_pct"] == pytest.approx(50, abs=0.5)


def test_only_new_areas_are_checked(flat_tree_line):
    """Existing (status 1) cabin areas and other purposes are not checked."""
    load_raster_layer("elevation", terrain(1100, 800), flat_tree_line, ORIGIN)
    plan = make_plan(cabin(status=1), cabin(code=1110))
    finding = only(evaluate(rule("G1"), plan, flat_tree_line))
    assert finding.severity == "info" and finding.check == "no_new_cabin_areas"


def test_reguleringsplan_checks_every_cabin_area_minus_the_adopted_cabin_area(flat_tree_line):
    """With the adopted plan loaded, the part inside an existing cabin area is not new."""
    load_raster_layer("elevation", terrain(1100, 800), flat_tree_line, ORIGIN)
    load_vector_layer(
        "existing_kommuneplan",
        [{"geometry": box(X0 - 50, Y0, X0 + 60, Y0 + 100), "arealformal": 1120}],
        flat_tree_line,
    )
    plan = make_plan(cabin(code=1121, status=None), plantype=35)
    finding = only(evaluate(rule("G1"), plan, flat_tree_line))
    assert finding.measures["new_area_m2"] == pytest.approx(14_000)
    assert finding.measures["above_tree_line_m2"] == pytest.approx(4_000, rel=1e-6)
    assert finding.severity == "conflict"
    existing = next(ref for ref in finding.layer_refs if ref.layer_id == "existing_kommuneplan")
    assert existing.version == 1 and len(existing.feature_ids) == 1


def test_area_wholly_inside_an_adopted_cabin_area_is_ok(flat_tree_line):
    """An expansion that is not an expansion: nothing new, ok."""
    load_raster_layer("elevation", terrain(1100, 800), flat_tree_line, ORIGIN)
    load_vector_layer(
        "existing_kommuneplan",
        [{"geometry": box(X0 - 10, Y0 - 10, X0 + 210, Y0 + 110), "arealformal": 1120}],
        flat_tree_line,
    )
    finding = only(evaluate(rule("G1"), make_plan(cabin()), flat_tree_line))
    assert finding.severity == "ok" and finding.measures["new_area_m2"] == 0
