"""A render process: draws Mapnik map definitions into PNGs, one at a time (see app.wms.pool).

Mapnik cannot be interrupted inside a thread, so it runs only here, in a process the pool
can kill: `python app/wms/worker.py FD PGOPTIONS`, FD being its end of the pool's socket
pair. The module imports Mapnik and nothing of the application.
"""

import math
import os
import signal
import sys
from collections import OrderedDict
from multiprocessing.connection import Connection

import mapnik

# Parsed maps kept per map definition (the XML names styles, SQL with layer versions, raster
# files, CRS and background), least recently used dropped first. One render at a time per
# process, so each definition needs one parsed map.
MAP_CACHE_SIZE = 32
# Seconds past the parent's own limit after which a render kills its process by itself
# (SIGALRM), in case the parent is gone and cannot.
ALARM_GRACE_S = 5
# Sent once to the pool when the process can take jobs (app.wms.pool.READY).
READY = "ready"
_maps: OrderedDict[str, mapnik.Map] = OrderedDict()


def parsed_map(xml: str) -> mapnik.Map:
    """Return the parsed map for this definition, parsing it on first use."""
    the_map = _maps.get(xml)
    if the_map is None:
        the_map = mapnik.Map(1, 1)
        mapnik.load_map_from_string(the_map, xml)
        # The WMS BBOX is the exact extent of the image; Mapnik must not widen it.
        the_map.aspect_fix_mode = mapnik.aspect_fix_mode.RESPECT
        _maps[xml] = the_map
        while len(_maps) > MAP_CACHE_SIZE:
            _maps.popitem(last=False)
    _maps.move_to_end(xml)
    return the_map


def render_png(
    xml: str, bbox: tuple[float, float, float, float], width: int, height: int, image_format: str
) -> bytes:
    """Render a map definition into an image of the given size and extent."""
    the_map = parsed_map(xml)
    the_map.resize(width, height)
    the_map.zoom_to_box(mapnik.Box2d(*bbox))
    image = mapnik.Image(width, height, mapnik.ImageType.rgba8)
    mapnik.render(the_map, image)
    return image.to_string(image_format)


def serve(connection: Connection, pgoptions: str) -> None:
    """Answer render jobs from the parent until it closes the pipe."""
    # Ctrl-C reaches the whole process group; the parent stops its renderers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # libpq reads PGOPTIONS when Mapnik's PostGIS plugin connects: a statement timeout, and
    # a check that ends a query whose client is gone (a killed renderer), PostgreSQL 14+.
    os.environ["PGOPTIONS"] = f"{os.environ.get('PGOPTIONS', '')} {pgoptions}".strip()
    connection.send(READY)
    while True:
        try:
            job, limit_s = connection.recv()
        except (EOFError, OSError):
            return
        # SIGALRM's default action ends the process even inside Mapnik's C++ code.
        signal.alarm(math.ceil(limit_s) + ALARM_GRACE_S)
        try:
            reply: tuple = ("ok", render_png(*job))
        except Exception as exc:  # every failure goes back to the parent, which maps it
            reply = ("error", type(exc).__name__, str(exc)[:2000])
        signal.alarm(0)
        try:
            connection.send(reply)
        except OSError:
            return


if __name__ == "__main__":
    serve(Connection(int(sys.argv[1])), sys.argv[2])
