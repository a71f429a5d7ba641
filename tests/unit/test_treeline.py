"""The tree-line derivation (spatial/treeline.py) on synthetic terrain, without a database."""

import numpy as np
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin

from spatial.treeline import (
    LOWEST_M,
    TreeLineParams,
    derive_surface,
    fill_gaps,
    moving_mean,
    window_percentile,
)

WEST, NORTH = 470_000.0, 6_760_000.0  # Hemsedal, EPSG:25832
CELL = 10.0
COLS, ROWS = 2000, 1000  # 20 km x 10 km


def ramp(tmp_path, nodata_east_of_m: float | None = None):
    """A 10 m DEM rising 60 m per km eastwards from 300 m (300 m .. 1500 m)."""
    x = np.arange(COLS) * CELL + CELL / 2
    values = np.tile(300.0 + 0.06 * x, (ROWS, 1)).astype("float32")
    if nodata_east_of_m is not None:
        values[:, x > nodata_east_of_m] = -9999.0
    path = tmp_path / "dem.tif"
    profile = {
        "driver": "GTiff",
        "width": COLS,
        "height": ROWS,
        "count": 1,
        "dtype": "float32",
        "crs": "EPSG:25832",
        "transform": from_origin(WEST, NORTH, CELL, CELL),
        "nodata": -9999.0,
    }
    with rasterio.open(path, "w", **profile) as dataset:
        dataset.write(values, 1)
    return path


def elevation_at(x_m: np.ndarray) -> np.ndarray:
    """The ramp's elevation x metres east of its west edge."""
    return 300.0 + 0.06 * x_m


def forest_below(line_m: float, south_m: float = 10_000.0, north_m: float = 0.0):
    """Forest from the west edge up to where the ramp reaches `line_m`, between two rows."""
    east = (line_m - 300.0) / 0.06
    return shapely.box(WEST, NORTH - south_m, WEST + east, NORTH - north_m)


def test_the_surface_lies_at_the_forests_upper_limit(tmp_path):
    """Forest up to 900 m: the derived line is 900 m within 10 m, also far above the forest."""
    surface = derive_surface(ramp(tmp_path), [forest_below(900.0)], TreeLineParams())
    assert surface.values.shape == (20, 40)  # 500 m cells
    assert surface.transform.a == 500.0 and surface.crs.to_epsg() == 25832
    assert np.nanmin(surface.values) >= 885.0
    assert np.nanmax(surface.values) <= 905.0
    assert not np.isnan(surface.values).any()
    assert surface.measured_cells > 0 and surface.filled_cells > 0
    assert surface.forest_cells == 1_000_000  # 10 km x 10 km of 100 m² cells


def test_a_forest_line_rising_northwards_is_followed(tmp_path):
    """Forest up to 850 m at the south edge rising to 950 m at the north edge: the surface
    follows it within 20 m along the forest edge (a window mixes forest lines up to 2.5 km
    apart, here 25 m apart in height, and the edge rows' windows are one-sided)."""
    south, north = ((line - 300.0) / 0.06 for line in (850.0, 950.0))
    forest = shapely.Polygon(
        [
            (WEST, NORTH - 10_000),
            (WEST + south, NORTH - 10_000),
            (WEST + north, NORTH),
            (WEST, NORTH),
        ]
    )
    surface = derive_surface(ramp(tmp_path), [forest], TreeLineParams())
    for row in range(20):
        y = 10_000.0 - (row + 0.5) * 500.0  # north of the south edge
        line = 850.0 + 100.0 * y / 10_000.0
        edge_col = int(((line - 300.0) / 0.06) // 500.0)
        near_edge = surface.values[row, edge_col - 2 : edge_col + 3]
        assert np.abs(near_edge - line).max() < 20.0, (row, near_edge, line)
    # Above the forest the line stays within the range it was seen in.
    assert 835.0 <= np.nanmin(surface.values[:, 25:]) and np.nanmax(surface.values) <= 955.0


def test_a_small_forest_patch_high_up_does_not_lift_the_line(tmp_path):
    """A 1 ha patch at 1,260 m is less than a window needs: the surface does not move."""
    dem = ramp(tmp_path)
    patch = shapely.box(WEST + 16_000, NORTH - 5_000, WEST + 16_100, NORTH - 4_900)
    plain = derive_surface(dem, [forest_below(900.0)], TreeLineParams())
    with_patch = derive_surface(dem, [forest_below(900.0), patch], TreeLineParams())
    assert np.nanmax(np.abs(with_patch.values - plain.values)) < 1.0


def test_a_hill_forested_to_the_top_shows_no_limit_and_no_terrain_above_the_line(tmp_path):
    """All forest: no limit is seen anywhere; the line is the highest terrain near each cell."""
    surface = derive_surface(ramp(tmp_path), [forest_below(2000.0)], TreeLineParams())
    assert surface.measured_cells == 0 and surface.lower_bound_cells == 20 * 40
    x = np.arange(40) * 500.0 + 500.0  # the east edge of each 500 m cell
    assert (surface.values >= elevation_at(x) - 0.5).all()


def test_no_surface_where_the_terrain_model_has_no_data(tmp_path):
    """East of the DEM's data the surface is nodata (NaN), never a guess."""
    dem = ramp(tmp_path, nodata_east_of_m=15_000.0)
    surface = derive_surface(dem, [forest_below(900.0)], TreeLineParams())
    assert np.isnan(surface.values[:, 30:]).all()
    assert not np.isnan(surface.values[:, :30]).any()


def test_gaps_farther_than_max_fill_stay_empty(tmp_path):
    """With gaps filled only 1 km out, cells farther from a measured one stay NaN."""
    surface = derive_surface(ramp(tmp_path), [forest_below(900.0)], TreeLineParams(max_fill_m=1000))
    assert np.isnan(surface.values).any()
    assert np.nanmax(surface.values) <= 905.0


def test_offset_raises_the_surface(tmp_path):
    """offset_m is added to every cell (towards the climatic line, above the forest's)."""
    dem = ramp(tmp_path)
    plain = derive_surface(dem, [forest_below(900.0)], TreeLineParams())
    raised = derive_surface(dem, [forest_below(900.0)], TreeLineParams(offset_m=50.0))
    assert np.allclose(raised.values - plain.values, 50.0)


def test_window_percentile_by_hand():
    """One window of 100 elevations, 1 per 5 m bin from LOWEST_M: the 98th is at 98 bins."""
    counts = np.zeros((1, 1, 540), dtype=np.uint16)
    counts[0, 0, :100] = 1
    value = window_percentile(counts, 0, 98.0, 5.0)[0, 0]
    assert value == pytest.approx(LOWEST_M + 98 * 5.0)
    assert np.isnan(window_percentile(np.zeros((1, 1, 540), np.uint16), 0, 98.0, 5.0)[0, 0])


def test_window_percentile_sums_the_neighbours():
    """A 3 x 3 window around the centre holds the counts of all nine cells."""
    counts = np.zeros((3, 3, 540), dtype=np.uint16)
    counts[0, 0, 10] = 50  # 50 cells at 150-155 m
    counts[2, 2, 200] = 50  # 50 cells at 900-905 m
    centre = window_percentile(counts, 1, 75.0, 5.0)[1, 1]
    assert centre == pytest.approx(LOWEST_M + 200.5 * 5.0)
    corner = window_percentile(counts, 1, 75.0, 5.0)[0, 0]
    assert corner == pytest.approx(LOWEST_M + 10.75 * 5.0)


def test_fill_gaps_and_moving_mean():
    """Gaps are filled from known cells up to the distance; the mean ignores NaN."""
    values = np.full((1, 9), np.nan)
    values[0, 0] = 900.0
    filled = fill_gaps(values, 3)
    assert np.allclose(filled[0, :4], 900.0) and np.isnan(filled[0, 4:]).all()
    mean = moving_mean(np.array([[900.0, np.nan, 1000.0]]), 1)
    assert mean[0, 0] == 900.0 and np.isnan(mean[0, 1]) and mean[0, 2] == 1000.0


@pytest.mark.parametrize(
    "change", [{"percentile": 30.0}, {"window_m": 100.0}, {"bin_m": 0.0}, {"offset_m": 900.0}]
)
def test_bad_parameters_are_refused(change):
    """Parameters the method cannot use raise ValueError naming them."""
    with pytest.raises(ValueError, match=next(iter(change))):
        TreeLineParams(**change)


def test_farmland_above_the_forest_is_no_limit_when_open_land_is_known(tmp_path):
    """North half: forest to 700 m, farmland to 900 m, open mountain above. Given the open
    mountain, the north takes the south's 900 m line; without it, 700 m is taken."""
    dem = ramp(tmp_path)
    forest = [forest_below(900.0, 10_000.0, 5_000.0), forest_below(700.0, 5_000.0, 0.0)]
    open_mountain = [
        shapely.box(WEST + (900.0 - 300.0) / 0.06, NORTH - 10_000, WEST + 20_000, NORTH)
    ]
    known = derive_surface(dem, forest, TreeLineParams(), open_mountain)
    guessed = derive_surface(dem, forest, TreeLineParams())
    top_rows = slice(0, 4)  # the north 2 km
    edge_700 = round((700.0 - 300.0) / 0.06 / 500.0)
    assert np.abs(known.values[top_rows, edge_700 : edge_700 + 4] - 900.0).max() < 25.0
    assert np.abs(guessed.values[top_rows, edge_700 : edge_700 + 4] - 700.0).max() < 25.0
