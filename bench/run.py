"""Run the county-scale benchmark: checks S/M/L against a GeoPandas baseline, HTTP, WMS.

    .venv/bin/python bench/run.py            # full run, ~6 min (+ ~4 min to build the data once)
    .venv/bin/python bench/run.py --quick    # fewer repetitions, ~3 min with the data built

1. Builds the synthetic county-scale data once (bench/generate.py, cached in bench/.data/)
   and loads it with layers.loader.load_layer into the database `arealsjekk_bench`.
2. Checks S (30-feature reguleringsplan), M (3,000-feature kommuneplan) and L (30,000
   features: one kommuneplan per municipality) in-process with the engine
   (app.uploads.prepare_upload + check_runner.evaluate, bench/engine.py) and with the
   GeoPandas + rasterstats baseline (bench/baseline.py), each in its own process (peak
   memory per process): a cold first run each, then warm runs taking turns (a few engine
   runs, one baseline run, and again), so that the machine's slow and fast spells fall on
   both sides alike; profiles the slowest part (L) with pyinstrument.
3. Starts `arealsjekk serve --workers 2` on a loopback port and measures quick checks per
   second (POST /api/v1/check with S) with concurrent clients.
4. Renders the same WMS GetMaps with Arealsjekk (over HTTP and its Mapnik renderer
   in-process) and with MapServer (mapscript, mapscript with PostgreSQL's JIT off, CGI),
   each renderer in turn, repetition by repetition.
5. Computes the land account (issue 23) of all 18 municipalities in a process of its own
   (bench/land_account_bench.py: a cold run, and 2 warm runs unless --quick).
6. Prints a table and writes bench/results/latest.json, latest.md and profile-L.txt
   (--quick: latest-quick.json, latest-quick.md, profile-L-quick.txt, so a quick run does
   not replace the full results).
Everything stops by itself; the server is stopped at the end (also on errors).
"""

import argparse
import http.client
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import common
import generate
import http_bench
import land_account_bench
import tiles_bench
import wms_bench

# Per size: rounds, then engine and baseline warm runs per round (after a cold run each).
FULL = {
    "rounds": {"S": (10, 3, 1), "M": (5, 2, 1), "L": (2, 1, 1)},
    "throughput": [(1, 60), (2, 100), (4, 160)],
    "wms_repeat": 10,
    "tiles_repeat": 4,
}
QUICK = {
    "rounds": {"S": (4, 3, 1), "M": (2, 2, 1), "L": (0, 1, 1)},
    "throughput": [(1, 20), (4, 60)],
    "wms_repeat": 4,
    "tiles_repeat": 2,
}
TARGETS = {"S": 0.100, "M": 3.0, "L": 30.0}
# The MapServer set-ups of the WMS comparison; a target compares with the fastest.
MAPSERVERS = ("mapserver_mapscript", "mapserver_mapscript_jit_off", "mapserver_cgi")
MIN_SPEEDUP = 5.0


def log(message: str) -> None:
    """Progress on stderr, so stdout keeps the table."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def load_average() -> float:
    """The 1-minute load average (other work on the machine disturbs the timings)."""
    return float(Path("/proc/loadavg").read_text().split()[0])


def machine() -> dict[str, Any]:
    """What the benchmark ran on."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    return {
        "cpu": cpu,
        "nproc": os.cpu_count(),
        "memory_gib": round(memory_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def versions() -> dict[str, str]:
    """Versions of the libraries that do the work."""
    import geopandas
    import mapnik
    import rasterio
    import rasterstats
    import shapely

    out = {
        "gdal": rasterio.__gdal_version__,
        "geos": shapely.geos_version_string,
        "shapely": shapely.__version__,
        "geopandas": geopandas.__version__,
        "rasterstats": rasterstats.__version__,
        "mapnik": str(mapnik.version_string()),
    }
    out["postgresql"] = common.psql(common.BENCH_DB, "SHOW server_version").strip()
    out["postgis"] = common.psql(common.BENCH_DB, "SELECT postgis_lib_version()").strip()
    done = subprocess.run(
        [wms_bench.MAPSERV, "-v"], capture_output=True, text=True, check=False, timeout=30
    )
    out["mapserver"] = done.stdout.split(" OUTPUT")[0].replace("MapServer version ", "")
    return out


def phase(results: dict[str, Any], name: str, run: Any) -> Any:
    """Run one part, recording its wall time and the load average before and after."""
    before = load_average()
    started = time.perf_counter()
    log(f"{name} ... (load average {before:.2f})")
    value = run()
    results["phases"][name] = {
        "seconds": round(time.perf_counter() - started, 1),
        "load_before": before,
        "load_after": load_average(),
    }
    return value


def agreement(engine: dict[str, int], baseline: dict[str, int]) -> dict[str, Any]:
    """How close the baseline's finding counts come to the engine's, per rule and severity."""
    keys = sorted(set(engine) | set(baseline))
    differing = {
        k: {"engine": engine.get(k, 0), "baseline": baseline.get(k, 0)}
        for k in keys
        if engine.get(k, 0) != baseline.get(k, 0)
    }
    total = sum(engine.values())
    off = sum(abs(engine.get(k, 0) - baseline.get(k, 0)) for k in keys)
    return {
        "identical": not differing,
        "agreement_pct": round(100.0 * (1 - off / total), 2) if total else 100.0,
        "differing": differing,
    }


def check_sizes(results: dict[str, Any], settings: dict[str, Any], suffix: str) -> None:
    """Engine and baseline for S, M and L, each in its own process, taking turns run by run."""
    for size in common.PLAN_SIZES:
        rounds, engine_runs, baseline_runs = settings["rounds"][size]
        engine_args = ["--size", size]
        if size == "L":
            engine_args += ["--profile", str(common.RESULTS_DIR / f"profile-L{suffix}.txt")]
        engine, baseline = phase(
            results,
            f"engine and baseline {size}: cold runs, then {rounds} rounds of {engine_runs} + "
            f"{baseline_runs}",
            partial(paired_runs, engine_args, ["--size", size], rounds, engine_runs, baseline_runs),
        )
        results["checks"][size] = {
            "engine": engine,
            "baseline": baseline,
            "speedup_p50": baseline["total_s"]["p50"] / engine["total_s"]["p50"],
            "speedup_cold": baseline["cold_total_s"] / engine["cold_total_s"],
            "findings_agreement": agreement(engine["findings"], baseline["findings"]),
        }


def paired_runs(
    engine_args: list[str],
    baseline_args: list[str],
    rounds: int,
    engine_runs: int,
    baseline_runs: int,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Cold runs, then rounds of warm engine runs and warm baseline runs; both summaries.

    The machine (a VM) has slow and fast spells of minutes; measured in turns, both sides
    meet them alike, so the speed-up is not decided by which side ran in which spell.
    """
    with (
        common.PacedWorker("engine.py", *engine_args) as engine,
        common.PacedWorker("baseline.py", *baseline_args) as baseline,
    ):
        for _ in range(rounds):
            for _ in range(engine_runs):
                engine.run()
            for _ in range(baseline_runs):
                baseline.run()
        return engine.finish(), baseline.finish()


def land_account(results: dict[str, Any], quick: bool) -> None:
    """The land account of all 18 municipalities, in a fresh process (its cold run is cold)."""
    command = [sys.executable, str(common.BENCH_DIR / "land_account_bench.py"), "--no-write"]
    done = phase(
        results,
        "land account: 18 municipalities" + (", cold run" if quick else ", cold + 2 warm runs"),
        lambda: subprocess.run(
            command + (["--quick"] if quick else []),
            cwd=common.ROOT,
            capture_output=True,
            text=True,
            check=False,
        ),
    )
    if done.returncode != 0:  # recorded as failed; the other parts still run
        error = (done.stderr.strip().splitlines() or ["no output"])[-1]
        log(f"land account failed: {error}")
        results["land_account"] = {"error": error, "met": False}
        return
    results["land_account"] = json.loads(done.stdout.strip().splitlines()[-1])


def http_and_wms(results: dict[str, Any], settings: dict[str, Any], skip: set[str]) -> None:
    """Throughput of quick checks and WMS GetMaps through uvicorn with 2 workers."""
    with http_bench.Server(workers=2) as server:
        results["http"]["server"] = {
            "command": "arealsjekk serve --workers 2",
            "port": server.port,
            "client": "Python http.client threads on the same machine, keep-alive",
        }
        if "http" not in skip:
            throughput(results, settings, server.port)
        if "wms" not in skip:
            wms(results, settings, server.port)
        if "tiles" not in skip:
            results["tiles"] = phase(
                results,
                "tiles: WMS GetMap, raster tile cold and cached, MVT cold and cached",
                lambda: tiles_bench.measure(server.port, settings["tiles_repeat"]),
            )


def throughput(results: dict[str, Any], settings: dict[str, Any], port: int) -> None:
    """Quick checks per second with 1, 2 and 4 clients."""
    token = http_bench.create_admin_key()
    body = common.plan_files("S")[0].read_bytes()
    # Warm both workers (imports, connection pools, GDAL) before measuring.
    http_bench.throughput(port, token, body, clients=2, requests=10)
    runs = []
    for clients, requests in settings["throughput"]:
        run = phase(
            results,
            f"http quick check x{requests}, {clients} client(s)",
            lambda c=clients, r=requests: http_bench.throughput(port, token, body, c, r),
        )
        runs.append(run)
    results["http"]["quick_check_S"] = runs


def wms(results: dict[str, Any], settings: dict[str, Any], port: int) -> None:
    """The same GetMaps from Arealsjekk (HTTP, in-process) and MapServer, in turn."""
    out_dir = common.WORK_DIR / "wms"
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("*.png"):
        old.unlink()
    layer = wms_bench.heritage_layer()
    mapfile = wms_bench.write_mapfile(out_dir / "bench.map", layer.sql)
    mapfile_jit_off = wms_bench.write_mapfile(out_dir / "bench-jit-off.map", layer.sql, jit=False)
    results["wms"]["sql"] = layer.sql
    results["wms"]["bboxes"] = {k: list(v) for k, v in wms_bench.BBOXES.items()}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    with (
        wms_bench.Mapscript(mapfile) as script,
        wms_bench.Mapscript(mapfile_jit_off) as script_jit_off,
    ):
        renderers = {
            "arealsjekk_http": lambda b, o: wms_bench.http_render(port, connection, b, o),
            "mapnik_in_process": lambda b, o: wms_bench.mapnik_render(layer, b, o),
            "mapserver_mapscript": script.render,
            "mapserver_mapscript_jit_off": script_jit_off.render,
            "mapserver_cgi": lambda b, o: wms_bench.cgi_render(mapfile, b, o),
        }
        results["wms"]["mapserver_version"] = script.version
        results["wms"].update(
            phase(
                results,
                "wms: every renderer in turn",
                lambda: wms_bench.compare(renderers, settings["wms_repeat"], out_dir),
            )
        )
    connection.close()
    results["wms"]["ink_pct"] = {
        path.stem: round(wms_bench.ink_share(path), 2) for path in sorted(out_dir.glob("*.png"))
    }


# --- the table -------------------------------------------------------------------------------


def fmt_s(seconds: float | None) -> str:
    """Seconds as ms below 1 s, else s."""
    if seconds is None:
        return "–"
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


def verdicts(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target of issue 8 with what was reached."""
    rows = []
    for size in common.PLAN_SIZES:
        check = results["checks"].get(size)
        if not check:
            continue
        p50 = check["engine"]["total_s"]["p50"]
        rows.append(
            {
                "target": f"{size} check p50 < {fmt_s(TARGETS[size])}",
                "reached": fmt_s(p50),
                "met": p50 < TARGETS[size],
            }
        )
        rows.append(
            {
                "target": f"{size} check ≥ {MIN_SPEEDUP:.0f}× faster than the baseline (p50)",
                "reached": f"{check['speedup_p50']:.1f}×",
                "met": check["speedup_p50"] >= MIN_SPEEDUP,
            }
        )
    account = results.get("land_account")
    if account:
        reached = f"failed: {account['error']}" if "error" in account else None
        if reached is None:
            reached = fmt_s(max([account["cold"]["wall_s"], *account["warm_wall_s"]]))
        rows.append(
            {
                "target": "Land account of 18 municipalities < "
                f"{fmt_s(land_account_bench.TARGET_S)} (issue 23; slowest run)",
                "reached": reached,
                "met": account["met"],
            }
        )
    wms = results.get("wms", {})
    if wms.get("arealsjekk_http") and wms.get("mapserver_mapscript"):
        for name in wms_bench.BBOXES:
            ours = wms["arealsjekk_http"][name]["latency_s"]["p50"]
            theirs = min(wms[m][name]["latency_s"]["p50"] for m in MAPSERVERS)
            rows.append(
                {
                    "target": f"WMS GetMap 512² {name}: no slower than MapServer (p50)",
                    "reached": f"{fmt_s(ours)} vs {fmt_s(theirs)} ({theirs / ours:.2f}×)",
                    "met": ours <= theirs,
                }
            )
    return rows


def table(results: dict[str, Any]) -> str:
    """The results as a Markdown table (what README's Performance section shows)."""
    lines = [
        "| Benchmark | Arealsjekk | Baseline | Speed-up | Peak memory (Arealsjekk / baseline) |",
        "|---|---|---|---|---|",
    ]
    names = {
        "S": "S: reguleringsplan, 30 features",
        "M": "M: kommuneplan arealdel, 3,000 features",
        "L": "L: 18 kommuneplaner, 30,000 features",
    }
    for size, check in results["checks"].items():
        engine, baseline = check["engine"], check["baseline"]
        lines.append(
            f"| {names[size]}: check p50 / p95 (cold) "
            f"| {fmt_s(engine['total_s']['p50'])} / {fmt_s(engine['total_s']['p95'])} "
            f"({fmt_s(engine['cold_total_s'])}) "
            f"| {fmt_s(baseline['total_s']['p50'])} / {fmt_s(baseline['total_s']['p95'])} "
            f"({fmt_s(baseline['cold_total_s'])}) "
            f"| {check['speedup_p50']:.1f}× "
            f"| {engine['peak_rss_mb']:.0f} MB / {baseline['peak_rss_mb']:.0f} MB |"
        )
    for run in results.get("http", {}).get("quick_check_S", []):
        lines.append(
            f"| S quick check over HTTP, {run['clients']} client(s), {run['requests']} requests "
            f"| {run['checks_per_s']:.1f} checks/s, p50 {fmt_s(run['latency_s']['p50'])}, "
            f"p95 {fmt_s(run['latency_s']['p95'])} | – | – | – |"
        )
    wms = results.get("wms", {})
    if wms.get("arealsjekk_http") and wms.get("mapserver_mapscript"):
        lines += [
            "",
            "| WMS GetMap 512 × 512, heritage_protected (~50,000 polygons), p50 "
            "| Arealsjekk over HTTP | Arealsjekk's Mapnik in-process "
            "| MapServer mapscript | MapServer mapscript, JIT off | MapServer CGI "
            "| MapServer best / Arealsjekk HTTP |",
            "|---|---|---|---|---|---|---|",
        ]
        for name in wms_bench.BBOXES:
            ours = wms["arealsjekk_http"][name]["latency_s"]["p50"]
            inproc = wms["mapnik_in_process"][name]["latency_s"]["p50"]
            theirs = [wms[m][name]["latency_s"]["p50"] for m in MAPSERVERS]
            label = {"county": "whole county", "hallingdal_20km": "20 km view, Hallingdal"}[name]
            lines.append(
                f"| {label} | {fmt_s(ours)} | {fmt_s(inproc)} | "
                + " | ".join(fmt_s(t) for t in theirs)
                + f" | {min(theirs) / ours:.2f}× |"
            )
    lines += tiles_table(results.get("tiles", {}))
    if results.get("land_account", {}).get("table_markdown"):
        lines += ["", results["land_account"]["table_markdown"]]
    rows = verdicts(results)
    if rows:
        lines += ["", "| Target (issue 8) | Reached | Met |", "|---|---|---|"]
        lines += [
            f"| {r['target']} | {r['reached']} | {'yes' if r['met'] else 'no'} |" for r in rows
        ]
    return "\n".join(lines)


def tiles_table(tiles: dict[str, Any]) -> list[str]:
    """The tile comparison: WMS GetMap against raster tiles (cold, cached) and vector tiles."""
    if not tiles:
        return []
    lines = [
        "",
        "| 256 px tiles, heritage_protected, WebMercatorQuad, p50 | WMS GetMap 256² "
        "| Raster tile, cold | Raster tile, cached | MVT, cold | MVT, cached | MVT size p50 |",
        "|---|---|---|---|---|---|---|",
    ]
    labels = {"county_z8": "z8, 3 × 3 tiles over the county", "hallingdal_z12": "z12, 3 × 3 at Gol"}
    for name, run in tiles.items():
        cells = [fmt_s(run[kind]["latency_s"]["p50"]) for kind in tiles_bench.KINDS]
        size = run["mvt_bytes"]["p50"] or 0
        lines.append(
            f"| {labels.get(name, name)} | " + " | ".join(cells) + f" | {size / 1024:.0f} KiB |"
        )
    return lines


def main() -> None:
    """Run everything and write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (~5 min)")
    parser.add_argument(
        "--skip",
        default="",
        help="comma-separated parts to leave out: checks, http (quick-check throughput), wms, "
        "tiles, land (the land account)",
    )
    args = parser.parse_args()
    settings = QUICK if args.quick else FULL
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    suffix = "-quick" if args.quick else ""
    started = time.perf_counter()
    common.RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "mode": "quick" if args.quick else "full",
        "machine": machine(),
        "settings": settings,
        "phases": {},
        "checks": {},
        "http": {},
        "wms": {},
        "tiles": {},
        "method": {
            "engine": "in-process: app.uploads.prepare_upload (parse + validate the GeoJSON) + "
            "check_runner.plan_from_prepared + check_runner.evaluate (G1-G5 on PostGIS and "
            "the COGs), i.e. POST /api/v1/check without HTTP/JSON; p50/p95 over warm "
            "repetitions, cold = first run in a fresh process",
            "baseline": "bench/baseline.py: GeoPandas reads (bbox-filtered GeoPackages), "
            "overlay/sjoin/buffers, rasterstats zonal_stats + point_query, sjoin_nearest; "
            "counts findings only (no messages, no finding geometries stored)",
            "throughput": "uvicorn via `arealsjekk serve --workers 2` on 127.0.0.1, clients "
            "on the same 2 cores",
        },
    }
    generated = phase(results, "generate data", lambda: generate.generate())
    loaded = phase(results, "load layers", lambda: generate.load())
    results["data"] = {"generated": generated, "loaded": loaded}
    results["versions"] = versions()
    if "checks" not in skip:
        check_sizes(results, settings, suffix)
    if "land" not in skip:
        land_account(results, args.quick)
    if not {"http", "wms", "tiles"} <= skip:
        http_and_wms(results, settings, skip)
    results["verdicts"] = verdicts(results)
    results["total_s"] = round(time.perf_counter() - started, 1)
    text = table(results)
    results["table_markdown"] = text
    (common.RESULTS_DIR / f"latest{suffix}.json").write_text(
        json.dumps(results, indent=1, ensure_ascii=False)
    )
    (common.RESULTS_DIR / f"latest{suffix}.md").write_text(text + "\n", "utf-8")
    print(text)
    profile = results["checks"].get("L", {}).get("engine", {}).get("profile")
    if profile:
        print("\nProfile of L (pyinstrument, self time):")
        for row in profile["top_self_time"][:8]:
            print(f"  {row['share_pct']:5.1f} %  {row['seconds']:7.2f} s  {row['function']}")
    log(f"done in {results['total_s']:.0f} s; results in {common.RESULTS_DIR}")


if __name__ == "__main__":
    main()
