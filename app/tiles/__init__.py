"""Map tiles: OGC API – Tiles tile matrix sets, vector tiles (MVT) and raster tiles, cached."""
