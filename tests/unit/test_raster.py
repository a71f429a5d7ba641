"""Raster measures of G1: tree-line interpolation, coverage weighting, batching."""

import os
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine
from rasterio.enums import Resampling
from rasterio.errors import WindowError
from rasterio.vrt import WarpedVRT
from rasterio.windows import Window, from_bounds

from spatial import raster
from spatial.raster import (
    TreeLineSurfaces,
    bilinear_at_centres,
    draw_exposures,
    open_surfaces,
    read_float,
)

X0, Y0 = 470_000.0, 6_750_000.0


def write_raster(path, values, origin, cell, nodata=-9999.0):
    """Write a float32 GeoTIFF in EPSG:25832 with its top-left corner at origin."""
    height, width = values.shape
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=width,
        height=height,
        count=1,
        dtype="float32",
        crs="EPSG:25832",
        transform=Affine(cell, 0, origin[0], 0, -cell, origin[1]),
        nodata=nodata,
    ) as dataset:
        dataset.write(values.astype("float32"), 1)
    return path


@pytest.fixture
def surfaces(tmp_path):
    """A 10 m DEM (300 x 300 cells) and a bumpy 70 m tree line with gaps, offset from it."""
    rng = np.random.default_rng(8)
    dem = write_raster(
        tmp_path / "dem.tif", 900 + rng.normal(0, 40, (300, 300)), (X0, Y0 + 3000), 10.0
    )
    tree_line = 950 + 60 * rng.random((50, 50))
    tree_line[5, 7] = tree_line[20:23, 30] = -9999.0  # gaps in the tree-line surface
    # Starts 125 m west and 85 m north of the DEM, so cell centres never line up.
    line = write_raster(tmp_path / "line.tif", tree_line, (X0 - 125, Y0 + 3085), 70.0)
    return dem, line


def test_tree_line_interpolation_matches_gdal_bilinear_warp_with_gaps_and_edges(surfaces):
    """The numpy bilinear equals GDAL's bilinear warp onto the DEM grid, gaps included."""
    dem_path, line_path = surfaces
    with rasterio.open(dem_path) as dem, rasterio.open(line_path) as line:
        with WarpedVRT(
            line,
            crs=dem.crs,
            transform=dem.transform,
            width=dem.width,
            height=dem.height,
            resampling=Resampling.bilinear,
        ) as warped:
            expected = read_float(warped, Window(0, 0, dem.width, dem.height))
        got = bilinear_at_centres(line, dem.transform, Window(0, 0, dem.width, dem.height))
    assert np.array_equal(np.isnan(got), np.isnan(expected))
    # Only DEM cells on a gap (4 source cells of 7 x 7 DEM cells) have no value.
    assert 0 < np.isnan(got).sum() <= 4 * 8 * 8
    assert np.nanmax(np.abs(got - expected)) < 1e-3


def test_cells_outside_the_tree_line_raster_have_no_value(tmp_path):
    """A DEM reaching past the tree-line raster gets NaN there, values inside it."""
    line = write_raster(tmp_path / "line.tif", np.full((10, 10), 1000.0), (X0, Y0 + 500), 50.0)
    grid = Affine(10, 0, X0 - 200, 0, -10, Y0 + 500)  # 200 m of the grid lie west of it
    with rasterio.open(line) as dataset:
        values = bilinear_at_centres(dataset, grid, Window(0, 0, 60, 10))
    assert np.isnan(values[:, :20]).all()
    assert (values[:, 20:] == 1000.0).all()


def test_coverage_of_a_polygon_inside_the_rasters_adds_up_to_its_area(surfaces):
    """Cells on the polygon's edge count by the share covered: the sum is the exact area."""
    polygon = shapely.Point(X0 + 1503.7, Y0 + 1498.2).buffer(333.3)
    with TreeLineSurfaces(*surfaces) as opened:
        exposure = opened.exposure(polygon, 100.0)
    assert exposure.covered_m2 + _gap_share(exposure) == pytest.approx(polygon.area, rel=1e-9)


def _gap_share(exposure):
    """Area under tree-line gaps (not covered); zero where the polygon misses the gaps."""
    return exposure.area_m2 - exposure.covered_m2 if exposure.covered_pct < 100 else 0.0


def test_measuring_polygons_together_gives_what_each_gives_alone(surfaces):
    """Grouped reads must not change any figure (neighbours, block edges, raster edges)."""
    rng = np.random.default_rng(3)
    centres = rng.uniform([X0 - 100, Y0 - 100], [X0 + 3100, Y0 + 3100], (40, 2))
    polygons = [
        shapely.Point(x, y).buffer(r)
        for (x, y), r in zip(centres, rng.uniform(5, 400, 40), strict=True)
    ]
    polygons += [
        shapely.Point(X0 - 1000, Y0).buffer(50),
        shapely.box(X0 - 50, Y0, X0 + 50, Y0 + 80),
    ]
    with TreeLineSurfaces(*surfaces) as opened:
        together = opened.exposures(polygons, 100.0)
        alone = [opened.exposure(p, 100.0) for p in polygons]
    for grouped, single in zip(together, alone, strict=True):
        assert grouped.covered_m2 == pytest.approx(single.covered_m2, rel=1e-12, abs=1e-9)
        assert grouped.above_m2 == pytest.approx(single.above_m2, rel=1e-12, abs=1e-9)
        assert grouped.transition_m2 == pytest.approx(single.transition_m2, rel=1e-12, abs=1e-9)
        assert grouped.max_margin_m == single.max_margin_m
        assert grouped.above.equals(single.above)
    assert any(e.above_m2 > 0 for e in together) and any(e.covered_m2 == 0 for e in together)


def test_drawings_made_together_match_one_at_a_time_and_the_measured_areas(surfaces, monkeypatch):
    """Masks polygonized stacked in batches draw exactly what one mask alone draws, and each
    drawing has the coverage-weighted area the exposure measured."""
    monkeypatch.setattr(raster, "DRAW_BATCH_MASKS", 3)
    rng = np.random.default_rng(5)
    centres = rng.uniform([X0, Y0], [X0 + 3000, Y0 + 3000], (25, 2))
    polygons = [
        shapely.Point(x, y).buffer(r)
        for (x, y), r in zip(centres, rng.uniform(20, 300, 25), strict=True)
    ]
    polygons.append(shapely.Point(X0 - 1000, Y0).buffer(50))  # off both rasters: no cells
    with TreeLineSurfaces(*surfaces) as opened:
        exposures = opened.exposures(polygons, 100.0)
    requests = [(e, i % 2 == 1) for i, e in enumerate(exposures)]
    together = draw_exposures(requests)
    for (exposure, with_transition), drawn in zip(requests, together, strict=True):
        assert shapely.equals_exact(drawn, draw_exposures([(exposure, with_transition)])[0], 0)
        wanted = exposure.above_m2 + (exposure.transition_m2 if with_transition else 0.0)
        assert drawn.area == pytest.approx(wanted, rel=1e-7, abs=1e-6)  # a cell is 100 m²
    assert sum(not d.is_empty for d in together) >= 6 and together[-1].is_empty


def rasterio_window(dataset, geometry):
    """The window one polygon gets, by rasterio's own functions (with the one-cell margin)."""
    window = from_bounds(*geometry.bounds, transform=dataset.transform)
    window = window.round_offsets().round_lengths()
    window = Window(window.col_off - 1, window.row_off - 1, window.width + 3, window.height + 3)
    try:
        clipped = window.intersection(Window(0, 0, dataset.width, dataset.height))
    except WindowError:
        return None
    return clipped if clipped.width > 0 and clipped.height > 0 else None


def test_windows_for_many_polygons_are_rasterios_windows(surfaces):
    """The vectorised windows equal rasterio's, inside, on the edges and outside the raster."""
    rng = np.random.default_rng(11)
    x, y = rng.uniform(X0 - 500, X0 + 3500, 400), rng.uniform(Y0 - 500, Y0 + 3500, 400)
    polygons = list(
        shapely.box(x, y, x + rng.uniform(0.01, 800, 400), y + rng.uniform(0.01, 800, 400))
    )
    polygons += [
        shapely.box(X0 - 20, Y0, X0, Y0 + 10),  # touches the west edge from outside
        shapely.box(X0 + 2990, Y0 + 2990, X0 + 3000, Y0 + 3000),  # the north-east cell
        shapely.box(X0 + 15, Y0 + 15, X0 + 25, Y0 + 25),  # cell corners exactly
        shapely.Point(X0 + 1234.5, Y0 + 1234.5).buffer(0.4),
    ]
    with rasterio.open(surfaces[0]) as dataset:
        expected = [rasterio_window(dataset, p) for p in polygons]
        assert raster._windows_for(dataset, polygons) == expected
    assert any(w is None for w in expected) and sum(w is not None for w in expected) > 250


def test_each_thread_keeps_its_open_rasters_until_a_file_changes(surfaces):
    """Checks reuse the opened pair; another thread gets its own; a new file is reopened."""
    dem, line = surfaces
    first = open_surfaces(dem, line)
    assert open_surfaces(dem, line) is first
    with ThreadPoolExecutor(max_workers=1) as pool:
        assert pool.submit(open_surfaces, dem, line).result() is not first
    write_raster(line, np.full((50, 50), 500.0), (X0 - 125, Y0 + 3085), 70.0)
    os.utime(line, ns=(time.time_ns(), time.time_ns() + 10**9))  # a later mtime, surely
    reopened = open_surfaces(dem, line)
    assert reopened is not first and first.dem.closed
    polygon = shapely.box(X0 + 500, Y0 + 500, X0 + 600, Y0 + 600)
    assert reopened.exposure(polygon, 100.0).tree_line_at_max_m == pytest.approx(500.0)
