"""WMS side of the benchmark: Arealsjekk (Mapnik) against MapServer on the same PostGIS table.

The busy layer is `heritage_protected` (~50,000 polygons). Both renderers read the same
SQL over `layer_feature` (the subquery Arealsjekk's WMS catalogue builds for the layer's
current version) and draw it with the same three classes as `layers/styles/
heritage_protected.xml` (fill colour and opacity, 1 px outline). Images are 512 x 512 PNG
(RGBA, white background) in EPSG:25832 for two extents: the whole county and a 20 km view
of Hallingdal around Gol. MapServer runs as a CGI (`mapserv`, a new process per request,
as in a plain CGI set-up) and through mapscript with one loaded map and a kept PostGIS
connection (as FastCGI would), under Debian's system Python.
"""

import io
import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import common
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


def write_mapfile(path: Path, sql: str) -> Path:
    """Write the MapServer mapfile for the same SQL and classes."""
    connection = (
        f"host={common.PGSOCK} port={common.PGPORT} dbname={common.BENCH_DB} user={common.DB_ROLE}"
    )
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


def mapserver_cgi(mapfile: Path, bbox: tuple, repeat: int, out: Path) -> dict[str, Any]:
    """Run `mapserv` as a CGI per request (QUERY_STRING in the environment)."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "MAPSERVER_CONFIG_FILE": str(write_config(mapfile)),
        "REQUEST_METHOD": "GET",
        "QUERY_STRING": query_string(bbox),
    }
    seconds = []
    for i in range(repeat + 1):  # the first warms up, not timed
        started = time.perf_counter()
        done = subprocess.run([MAPSERV], env=env, capture_output=True, timeout=120, check=True)
        elapsed = time.perf_counter() - started
        head, _, body = done.stdout.partition(b"\r\n\r\n")
        if b"image/png" not in head:
            raise RuntimeError(f"mapserv answered {done.stdout[:400]!r} {done.stderr[:400]!r}")
        if i == 0:
            out.write_bytes(body)
        else:
            seconds.append(elapsed)
    return {"latency_s": common.summary(seconds), "bytes": len(body)}


def mapserver_mapscript(mapfile: Path, repeat: int, out_dir: Path) -> dict[str, Any]:
    """Render every extent with mapscript in one persistent process (system Python)."""
    job = {
        "mapfile": str(mapfile),
        "repeat": repeat,
        "requests": [
            [name, query_string(bbox), str(out_dir / f"mapscript-{name}.png")]
            for name, bbox in BBOXES.items()
        ],
    }
    done = subprocess.run(
        [SYSTEM_PYTHON, str(common.BENCH_DIR / "mapserver_render.py")],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
        env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "MAPSERVER_CONFIG_FILE": str(write_config(mapfile)),
        },
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return {
        "version": result["version"].split(" OUTPUT")[0],
        **{
            name: {"latency_s": common.summary(seconds)}
            for name, seconds in result["seconds"].items()
        },
    }


def mapnik_in_process(layer: Any, repeat: int, out_dir: Path) -> dict[str, Any]:
    """Arealsjekk's own renderer called directly (no HTTP): app.wms.render.render_map."""
    from app.wms.render import render_map

    out: dict[str, Any] = {}
    styled = [(layer, layer.styles)]
    for name, bbox in BBOXES.items():
        seconds = []
        for i in range(repeat + 1):
            started = time.perf_counter()
            png = render_map(styled, "epsg:25832", bbox, SIZE, SIZE, common.DATABASE_URL, "#ffffff")
            elapsed = time.perf_counter() - started
            if i == 0:
                (out_dir / f"mapnik-{name}.png").write_bytes(png)
            else:
                seconds.append(elapsed)
        out[name] = {"latency_s": common.summary(seconds)}
    return out


def ink_share(path: Path) -> float:
    """Share of pixels that are not the white background (to see both drew the same)."""
    from PIL import Image

    with Image.open(io.BytesIO(path.read_bytes())) as image:
        rgb = image.convert("RGB")
        pixels = rgb.getdata()
        drawn = sum(1 for p in pixels if p != (255, 255, 255))
        return 100.0 * drawn / (rgb.width * rgb.height)
