"""WMS: the layers it offers, rendering with Mapnik from PostGIS and COGs, capabilities."""

import os

from rasterio.env import GDALDataFinder, PROJDataFinder

# Importing mapnik points PROJ_LIB and GDAL_DATA at folders of its own wheel when they are
# unset, and rasterio's GDAL in the same process then finds no proj.db there (CRSs come out
# empty). Point them at rasterio's data first: one PROJ database for the whole process;
# PROJ reads databases of a newer layout than its own.
for _key, _path in (
    ("PROJ_DATA", PROJDataFinder().search()),
    ("PROJ_LIB", PROJDataFinder().search()),
    ("GDAL_DATA", GDALDataFinder().search()),
):
    if _path:
        os.environ.setdefault(_key, _path)
