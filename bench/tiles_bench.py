"""Tile side of the benchmark: raster and vector tiles against the WMS GetMap they replace.

    .venv/bin/python bench/tiles_bench.py   # this part alone (part of bench/run.py too)

The busy layer is `heritage_protected` (~50,000 polygons), as in the WMS comparison. For
3 × 3 tiles of WebMercatorQuad at two levels — z8 (about 75 km a tile: the county in a few
tiles) and z12 (about 5 km: a valley around Gol) — it measures over HTTP, tile by tile:

- the WMS GetMap of the tile's box, 256 × 256 px in EPSG:3857 (what the map page asked for
  before tiles, untiled and uncached),
- the PNG tile of /tiles/heritage_protected/WebMercatorQuad/{z}/{y}/{x}.png, cold (the tile
  cache emptied first: drawn by the same renderer, then stored) and cached (the next request),
- the vector tile of /ogcapi/collections/heritage_protected/tiles/WebMercatorQuad/{z}/{y}/{x}
  (ST_AsMVT), cold and cached, with its size.

Each repetition empties the tile cache, then takes each tile in turn through all five
requests, so other work on the machine disturbs them alike.
"""

from typing import Any

import common
import http_bench
import morecantile

LAYER = "heritage_protected"
TMS = "WebMercatorQuad"
# Gol, in Hallingdal (as the WMS comparison's 20 km view), and the county's middle.
CENTRES = {"county_z8": (9.3, 60.3, 8), "hallingdal_z12": (8.945, 60.70, 12)}
KINDS = ("wms_getmap", "raster_cold", "raster_cached", "mvt_cold", "mvt_cached")


def tiles_around(lon: float, lat: float, zoom: int) -> list[morecantile.Tile]:
    """The 3 × 3 tiles around a point."""
    centre = morecantile.tms.get(TMS).tile(lon, lat, zoom)
    return [
        morecantile.Tile(centre.x + dx, centre.y + dy, zoom)
        for dy in (-1, 0, 1)
        for dx in (-1, 0, 1)
    ]


def getmap_path(tile: morecantile.Tile) -> str:
    """The WMS GetMap of a tile's box: 256 px, EPSG:3857, transparent, as a tile is drawn."""
    box = morecantile.tms.get(TMS).xy_bounds(tile)
    return (
        "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&FORMAT=image/png&TRANSPARENT=TRUE"
        f"&LAYERS={LAYER}&STYLES=&CRS=EPSG:3857&WIDTH=256&HEIGHT=256"
        f"&BBOX={box.left},{box.bottom},{box.right},{box.top}"
    )


def _get(port: int, connection: Any, path: str, expect: tuple[int, ...] = (200,)) -> tuple:
    status, data, seconds = http_bench.request(port, "GET", path, connection=connection)
    if status not in expect:
        raise RuntimeError(f"GET {path} answered {status}: {data[:300]!r}")
    return data, seconds


def measure(port: int, repeat: int) -> dict[str, Any]:
    """Time every kind of request for each tile set, `repeat` times after a warm-up."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    results: dict[str, Any] = {}
    try:
        for name, (lon, lat, zoom) in CENTRES.items():
            tiles = tiles_around(lon, lat, zoom)
            seconds: dict[str, list[float]] = {kind: [] for kind in KINDS}
            sizes: list[int] = []
            for run in range(repeat + 1):  # the first run warms up and is not counted
                common.psql(common.BENCH_DB, "DELETE FROM tile_cache")
                for tile in tiles:
                    png = f"/tiles/{LAYER}/{TMS}/{tile.z}/{tile.y}/{tile.x}.png"
                    mvt = f"/ogcapi/collections/{LAYER}/tiles/{TMS}/{tile.z}/{tile.y}/{tile.x}"
                    timed = {
                        "wms_getmap": _get(port, connection, getmap_path(tile))[1],
                        "raster_cold": _get(port, connection, png)[1],
                        "raster_cached": _get(port, connection, png)[1],
                    }
                    body, timed["mvt_cold"] = _get(port, connection, mvt, (200, 204))
                    timed["mvt_cached"] = _get(port, connection, mvt, (200, 204))[1]
                    if run == 0:
                        continue
                    sizes.append(len(body))
                    for kind, value in timed.items():
                        seconds[kind].append(value)
            results[name] = {
                "zoom": zoom,
                "tiles": [[t.z, t.y, t.x] for t in tiles],
                **{kind: {"latency_s": common.summary(values)} for kind, values in seconds.items()},
                "mvt_bytes": common.summary([float(s) for s in sizes]),
            }
    finally:
        connection.close()
    return results


def main() -> None:
    """Run the tile comparison alone (the data built and loaded) and print its table."""
    import argparse
    import json

    import generate
    import run

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2, help="timed repetitions (default 2)")
    args = parser.parse_args()
    generate.generate()
    generate.load()
    with http_bench.Server(workers=2) as server:
        results = measure(server.port, args.repeat)
    text = "\n".join(run.tiles_table(results)).strip()
    common.RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (common.RESULTS_DIR / "latest-tiles.json").write_text(json.dumps(results, indent=1))
    (common.RESULTS_DIR / "latest-tiles.md").write_text(text + "\n", "utf-8")
    print(text)


if __name__ == "__main__":
    main()
