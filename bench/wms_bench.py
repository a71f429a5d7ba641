"""WMS side of the benchmark: Arealsjekk (Mapnik) against MapServer on the same PostGIS table.

The busy layer is `heritage_protected` (~50,000 polygons). Both renderers read the same
SQL over `layer_feature` (the subquery Arealsjekk's WMS catalogue builds for the layer's
current version; Arealsjekk's renderer wraps it in its box filter, leaves out vertices
nearer than half a pixel and reads a feature that fits in a pixel as its bounding box,
`app.wms.render.thinned_sql`) and draw it with the
same three classes as `layers/styles/heritage_protected.xml` (fill colour and opacity,
1 px outline). Images are 512 x 512 PNG (RGBA, white background) in EPSG:25832 for two
extents: the whole county and a 20 km view of Hallingdal around Gol. MapServer runs as a
CGI (`mapserv`, a new process per request, as in a plain CGI set-up) and through mapscript
with one loaded map and a kept PostGIS connection (as FastCGI would), under Debian's system
Python; mapscript also once more with PostgreSQL's JIT compiler off in its session
(MapServer's `ST_Intersects` filter is costed high enough that the default settings
JIT-compile its query, which costs more than it saves). `compare` renders each extent with
every renderer in turn, repetition by repetition, so that other work on the machine
disturbs all of them alike.
"""

import io
import json
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import common
import http_bench
from pyproj import Transformer

MAPSERV = "/usr/bin/mapserv"
SYSTEM_PYTHON = "/usr/bin/python3"
SIZE = 512
_gol = Transformer.from_crs("EPSG:4326", "EPSG:25832", always_xy=True).transform(8.945, 60.70)
BBOXES = {
    # The county's 188 km extent, square (so 512 x 512 is not distorted).
    "county": (407_750.0, 6_585_500.0, 595_750.0, 6_773_500.0),
    "hallingdal_20km": (
        round(_gol[0]) - 10_000.0,
        round(_gol[1]) - 10_000.0,
        round(_gol[0]) + 10_000.0,
        round(_gol[1]) + 10_000.0,
    ),
}

MAPFILE = """MAP
  NAME "arealsjekk_bench"
  EXTENT {extent}
  SIZE {size} {size}
  UNITS METERS
  IMAGECOLOR 255 255 255
  PROJECTION
    "init=epsg:25832"
  END
  OUTPUTFORMAT
    NAME "png"
    DRIVER "AGG/PNG"
    MIMETYPE "image/png"
    IMAGEMODE RGBA
    EXTENSION "png"
  END
  WEB
    METADATA
      "wms_title" "Arealsjekk benchmark"
      "wms_srs" "EPSG:25832"
      "wms_enable_request" "*"
      "wms_onlineresource" "http://127.0.0.1/"
    END
  END
  LAYER
    NAME "heritage_protected"
    TYPE POLYGON
    STATUS ON
    CONNECTIONTYPE POSTGIS
    CONNECTION "{connection}"
    PROCESSING "CLOSE_CONNECTION=DEFER"
    DATA "geom from {sql} using unique id using srid=25832"
    PROJECTION
      "init=epsg:25832"
    END
    METADATA
      "wms_title" "heritage_protected"
    END
    CLASS
      NAME "Sikringssone"
      EXPRESSION ('[category]' = 'sikringssone')
      STYLE COLOR "#e31a1c" OPACITY 15 END
      STYLE OUTLINECOLOR "#e31a1c" WIDTH 1 END
    END
    CLASS
      NAME "Fredet kulturminne (lokalitet, enkeltminne)"
      EXPRESSION ('[category]' = 'lokalitet' OR '[category]' = 'enkeltminne')
      STYLE COLOR "#e31a1c" OPACITY 70 END
      STYLE OUTLINECOLOR "#99000d" WIDTH 1 END
    END
    CLASS
      NAME "Fredet kulturmiljø"
      EXPRESSION ('[category]' = 'fredet kulturmiljø')
      STYLE COLOR "#6a3d9a" OPACITY 40 END
      STYLE OUTLINECOLOR "#3f007d" WIDTH 1 END
    END
  END
END
"""


def query_string(bbox: tuple[float, float, float, float]) -> str:
    """The GetMap query both servers answer."""
    return (
        "SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=heritage_protected&STYLES="
        f"&CRS=EPSG:25832&BBOX={','.join(f'{v:.0f}' for v in bbox)}"
        f"&WIDTH={SIZE}&HEIGHT={SIZE}&FORMAT=image/png&TRANSPARENT=FALSE"
    )


def heritage_layer() -> Any:
    """The WMS catalogue's heritage_protected layer (its SQL names the current version)."""
    from app.check_runner import get_rule_set
    from app.db import get_sessionmaker
    from app.settings import get_settings
    from app.wms.catalog import wms_layers

    settings = get_settings()
    with get_sessionmaker()() as session:
        return wms_layers(session, settings, get_rule_set(settings))["heritage_protected"]


def write_mapfile(path: Path, sql: str, jit: bool = True) -> Path:
    """Write the MapServer mapfile for the same SQL and classes (jit=False: JIT off)."""
    connection = (
        f"host={common.PGSOCK} port={common.PGPORT} dbname={common.BENCH_DB} user={common.DB_ROLE}"
    )
    if not jit:
        connection += " options='-c jit=off'"
    extent = " ".join(f"{v:.0f}" for v in BBOXES["county"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        MAPFILE.format(
            extent=extent, size=SIZE, connection=connection, sql=sql.replace('"', '\\"')
        ),
        "utf-8",
    )
    return path


def write_config(mapfile: Path) -> Path:
    """MapServer 8's config file: the one map this benchmark may use."""
    config = mapfile.with_suffix(".conf")
    config.write_text(
        f'CONFIG\n  ENV\n    MS_MAPFILE "{mapfile}"\n  END\n  MAPS\n  END\nEND\n', "utf-8"
    )
    return config


def cgi_render(mapfile: Path, bbox: tuple, out: Path | None = None) -> float:
    """Run `mapserv` as a CGI (QUERY_STRING in the environment); returns the seconds."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "MAPSERVER_CONFIG_FILE": str(write_config(mapfile)),
        "REQUEST_METHOD": "GET",
        "QUERY_STRING": query_string(bbox),
    }
    started = time.perf_counter()
    done = subprocess.run([MAPSERV], env=env, capture_output=True, timeout=120, check=True)
    elapsed = time.perf_counter() - started
    head, _, body = done.stdout.partition(b"\r\n\r\n")
    if b"image/png" not in head:
        raise RuntimeError(f"mapserv answered {done.stdout[:400]!r} {done.stderr[:400]!r}")
    if out is not None:
        out.write_bytes(body)
    return elapsed


class Mapscript:
    """MapServer through mapscript in one persistent process (system Python), map by map."""

    def __init__(self, mapfile: Path):
        self.mapfile = mapfile
        self.process: subprocess.Popen | None = None
        self.version = ""

    def __enter__(self) -> "Mapscript":
        self.process = subprocess.Popen(
            [SYSTEM_PYTHON, str(common.BENCH_DIR / "mapserver_render.py"), str(self.mapfile)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "MAPSERVER_CONFIG_FILE": str(write_config(self.mapfile)),
            },
        )
        self.version = self._answer()["version"].split(" OUTPUT")[0]
        return self

    def _answer(self) -> dict[str, Any]:
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"mapscript stopped (exit {self.process.wait(timeout=30)})")
        return json.loads(line)

    def render(self, bbox: tuple, out: Path | None = None) -> float:
        """Answer one GetMap; returns the seconds MapServer took."""
        job = {"query": query_string(bbox), "out": str(out) if out else None}
        self.process.stdin.write(json.dumps(job) + "\n")
        self.process.stdin.flush()
        return self._answer()["seconds"]

    def __exit__(self, *exc: object) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)


def mapnik_render(layer: Any, bbox: tuple, out: Path | None = None) -> float:
    """Arealsjekk's own renderer called directly (no HTTP): app.wms.render.render_map."""
    from app.wms.render import render_map

    started = time.perf_counter()
    png = render_map(
        [(layer, layer.styles)], "epsg:25832", bbox, SIZE, SIZE, common.DATABASE_URL, "#ffffff"
    )
    elapsed = time.perf_counter() - started
    if out is not None:
        out.write_bytes(png)
    return elapsed


def http_render(port: int, connection: Any, bbox: tuple, out: Path | None = None) -> float:
    """One GetMap from Arealsjekk over HTTP (a kept-alive connection)."""
    path = "/wms?" + query_string(bbox)
    status, data, elapsed = http_bench.request(port, "GET", path, connection=connection)
    if status != 200 or not data.startswith(b"\x89PNG"):
        raise RuntimeError(f"GET {path} answered {status}: {data[:300]!r}")
    if out is not None:
        out.write_bytes(data)
    return elapsed


def compare(
    renderers: dict[str, Callable[[tuple, Path | None], float]], repeat: int, out_dir: Path
) -> dict[str, dict[str, Any]]:
    """Render each extent with every renderer in turn, `repeat` times after one warm-up each."""
    seconds: dict[str, dict[str, list[float]]] = {name: {} for name in renderers}
    for extent, bbox in BBOXES.items():
        for name, render in renderers.items():
            render(bbox, out_dir / f"{name}-{extent}.png")  # warm-up, not timed; image kept
            seconds[name][extent] = []
        for _ in range(repeat):
            for name, render in renderers.items():
                seconds[name][extent].append(render(bbox, None))
    return {
        name: {extent: {"latency_s": common.summary(values)} for extent, values in by.items()}
        for name, by in seconds.items()
    }


def ink_share(path: Path) -> float:
    """Share of pixels that are not the white background (to see both drew the same)."""
    from PIL import Image

    with Image.open(io.BytesIO(path.read_bytes())) as image:
        rgb = image.convert("RGB")
        pixels = rgb.getdata()
        drawn = sum(1 for p in pixels if p != (255, 255, 255))
        return 100.0 * drawn / (rgb.width * rgb.height)
