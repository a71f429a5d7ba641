"""Land account (arealregnskap, issue 23) of all 18 municipalities on the county-scale corpus.

    .venv/bin/python bench/land_account_bench.py            # a cold run and 2 warm runs
    .venv/bin/python bench/land_account_bench.py --quick    # the cold run only
    .venv/bin/python bench/land_account_bench.py --profile bench/results/profile-land-account.txt

Builds and loads the corpus if needed (bench/generate.py: `existing_kommuneplan` ~5,500
adopted areas, a quarter framtidig, and ~250,000 `buildings`), then times what
`arealsjekk land-account` does: `app.land_account.compute_land_accounts(settings)` for all
municipalities in one call, in this process (the first run is the cold one: a fresh process,
empty caches). Each account is stored, as the CLI stores it. Per municipality it reports the
wall time and its parts (reading the adopted areas and buildings, measuring the built parts,
the rules G1-G4 over the reserves, storing), measured by wrapping the functions
`app.land_account.compute_account` calls — the code itself is not changed — and the
account's figures: reserves, their area, the area in conflict, cabin lots left. The accounts
it stored are deleted at the end (trigger "bench"; ~90 MB a run of the county).

Prints one JSON line, or a Markdown table with --table; writes
bench/results/land-account[-quick].json and .md unless --no-write (bench/run.py runs it with
--no-write and puts the same figures in its own results).
"""

import argparse
import contextlib
import json
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import common
import generate

TARGET_S = 60.0
FULL_WARM_RUNS = 2


class PartTimer:
    """Wall time of the functions compute_account calls, per municipality (wrapped in place)."""

    # Module functions of app.land_account, and the part of the account they are.
    PARTS = {"measure_areas": "measure", "check_reserves": "rules", "_store_areas": "store"}
    # read: the layer source's features() outside the rules (adopted areas, buildings);
    # other: the rest of compute_account (selecting the areas, totals, the account row).
    REPORTED = ("read", "measure", "rules", "store", "other")

    def __init__(self) -> None:
        import app.land_account as land_account

        self.module = land_account
        self.current: str | None = None
        self.in_rules = False
        self.seconds: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        self.originals = {name: getattr(land_account, name) for name in self.PARTS}
        self.originals["compute_account"] = land_account.compute_account
        for name, part in self.PARTS.items():
            setattr(land_account, name, self._timed(self.originals[name], part))
        land_account.compute_account = self._account(self.originals["compute_account"])

    def _timed(self, function, part: str):  # noqa: ANN001, ANN202 - any wrapped function
        def wrapper(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            started = time.perf_counter()
            self.in_rules = part == "rules"
            try:
                return function(*args, **kwargs)
            finally:
                self.in_rules = False
                self.seconds[self.current][part] += time.perf_counter() - started

        return wrapper

    def _account(self, function):  # noqa: ANN001, ANN202
        def wrapper(session, layers, rule_set, method, municipality, trigger):  # noqa: ANN001, ANN202
            self.current = municipality.kommunenummer
            started = time.perf_counter()
            try:
                return function(
                    session, TimedReads(layers, self), rule_set, method, municipality, trigger
                )
            finally:
                seconds = self.seconds[self.current]
                seconds["total"] += time.perf_counter() - started
                named = sum(seconds[part] for part in ("read", *self.PARTS.values()))
                seconds["other"] = seconds["total"] - named

        return wrapper

    def reset(self) -> None:
        """Forget the times of the previous run."""
        self.seconds.clear()

    def restore(self) -> None:
        """Put the original functions back."""
        for name, function in self.originals.items():
            setattr(self.module, name, function)


class TimedReads:
    """A layer source that times its features() reads outside the rules (into "read")."""

    def __init__(self, source: Any, timer: PartTimer) -> None:
        self._source = source
        self._timer = timer

    def features(self, layer_id, area, where=None):  # noqa: ANN001, ANN201
        """The wrapped source's features, timed unless the rules ask."""
        if self._timer.in_rules:
            return self._source.features(layer_id, area, where)
        started = time.perf_counter()
        try:
            return self._source.features(layer_id, area, where)
        finally:
            self._timer.seconds[self._timer.current]["read"] += time.perf_counter() - started

    def __getattr__(self, name: str) -> Any:
        return getattr(self._source, name)


def one_run(settings: Any, timer: PartTimer) -> dict[str, Any]:
    """All 18 municipalities in one compute_land_accounts call; wall time, parts, figures."""
    from sqlalchemy import select

    from app.db import get_sessionmaker
    from app.land_account import compute_land_accounts
    from db.models import LandAccountOrm

    timer.reset()
    with common.Timer() as wall:
        ids = compute_land_accounts(settings, None, trigger="bench")
    municipalities = {}
    with get_sessionmaker()() as session:
        accounts = session.scalars(select(LandAccountOrm).where(LandAccountOrm.id.in_(ids)))
        for account in sorted(accounts, key=lambda a: a.kommunenummer):
            totals = account.totals
            capacity = totals["cabin_capacity"]
            parts = timer.seconds.get(account.kommunenummer, {})
            municipalities[account.kommunenummer] = {
                "seconds": round(parts.get("total", 0.0), 3),
                "parts_s": {part: round(parts.get(part, 0.0), 3) for part in PartTimer.REPORTED},
                "reserves": totals["reserve_count"],
                "reserve_m2": totals["reserve_m2"],
                "conflict_m2": totals["conflict_m2"],
                "reserves_in_conflict": totals["reserves_in_conflict"],
                "conflict_share_pct": totals["conflict_share_pct"],
                "conflict_m2_by_rule": {
                    rule: figures["conflict_m2"] for rule, figures in totals["by_rule"].items()
                },
                "cabin_areas": capacity["areas"],
                "cabin_buildings": capacity["buildings"],
                "cabin_unbuilt_share_pct": capacity["unbuilt_share_pct"],
                "cabin_lots": capacity["lots"],
            }
    accounted = sum(m["seconds"] for m in municipalities.values())
    return {
        "wall_s": round(wall.seconds, 3),
        # Outside compute_account: the rule set, pinning the layer versions, reading back.
        "outside_accounts_s": round(wall.seconds - accounted, 3),
        "accounts": len(ids),
        "municipalities": municipalities,
    }


def profile_run(settings: Any, out: Path) -> dict[str, Any]:
    """One more run under pyinstrument; write its report, return the hot spots by self time."""
    from pyinstrument import Profiler

    from app.land_account import compute_land_accounts

    profiler = Profiler(interval=0.005)
    profiler.start()
    compute_land_accounts(settings, None, trigger="bench")
    profiler.stop()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(profiler.output_text(unicode=False, color=False, show_all=False))
    own: dict[str, float] = defaultdict(float)

    def walk(frame) -> None:  # noqa: ANN001 - pyinstrument's Frame
        if not frame.is_synthetic:
            where = f"{Path(frame.file_path or '?').name}:{frame.line_no}"
            own[f"{frame.function} ({where})"] += frame.total_self_time
        for child in frame.children:
            walk(child)

    root = profiler.last_session.root_frame()
    walk(root)
    top = sorted(own.items(), key=lambda item: -item[1])[:15]
    return {
        "file": str(out),
        "duration_s": round(profiler.last_session.duration, 3),
        "top_self_time": [
            {"function": name, "seconds": round(s, 3), "share_pct": round(100 * s / root.time, 1)}
            for name, s in top
        ],
    }


def corpus_figures() -> dict[str, Any]:
    """What the account reads: adopted areas by status, buildings (from the loaded versions)."""
    counts = common.psql(
        common.BENCH_DB,
        "SELECT string_agg(l.layer_id || '=' || v.feature_count, ',') FROM layer_version v "
        "JOIN (SELECT layer_id, max(version) AS version FROM layer_version GROUP BY layer_id) l "
        "USING (layer_id, version) WHERE l.layer_id IN ('existing_kommuneplan', 'buildings')",
    ).strip()
    return {k: int(v) for k, v in (item.split("=") for item in counts.split(",") if item)}


def measure(quick: bool, profile: Path | None = None) -> dict[str, Any]:
    """Build and load the corpus if needed, then the cold run (and warm runs unless quick)."""
    from app.runtime import tune_garbage_collector
    from app.settings import get_settings

    started = datetime.now(UTC).isoformat(timespec="seconds")
    generate.generate()
    generate.load()
    settings = get_settings()
    # As `arealsjekk land-account` does before it computes.
    tune_garbage_collector(settings.gc_generation0_threshold)
    timer = PartTimer()
    try:
        load_before = common_load()
        cold = one_run(settings, timer)
        warm = [one_run(settings, timer) for _ in range(0 if quick else FULL_WARM_RUNS)]
    finally:
        timer.restore()
    out: dict[str, Any] = {
        "started": started,
        "mode": "quick" if quick else "full",
        "method": "in-process app.land_account.compute_land_accounts(settings) for all "
        "municipalities (what `arealsjekk land-account` runs), accounts stored; cold = first "
        "run in a fresh process; parts timed by wrapping the functions compute_account calls",
        "corpus": corpus_figures(),
        "load_average_before": load_before,
        "load_average_after": common_load(),
        "cold": cold,
        "warm_wall_s": [run["wall_s"] for run in warm],
        "warm_p50_s": common.percentile([run["wall_s"] for run in warm], 50),
        "target_s": TARGET_S,
        "peak_rss_mb": round(common.peak_rss_mb(), 1),
    }
    out["met"] = max([cold["wall_s"], *out["warm_wall_s"]]) < TARGET_S
    if warm:
        out["warm_last"] = warm[-1]
    if profile is not None:
        out["profile"] = profile_run(settings, profile)
    forget_bench_accounts()
    return out


def forget_bench_accounts() -> None:
    """Delete the accounts this benchmark stored (~90 MB a county run), areas and findings too."""
    common.psql(common.BENCH_DB, "DELETE FROM land_account WHERE trigger = 'bench'")


def common_load() -> float:
    """The 1-minute load average (other work on the machine slows the run)."""
    return float(Path("/proc/loadavg").read_text().split()[0])


def fmt_area(m2: float) -> str:
    """An area in hectares (the figures run from a few to thousands of ha)."""
    return f"{m2 / 10_000:,.0f} ha"


def table(result: dict[str, Any]) -> str:
    """The results as Markdown: the run, then one row per municipality (cold run)."""
    cold = result["cold"]
    warm = result["warm_wall_s"]
    warm_text = ", ".join(f"{s:.1f} s" for s in warm) if warm else "–"
    rows = cold["municipalities"]
    totals = {
        key: sum(m[key] for m in rows.values())
        for key in ("reserves", "reserve_m2", "conflict_m2", "reserves_in_conflict", "cabin_lots")
    }
    buildings = result["corpus"].get("buildings", 0)
    areas = result["corpus"].get("existing_kommuneplan", 0)
    lines = [
        f"| Land account, 18 municipalities ({areas:,} adopted areas, {buildings:,} buildings) "
        "| Cold | Warm | Target | Met | Peak memory |",
        "|---|---|---|---|---|---|",
        f"| `compute_land_accounts` (= `arealsjekk land-account`), stored "
        f"| {cold['wall_s']:.1f} s | {warm_text} | < {result['target_s']:.0f} s "
        f"| {'yes' if result['met'] else 'no'} | {result['peak_rss_mb']:.0f} MB |",
        "",
        "| Kommune | Time (cold) | read / measure / rules / store / other | Reserves "
        "| Reserve area | In conflict | Reserves in conflict | Cabin lots left |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for kommunenummer, m in rows.items():
        parts = " / ".join(f"{m['parts_s'][p]:.1f}" for p in PartTimer.REPORTED)
        lines.append(
            f"| {kommunenummer} | {m['seconds']:.1f} s | {parts} s | {m['reserves']:,} "
            f"| {fmt_area(m['reserve_m2'])} | {fmt_area(m['conflict_m2'])} "
            f"({m['conflict_share_pct']:.0f} %) | {m['reserves_in_conflict']:,} "
            f"| {m['cabin_lots']:,} |"
        )
    share = 100 * totals["conflict_m2"] / totals["reserve_m2"] if totals["reserve_m2"] else 0.0
    lines.append(
        f"| all | {sum(m['seconds'] for m in rows.values()):.1f} s "
        f"(+ {cold['outside_accounts_s']:.1f} s outside) | | {totals['reserves']:,} "
        f"| {fmt_area(totals['reserve_m2'])} | {fmt_area(totals['conflict_m2'])} ({share:.0f} %) "
        f"| {totals['reserves_in_conflict']:,} | {totals['cabin_lots']:,} |"
    )
    return "\n".join(lines)


def write(result: dict[str, Any], quick: bool) -> None:
    """Write bench/results/land-account[-quick].json and .md."""
    suffix = "-quick" if quick else ""
    common.RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (common.RESULTS_DIR / f"land-account{suffix}.json").write_text(
        json.dumps(result, indent=1, ensure_ascii=False)
    )
    (common.RESULTS_DIR / f"land-account{suffix}.md").write_text(
        result["table_markdown"] + "\n", "utf-8"
    )


def main() -> None:
    """Measure, print and (unless --no-write) write bench/results/land-account[-quick].*."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the cold run only")
    parser.add_argument("--profile", type=Path, default=None, help="write a pyinstrument report")
    parser.add_argument("--table", action="store_true", help="print the Markdown table")
    parser.add_argument("--no-write", action="store_true", help="write no results files")
    args = parser.parse_args()
    try:
        result = measure(args.quick, args.profile)
        result["table_markdown"] = table(result)
    except Exception as exc:  # a failed account is a result too: recorded, then re-raised
        result = {
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
            "mode": "quick" if args.quick else "full",
            "error": f"{type(exc).__name__}: {exc}",
            "met": False,
        }
        with contextlib.suppress(Exception):  # cleaning up must not hide the failure
            forget_bench_accounts()
        result["table_markdown"] = f"Land account of 18 municipalities failed: {result['error']}"
        if not args.no_write:
            write(result, args.quick)
        raise
    if not args.no_write:
        write(result, args.quick)
    if args.table:
        print(result["table_markdown"], file=sys.stderr)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
