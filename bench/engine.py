"""Engine worker: check a benchmark plan size with Arealsjekk's own check code, in-process.

What is timed per plan file is what the quick-check endpoint (POST /api/v1/check) does on
the server, minus HTTP and JSON: `app.uploads.prepare_upload` (parse the GeoJSON bytes,
validate and reproject every area against the stored boundaries), then
`check_runner.plan_from_prepared` and `check_runner.evaluate` (rules G1-G5 reading the
layers from PostGIS and the COGs). `evaluate` alone is reported too. The garbage collector
is tuned as the service tunes it at start-up (`app.runtime`, with the setting
AREALSJEKK_GC_GENERATION0_THRESHOLD). The first repetition is the cold run (new process,
empty caches) and is reported apart from the warm ones.

Run: .venv/bin/python bench/engine.py --size S --repeat 20 [--profile bench/results/x.txt]
Prints one JSON line.
"""

import argparse
import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import common

from app import check_runner
from app.db import get_sessionmaker
from app.runtime import tune_garbage_collector
from app.settings import get_settings
from app.uploads import prepare_upload


def check_files(bodies: list[tuple[str, bytes]]) -> dict[str, Any]:
    """Check every plan file once; return times (s), rule times (ms) and finding counts."""
    settings = get_settings()
    prepare_s = evaluate_s = 0.0
    rules_ms: dict[str, float] = defaultdict(float)
    severities: Counter[str] = Counter()
    features = 0
    per_plan: dict[str, float] = {}
    with get_sessionmaker()() as session:
        for name, body in bodies:
            with common.Timer() as prepare:
                prepared = prepare_upload(session, settings, body, {}, name, "application/geo+json")
            with common.Timer() as evaluate:
                plan = check_runner.plan_from_prepared(session, prepared)
                result = check_runner.evaluate(session, plan, settings)
            session.rollback()
            per_plan[name] = prepare.seconds + evaluate.seconds
            prepare_s += prepare.seconds
            evaluate_s += evaluate.seconds
            features += len(prepared.areas)
            for rule, ms in result.timings_ms.items():
                rules_ms[rule] += ms
            severities.update(f"{f.rule_id}:{f.severity}" for f in result.findings)
    return {
        "prepare_s": prepare_s,
        "evaluate_s": evaluate_s,
        "total_s": prepare_s + evaluate_s,
        "rules_ms": dict(rules_ms),
        "findings": dict(sorted(severities.items())),
        "areas": features,
        "per_plan_s": per_plan,
    }


def profile_run(bodies: list[tuple[str, bytes]], out: Path) -> dict[str, Any]:
    """Profile one more run with pyinstrument; write the text report, return the hot spots."""
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.002)
    profiler.start()
    check_files(bodies)
    profiler.stop()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(profiler.output_text(unicode=False, color=False, show_all=False))
    session = profiler.last_session
    own: dict[str, float] = defaultdict(float)

    def walk(frame) -> None:  # noqa: ANN001 - pyinstrument's Frame
        if not frame.is_synthetic:
            where = f"{Path(frame.file_path or '?').name}:{frame.line_no}"
            own[f"{frame.function} ({where})"] += frame.total_self_time
        for child in frame.children:
            walk(child)

    root = session.root_frame()
    walk(root)
    total = root.time
    top = sorted(own.items(), key=lambda item: -item[1])[:15]
    return {
        "file": str(out.resolve().relative_to(common.ROOT))
        if out.resolve().is_relative_to(common.ROOT)
        else str(out),
        "duration_s": round(session.duration, 3),
        "top_self_time": [
            {
                "function": name,
                "seconds": round(seconds, 3),
                "share_pct": round(100 * seconds / total, 1),
            }
            for name, seconds in top
        ],
    }


def main() -> None:
    """Check a plan size after one cold run, `--repeat` times or paced; print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=common.PLAN_SIZES, required=True)
    parser.add_argument("--repeat", type=int, default=5, help="warm repetitions")
    parser.add_argument(
        "--paced", action="store_true", help="one warm run per 'run' line on stdin (run.py)"
    )
    parser.add_argument("--profile", type=Path, default=None, help="write a pyinstrument report")
    args = parser.parse_args()
    bodies = [(path.name, path.read_bytes()) for path in common.plan_files(args.size)]
    # As the service does when it starts (app.main.lifespan), from the same setting.
    tune_garbage_collector(get_settings().gc_generation0_threshold)
    rss_before = common.current_rss_mb()
    cold = check_files(bodies)
    warm = common.warm_runs(lambda: check_files(bodies), args.repeat, args.paced)
    runs = warm or [cold]
    out: dict[str, Any] = {
        "size": args.size,
        "plans": len(bodies),
        "areas": cold["areas"],
        "features": sum(len(json.loads(body)["features"]) for _, body in bodies),
        "cold_total_s": cold["total_s"],
        "total_s": common.summary([r["total_s"] for r in runs]),
        "evaluate_s": common.summary([r["evaluate_s"] for r in runs]),
        "prepare_s": common.summary([r["prepare_s"] for r in runs]),
        "rules_ms_p50": {
            rule: common.percentile([r["rules_ms"][rule] for r in runs], 50)
            for rule in sorted(runs[0]["rules_ms"])
        },
        "findings": cold["findings"],
        "slowest_plan": max(runs[-1]["per_plan_s"].items(), key=lambda item: item[1]),
        "rss_after_imports_mb": round(rss_before, 1),
        "peak_rss_mb": round(common.peak_rss_mb(), 1),
    }
    if args.profile:
        out["profile"] = profile_run(bodies, args.profile)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
