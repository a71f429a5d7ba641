"""Load a county-scale 10 m DEM (17,000 x 19,000 cells) and report time and peak memory.

Shows that raster layers are converted to COG block by block, never read whole:
the float32 grid is 1.3 GB, the loader's peak memory stays far below it.

Run:  AREALSJEKK_DATABASE_URL=... .venv/bin/python bench/raster_load.py [--workdir DIR]
(`make run` prints nothing of the URL; scripts/dev.sh shows how it is built.)
"""

import argparse
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin
from rasterio.windows import Window
from sqlalchemy import delete

from app.db import get_sessionmaker
from db.models import LayerVersionOrm
from layers.loader import LoadOptions, load_layer
from spatial.raster import sample_values

LICENCE = "synthetic benchmark data"
WIDTH, HEIGHT, CELL = 17_000, 19_000, 10.0
ORIGIN = (420_000.0, 6_780_000.0)  # north-west corner, EPSG:25832, covers Buskerud


def write_big_dem(path: Path) -> None:
    """Write a tiled GeoTIFF window by window; cell value = 100 + row/10 + col/100."""
    profile = {
        "driver": "GTiff",
        "width": WIDTH,
        "height": HEIGHT,
        "count": 1,
        "dtype": "float32",
        "crs": "EPSG:25832",
        "transform": from_origin(*ORIGIN, CELL, CELL),
        "nodata": -9999.0,
        "tiled": True,
        "blockxsize": 512,
        "blockysize": 512,
        "compress": "deflate",
    }
    cols = np.arange(WIDTH, dtype="float32")
    with rasterio.open(path, "w", **profile) as dataset:
        for row in range(0, HEIGHT, 512):
            rows = np.arange(row, min(row + 512, HEIGHT), dtype="float32")
            block = 100 + rows[:, None] / 10 + cols[None, :] / 100
            dataset.write(block, 1, window=Window(0, row, WIDTH, len(rows)))


def drop_benchmark_versions(session) -> None:
    """Remove benchmark versions: they point into a temporary directory."""
    session.execute(delete(LayerVersionOrm).where(LayerVersionOrm.licence == LICENCE))
    session.commit()


def main() -> None:
    """Generate, load and sample the big DEM, printing figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.workdir) as work:
        source = Path(work) / "dem10.tif"
        started = time.perf_counter()
        write_big_dem(source)
        written = time.perf_counter()
        with get_sessionmaker()() as session:
            drop_benchmark_versions(session)
            result = load_layer(
                session,
                "elevation",
                source,
                LoadOptions(licence=LICENCE),
                raster_dir=Path(work) / "rasters",
            )
            loaded = time.perf_counter()
            drop_benchmark_versions(session)
        cog = next((Path(work) / "rasters").glob("elevation-*.tif"))
        x, y = ORIGIN[0] + 12_345 * CELL + 5, ORIGIN[1] - 9_876 * CELL - 5
        value = sample_values(cog, [(x, y)])[0]
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        gigabytes = WIDTH * HEIGHT * 4 / 1e9
        print(f"grid                {WIDTH} x {HEIGHT} cells ({gigabytes:.2f} GB float32)")
        print(f"write source        {written - started:6.1f} s")
        print(f"load (COG + db)     {loaded - written:6.1f} s, version {result.version}")
        print(f"COG size            {cog.stat().st_size / 1e6:6.1f} MB")
        expected = 100 + 9876 / 10 + 12345 / 100
        print(f"sample (row 9876, col 12345) = {value:.2f} (expected {expected:.2f})")
        print(f"peak memory (RSS)   {peak_mb:6.0f} MB")


if __name__ == "__main__":
    main()
