"""MapServer side of the WMS benchmark; runs under Debian's system Python with mapscript.

Usage:
    /usr/bin/python3 bench/mapserver_render.py MAPFILE
Loads the mapfile once and prints one JSON line with MapServer's version. Then, for each
JSON line {"query": WMS query string, "out": path or null} on stdin, answers the query with
`mapObj.OWSDispatch` (as a FastCGI MapServer would: the PostGIS connection is kept open
between requests), writes the image to "out" if given and prints one JSON line with the
seconds it took and the image size. Only the standard library and mapscript are used.
"""

import json
import sys
import time

import mapscript


def main() -> None:
    """Answer GetMap queries one line at a time."""
    the_map = mapscript.mapObj(sys.argv[1])
    print(json.dumps({"version": mapscript.msGetVersion()}), flush=True)
    for line in sys.stdin:
        job = json.loads(line)
        started = time.perf_counter()
        request = mapscript.OWSRequest()
        request.loadParamsFromURL(job["query"])
        mapscript.msIO_installStdoutToBuffer()
        status = the_map.OWSDispatch(request)
        content_type = mapscript.msIO_stripStdoutBufferContentType()
        body = mapscript.msIO_getStdoutBufferBytes()
        mapscript.msIO_resetHandlers()
        elapsed = time.perf_counter() - started
        if status != mapscript.MS_SUCCESS or content_type != "image/png":
            raise SystemExit(f"MapServer answered {content_type}: {body[:300]!r}")
        if job.get("out"):
            with open(job["out"], "wb") as handle:
                handle.write(body)
        print(json.dumps({"seconds": elapsed, "bytes": len(body)}), flush=True)


if __name__ == "__main__":
    main()
