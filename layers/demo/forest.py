"""Synthetic AR5: forest (arealtype 30 Skog) below the synthetic tree line, open land (50 Åpen
fastmark) above it, so that `arealsjekk layers derive tree_line` can be tried on the demo."""

import numpy as np
import shapely
from rasterio import features

from layers.demo.base import (
    DEM_CELL,
    GRID_NORTH,
    GRID_WEST,
    TREE_LINE_CELL,
    Feature,
    grid_transform,
)
from layers.demo.geography import Geography

# The forest line lies below the climatic tree line (SSB table 12512's definition); the demo
# forest stops this far under it.
FOREST_BELOW_TREE_LINE_M = 40.0


def forest_mask(geo: Geography) -> list[Feature]:
    """Forest on the 500 m cells whose highest terrain lies below the tree line's margin,
    open land on the others."""
    factor = round(TREE_LINE_CELL / DEM_CELL)
    rows = min(geo.dem.shape[0] // factor, geo.tree_line.shape[0])
    cols = min(geo.dem.shape[1] // factor, geo.tree_line.shape[1])
    highest = geo.dem[: rows * factor, : cols * factor].reshape(rows, factor, cols, factor)
    forest = highest.max(axis=(1, 3)) < geo.tree_line[:rows, :cols] - FOREST_BELOW_TREE_LINE_M
    out: list[Feature] = []
    transform = grid_transform(GRID_WEST, GRID_NORTH, TREE_LINE_CELL)
    arealtype = np.where(forest, 30, 50).astype(np.uint8)
    for shape, code in features.shapes(arealtype, transform=transform, connectivity=4):
        clipped = geo.clip(shapely.geometry.shape(shape))
        if clipped is not None and not clipped.is_empty and clipped.area > 0:
            out.append((clipped, {"arealtype": int(code)}))
    return out
