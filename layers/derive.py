"""Derived layers: a tree-line surface built from loaded layers (`arealsjekk layers derive`).

No climatic tree-line dataset can be downloaded (SSB table 12512 uses NINA's model, which is
not published), so G1 can run on a surface derived from the current terrain model and the
forest polygons of `forest_mask` (AR5 arealtype 30 Skog). The method is in
spatial/treeline.py and layers/README.md ("Tree line without a published dataset"). The
result is an ordinary `tree_line` version whose details record the inputs' versions and
checksums, the method and its parameters; deriving again from the same inputs and
parameters writes nothing.
"""

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rasterio.shutil
import shapely
from rasterio.errors import RasterioError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import LayerFeatureOrm, LayerVersionOrm
from layers.loader import (
    LoadResult,
    Progress,
    current_version,
    current_versions,
    grid_details,
    store_raster_version,
)
from layers.terrain_products import build_terrain_products
from spatial.errors import ArealsjekkError
from spatial.treeline import METHOD, NODATA, NOTE_TAG, TreeLineParams, derive_surface

FOREST_LAYER = "forest_mask"
# AR5 arealtype 30 Skog: at least 6 trees per dekar that are or can become 5 m tall
# (AR5 klassifikasjonssystem; the code list ArealressursArealtype).
FOREST_CODES = (30,)
# Open mountain, where a forest limit shows: 50 Åpen fastmark, 70 Snøisbre and 99 Ikke
# kartlagt (AR5 leaves land above the tree line unclassified). Farmland, towns, water and
# bogs above the forest are no sign of a limit.
OPEN_CODES = (50, 70, 99)
DERIVABLE = ("tree_line", "above_tree_line")


class DeriveError(ArealsjekkError):
    """A derived layer cannot be built from what is loaded."""


def derive_tree_line(
    session: Session,
    raster_dir: Path,
    params: TreeLineParams | None = None,
    progress: Progress | None = None,
) -> LoadResult:
    """Derive a tree-line version from the current elevation and forest_mask versions."""
    params = params or TreeLineParams()
    elevation = current_version(session, "elevation")
    forest = current_version(session, FOREST_LAYER)
    for layer_id, version in (("elevation", elevation), (FOREST_LAYER, forest)):
        if version is None:
            raise DeriveError(
                f"the tree line is derived from the layers elevation and {FOREST_LAYER}; "
                f"'{layer_id}' is not loaded (arealsjekk layers load {layer_id} FILE)"
            )
    assert elevation is not None and forest is not None
    recipe = {
        "method": METHOD,
        "parameters": params.as_dict(),
        "forest_codes": list(FOREST_CODES),
        "open_codes": list(OPEN_CODES),
        "inputs": {v.layer_id: _input(v) for v in (elevation, forest)},
    }
    checksum = hashlib.sha256(
        json.dumps(recipe, sort_keys=True, default=str).encode("utf-8")
    ).hexdigest()
    current = current_version(session, "tree_line")
    if current is not None and current.checksum == checksum:
        return LoadResult("tree_line", current.version, False, 0, checksum)

    geometries = _polygons(session, forest.id, FOREST_CODES)
    # A mask of forest only (SR16) has no open land: then all land outside the forest counts.
    open_land = _polygons(session, forest.id, OPEN_CODES) or None
    if not geometries:
        raise DeriveError(
            f"{FOREST_LAYER} version {forest.version} has no polygon with arealtype "
            f"{', '.join(map(str, FOREST_CODES))} (Skog)"
        )
    dem_path = raster_dir / (elevation.raster_file or "")
    if not elevation.raster_file or not dem_path.is_file():
        raise DeriveError(f"the terrain model's file {dem_path} is missing")
    if progress:
        progress("tree_line (derive)", 0, 1)
    surface = derive_surface(dem_path, geometries, params, open_land)
    if not np.isfinite(surface.values).any():
        raise DeriveError(
            "no forest of the forest mask lies on the terrain model: nothing to derive from"
        )
    note = (
        f"avledet fra terrengmodellen (elevation v{elevation.version}) og skogkartet "
        f"({FOREST_LAYER} v{forest.version}): {params.percentile:g}-persentilen av høydene "
        f"til skogen innenfor {params.window_m / 1000:g} km"
        + (f", hevet {params.offset_m:g} m" if params.offset_m else "")
    )
    raster_dir.mkdir(parents=True, exist_ok=True)
    target = raster_dir / f"tree_line-{checksum[:16]}.tif"
    grid = _write_cog(surface.values, surface.transform, surface.crs, target, note)
    details = {
        **grid,
        "derived": {
            **recipe,
            "note": note,
            "forest_features": len(geometries),
            "open_features": len(open_land or []),
            "forest_cells": surface.forest_cells,
            "measured_cells": surface.measured_cells,
            "filled_cells": surface.filled_cells,
            "lower_bound_cells": surface.lower_bound_cells,
        },
    }
    dates = [d for d in (elevation.source_date, forest.source_date) if d is not None]
    number = store_raster_version(
        session,
        "tree_line",
        target,
        checksum=checksum,
        source=f"Arealsjekk, {note}",
        source_date=max(dates) if dates else None,
        licence=(
            f"avledet; inndata: {elevation.licence} (elevation), {forest.licence} ({FOREST_LAYER})"
        ),
        file_name=f"elevation v{elevation.version} + {FOREST_LAYER} v{forest.version}",
        details=details,
    )
    build_terrain_products(raster_dir, current_versions(session))
    if progress:
        progress("tree_line (derive)", 1, 1)
    return LoadResult("tree_line", number, True, 0, checksum)


def _input(version: LayerVersionOrm) -> dict[str, Any]:
    return {
        "version": version.version,
        "checksum": version.checksum,
        "source": version.source,
        "source_date": version.source_date.isoformat() if version.source_date else None,
        "licence": version.licence,
    }


def _polygons(session: Session, version_id: int, codes: tuple[int, ...]) -> list[Any]:
    """The polygons of a forest_mask version whose arealtype is one of `codes`."""
    rows = session.execute(
        select(func.ST_AsBinary(LayerFeatureOrm.geom))
        .where(LayerFeatureOrm.layer_version_id == version_id)
        .where(LayerFeatureOrm.attributes["arealtype"].as_integer().in_(codes))
        .order_by(LayerFeatureOrm.id)
    ).scalars()
    return [shapely.from_wkb(bytes(wkb)) for wkb in rows]


def _write_cog(
    values: np.ndarray, transform: Any, crs: Any, target: Path, note: str
) -> dict[str, Any]:
    """Write the surface as a COG (as the loader stores rasters) carrying its note."""
    handle, partial = tempfile.mkstemp(suffix=".tif", dir=target.parent)
    os.close(handle)
    profile = {
        "driver": "GTiff",
        "width": values.shape[1],
        "height": values.shape[0],
        "count": 1,
        "dtype": "float32",
        "crs": crs,
        "transform": transform,
        "nodata": NODATA,
    }
    try:
        with rasterio.MemoryFile() as memory:
            with memory.open(**profile) as dataset:
                dataset.write(np.where(np.isnan(values), NODATA, values).astype("float32"), 1)
                dataset.update_tags(**{NOTE_TAG: note})
            with memory.open() as dataset:
                rasterio.shutil.copy(
                    dataset,
                    partial,
                    driver="COG",
                    compress="DEFLATE",
                    predictor=3,
                    blocksize=512,
                    overview_resampling="average",
                )
        with rasterio.open(partial) as written:
            grid = grid_details(written, str(crs))
        # Readable by every process that shares the volume (mkstemp makes it 0600).
        os.chmod(partial, 0o644)
        os.replace(partial, target)
    except RasterioError as exc:
        raise DeriveError(f"the derived tree line cannot be written: {exc}") from None
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    return grid
