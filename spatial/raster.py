"""Raster access: windowed reads and sampling of the stored Cloud Optimized GeoTIFFs."""

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import rasterio


def sample_values(path: Path, points: Sequence[tuple[float, float]]) -> list[float | None]:
    """Return band-1 values at (x, y) points in the raster's CRS; None for nodata or outside."""
    with rasterio.open(path) as dataset:
        left, bottom, right, top = dataset.bounds
        nodata = dataset.nodata
        values: list[float | None] = []
        for (x, y), sample in zip(points, dataset.sample(points, indexes=1), strict=True):
            inside = left <= x < right and bottom < y <= top
            value = float(sample[0])
            if not inside or (nodata is not None and value == nodata) or np.isnan(value):
                values.append(None)
            else:
                values.append(value)
        return values
