"""MapServer side of the WMS benchmark; runs under Debian's system Python with mapscript.

Usage (stdin: a JSON object {"mapfile", "requests": [query strings], "repeat"}):
    /usr/bin/python3 bench/mapserver_render.py < job.json
Loads the mapfile once and answers each WMS query string `repeat` times with
`mapObj.OWSDispatch` (as a FastCGI MapServer would: the PostGIS connection is kept open
between requests), writing each first image to the path given. Prints one JSON line with
the seconds of every request. Only the standard library and mapscript are used.
"""

import json
import sys
import time

import mapscript


def main() -> None:
    """Render the requested maps and print their timings."""
    job = json.load(sys.stdin)
    the_map = mapscript.mapObj(job["mapfile"])
    results = {}
    for name, query, out_path in job["requests"]:
        seconds = []
        for i in range(job["repeat"] + 1):  # the first one warms up, not timed
            started = time.perf_counter()
            request = mapscript.OWSRequest()
            request.loadParamsFromURL(query)
            mapscript.msIO_installStdoutToBuffer()
            status = the_map.OWSDispatch(request)
            content_type = mapscript.msIO_stripStdoutBufferContentType()
            body = mapscript.msIO_getStdoutBufferBytes()
            mapscript.msIO_resetHandlers()
            elapsed = time.perf_counter() - started
            if status != mapscript.MS_SUCCESS or content_type != "image/png":
                raise SystemExit(f"{name}: MapServer answered {content_type}: {body[:300]!r}")
            if i == 0:
                with open(out_path, "wb") as handle:
                    handle.write(body)
            else:
                seconds.append(elapsed)
        results[name] = seconds
    print(json.dumps({"version": mapscript.msGetVersion(), "seconds": results}))


if __name__ == "__main__":
    main()
