"""Operator commands: `arealsjekk migrate | load-municipalities | setup | serve | worker`…"""

import json
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import check_runner, jobs
from app.access import create_api_key, revoke_api_key
from app.db import get_sessionmaker
from app.land_account import get_method
from app.metrics import start_metrics_server
from app.observability import configure_logging
from app.rechecks import request_recheck
from app.runtime import tune_garbage_collector
from app.settings import get_settings
from app.uploads import prepare_upload
from app.wire import WIRE_PROTOCOL
from db.models import ApiKeyOrm, LandAccountOrm, LayerVersionOrm
from layers.demo import DEMO_LICENCE, load_demo_data
from layers.derive import DERIVABLE, derive_tree_line
from layers.loader import LoadOptions, LoadResult, current_versions, load_layer
from layers.municipalities import load_administrative_units
from layers.registry import get_registry
from layers.sources.files import parse_constant
from layers.status import layer_status
from layers.terrain_products import build_terrain_products
from migrations.runner import upgrade
from spatial.errors import ArealsjekkError
from spatial.inputs.formats import ACCEPTED
from spatial.treeline import TreeLineParams

app = typer.Typer(help="Arealsjekk operator commands.", no_args_is_help=True)
layers_app = typer.Typer(help="Guideline layers: list, load and derive.", no_args_is_help=True)
app.add_typer(layers_app, name="layers")
keys_app = typer.Typer(help="API keys: create, list, revoke.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


def _progress(label: str, done: int, total: int) -> None:
    """Print load progress on one line."""
    percent = 100 * done // max(total, 1)
    typer.echo(f"\r  {label}: {done}/{total} ({percent} %)", nl=done >= total, err=True)


def _report(result: LoadResult) -> None:
    """Print what a layer load did."""
    if result.created:
        config = get_registry()[result.layer_id]
        size = "raster" if config.kind == "raster" else f"{result.feature_count} features"
        typer.echo(f"{result.layer_id}: version {result.version} loaded ({size})")
    else:
        typer.echo(f"{result.layer_id}: unchanged, version {result.version} is identical")
    for name, counts in result.unmapped.items():
        listed = ", ".join(f"'{value}': {count}" for value, count in counts.items())
        typer.echo(f"  {name}: values with no mapping, left empty (value: features): {listed}")
    stops = result.notes.get("stops")
    if stops:  # NSR NeTEx / GTFS (layers/sources/stops.py): what was kept and what not
        types = ", ".join(f"'{value}': {count}" for value, count in stops["types"].items())
        typer.echo(f"  {stops['stops_read']} stops read, by source type: {types}")
        hubs = ", ".join(f"{value}: {count}" for value, count in stops["hubs"].items())
        merged = stops["children_merged_into_parent"]
        typer.echo(f"  kept as hubs: {hubs}; children merged into their parent: {merged}")


@app.command()
def migrate() -> None:
    """Migrate the database to the newest schema (alembic upgrade head)."""
    upgrade(get_settings().database_url)
    typer.echo("database migrated to head")


@app.command("load-municipalities")
def load_municipalities() -> None:
    """Load Buskerud's 18 municipalities and the county boundary (Kartverket, CC BY 4.0)."""
    with get_sessionmaker()() as session:
        result = load_administrative_units(session)
    typer.echo(
        f"loaded {result.municipalities} municipalities and {result.counties} county boundary"
    )


@layers_app.command("list")
def list_layers() -> None:
    """List the registered layers and their current versions."""
    try:
        check_runner.get_rule_set(get_settings())  # the guidelines listed must be its rules
    except ArealsjekkError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(1) from None
    with get_sessionmaker()() as session:
        current = current_versions(session)
    for layer_id, config in get_registry().items():
        version = current.get(layer_id)
        state = (
            f"v{version.version}, {version.feature_count} features, {version.licence}"
            if version
            else "not loaded"
        )
        typer.echo(f"{layer_id:26} {config.kind:6} {'/'.join(config.guidelines):6} {state}")


@layers_app.command("status")
def status(
    kommunenummer: Annotated[
        str | None, typer.Option(help="only this municipality, e.g. 3305")
    ] = None,
) -> None:
    """Show what is loaded and, per municipality, which guidelines cannot be fully checked."""
    try:
        rule_set = check_runner.get_rule_set(get_settings())
    except ArealsjekkError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(1) from None
    with get_sessionmaker()() as session:
        report = layer_status(session, rule_set, kommunenummer)
    typer.echo(f"{'layer':26} {'version':7} {'source date':11} {'features':>8}  licence; file")
    for entry in report.layers:
        if entry.version is None:
            typer.echo(f"{entry.layer_id:26} not loaded")
            continue
        features = "raster" if entry.feature_count is None else str(entry.feature_count)
        typer.echo(
            f"{entry.layer_id:26} v{entry.version:<6} {str(entry.source_date or '-'):11} "
            f"{features:>8}  {entry.licence}; {entry.file_name}"
        )
    typer.echo("")
    typer.echo(f"Guidelines of rule set {rule_set.id} {rule_set.version} not fully checkable:")
    for gap in report.everywhere:
        kind = "optional layer" if gap.optional else "layer"
        typer.echo(f"  everywhere: {gap.guideline}: {kind} {gap.layer_id} {gap.reason}")
    for (number, name), gaps in report.by_municipality.items():
        for gap in gaps:
            typer.echo(f"  {number} {name}: {gap.guideline}: {gap.layer_id} {gap.reason}")
    if not report.everywhere and not any(report.by_municipality.values()):
        typer.echo("  none: every guideline has its layers loaded over every municipality")
    elif any(report.by_municipality.values()):
        typer.echo(
            "Coverage is judged by each version's extent (the bounding box of its data); where "
            "it falls short, check that the download includes the municipality."
        )


RECHECK_HELP = (
    "queue a re-check of the current plans a new version touches (run by `arealsjekk worker`; "
    "see GET /api/v1/layers/LAYER/versions/N/impact)"
)


@layers_app.command("load")
def load(
    layer: Annotated[str, typer.Argument(help="layer id, see `arealsjekk layers list`")],
    file: Annotated[
        Path,
        typer.Argument(
            help="FileGDB (.gdb folder), Shapefile, SOSI, GML, GeoJSON, GeoPackage, a zip or "
            "folder of them as downloaded, or GeoTIFF"
        ),
    ],
    source: Annotated[str | None, typer.Option(help="source (default: the config's)")] = None,
    source_date: Annotated[str | None, typer.Option(help="date of the data, YYYY-MM-DD")] = None,
    licence: Annotated[str | None, typer.Option(help="licence (default: the config's)")] = None,
    attr_map: Annotated[list[str] | None, typer.Option(help="ATTRIBUTE=COLUMN, repeatable")] = None,
    source_layer: Annotated[
        list[str] | None,
        typer.Option(help="layer of a multi-layer download; repeat to load several as one"),
    ] = None,
    constants: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="[SOURCE_LAYER:]ATTRIBUTE=VALUE, a constant for that source layer's features "
            "(for all without SOURCE_LAYER:); repeatable",
        ),
    ] = None,
    recheck: Annotated[bool, typer.Option(help=RECHECK_HELP)] = False,
) -> None:
    """Load a file as a new version of a layer (nothing is written if it is unchanged)."""
    mapping = {}
    for item in attr_map or []:
        name, sep, column = item.partition("=")
        if not sep:
            raise typer.BadParameter(f"'{item}' is not ATTRIBUTE=COLUMN", param_hint="--attr-map")
        mapping[name.strip()] = column.strip()
    try:
        parsed_date = date.fromisoformat(source_date) if source_date else None
    except ValueError:
        raise typer.BadParameter(
            f"'{source_date}' is not YYYY-MM-DD", param_hint="--source-date"
        ) from None
    try:
        parsed_constants = [parse_constant(item) for item in constants or []]
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--set") from None
    options = LoadOptions(
        source=source,
        source_date=parsed_date,
        licence=licence,
        attr_map=mapping,
        source_layers=tuple(source_layer or ()),
        constants=tuple(parsed_constants),
    )
    try:
        with get_sessionmaker()() as session:
            result = load_layer(session, layer, file, options, _progress, get_settings().raster_dir)
            if recheck:
                _queue_recheck(session, result.layer_id, result.version, result.created, "load")
    except ArealsjekkError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(1) from None
    _report(result)


def _queue_recheck(session: Session, layer_id: str, version: int, created: bool, how: str) -> None:
    """Queue a re-check against a new version, or say why none is needed."""
    if not created:
        typer.echo(f"{layer_id}: unchanged, so nothing to re-check")
        return
    batch, new = request_recheck(session, layer_id, version, f"arealsjekk layers {how}")
    typer.echo(
        f"{layer_id}: re-check {batch.id} {'queued' if new else 'already at work'}; impact: "
        f"/api/v1/layers/{layer_id}/versions/{version}/impact"
    )


@layers_app.command("derive")
def derive(
    layer: Annotated[
        str, typer.Argument(help="the layer to derive: tree_line, or above_tree_line (map)")
    ],
    percentile: Annotated[float, typer.Option(help="of the forest's elevations")] = 98.0,
    window_m: Annotated[float, typer.Option(help="side of the moving window, m")] = 5000.0,
    cell_m: Annotated[float, typer.Option(help="cell size of the surface, m")] = 500.0,
    smooth_m: Annotated[float, typer.Option(help="side of the final moving mean, m")] = 1500.0,
    max_fill_m: Annotated[float, typer.Option(help="fill gaps up to this far, m")] = 20000.0,
    offset_m: Annotated[float, typer.Option(help="added to the result, m")] = 0.0,
    recheck: Annotated[bool, typer.Option(help=RECHECK_HELP)] = False,
) -> None:
    """Derive the tree line from the loaded elevation and forest_mask layers (layers/README.md)."""
    if layer not in DERIVABLE:
        raise typer.BadParameter(f"only {', '.join(DERIVABLE)} can be derived", param_hint="LAYER")
    if layer == "above_tree_line":
        # The map's rasters of the current elevation and tree_line (layers/terrain_products.py).
        with get_sessionmaker()() as session:
            written = build_terrain_products(get_settings().raster_dir, current_versions(session))
        typer.echo(
            f"{layer}: {len(written)} file(s) written" if written else f"{layer}: up to date"
        )
        return
    try:
        params = TreeLineParams(
            percentile=percentile,
            window_m=window_m,
            cell_m=cell_m,
            smooth_m=smooth_m,
            max_fill_m=max_fill_m,
            offset_m=offset_m,
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    try:
        with get_sessionmaker()() as session:
            result = derive_tree_line(session, get_settings().raster_dir, params, _progress)
            if recheck:
                _queue_recheck(session, "tree_line", result.version, result.created, "derive")
    except ArealsjekkError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(1) from None
    if result.created:
        typer.echo(f"tree_line: version {result.version} derived (raster)")
    else:
        typer.echo(f"tree_line: unchanged, version {result.version} has the same inputs")


@app.command("demo-data")
def demo_data(
    skip_if_real: bool = typer.Option(
        False, "--skip-if-real", help="do nothing when any layer holds real (non-demo) data"
    ),
) -> None:
    """Build the synthetic demo layers over Buskerud and load them (idempotent)."""
    with get_sessionmaker()() as session:
        real = session.execute(
            select(func.count()).where(LayerVersionOrm.licence != DEMO_LICENCE)
        ).scalar_one()
        if skip_if_real and real:
            typer.echo(f"real layer data present ({real} versions); demo data not loaded")
            return
        with tempfile.TemporaryDirectory(prefix="arealsjekk-demo-") as work:
            results = load_demo_data(
                session, Path(work), _progress, raster_dir=get_settings().raster_dir
            )
    for result in results:
        _report(result)


@app.command()
def check(
    file: Annotated[Path, typer.Argument(help=f"plan file: {ACCEPTED}")],
    as_json: Annotated[bool, typer.Option("--json", help="print findings as JSON")] = False,
    kommunenummer: Annotated[str | None, typer.Option(help="overrides the file")] = None,
    planidentifikasjon: Annotated[str | None, typer.Option(help="overrides the file")] = None,
    plantype: Annotated[int | None, typer.Option(help="overrides the file")] = None,
    show_ok: Annotated[bool, typer.Option("--ok", help="also list ok findings")] = False,
) -> None:
    """Check a plan file against the rule set and print the findings (nothing is stored)."""
    settings = get_settings()
    tune_garbage_collector(settings.gc_generation0_threshold)  # as the service does
    overrides = {
        "kommunenummer": kommunenummer,
        "planidentifikasjon": planidentifikasjon,
        "plantype": plantype,
    }
    try:
        with get_sessionmaker()() as session:
            prepared = prepare_upload(session, settings, file.read_bytes(), overrides, file.name)
            plan = check_runner.plan_from_prepared(session, prepared)
            result = check_runner.evaluate(session, plan, settings)
    except ArealsjekkError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        for problem in exc.problems[:20]:
            typer.echo(f"  - {problem.describe()}", err=True)
        raise typer.Exit(1) from None
    if as_json:
        features = [check_runner.finding_feature(f, 4326) for f in result.findings]
        document = {
            "rule_set": {"id": result.rule_set_id, "version": result.rule_set_version},
            "layer_versions": result.layer_versions,
            "summary": result.summary(),
            "findings": {"type": "FeatureCollection", "features": features},
        }
        typer.echo(json.dumps(document, ensure_ascii=False, indent=2, default=str))
        return
    meta = plan.metadata
    typer.echo(f"{meta.kommunenummer}_{meta.planidentifikasjon} {meta.plannavn or ''}".strip())
    typer.echo(
        f"rule set {result.rule_set_id} {result.rule_set_version}; layers: "
        + ", ".join(
            f"{layer} v{version}" if version else f"{layer} (not loaded)"
            for layer, version in result.layer_versions.items()
        )
    )
    typer.echo("")
    for finding in result.findings:
        if finding.severity == "ok" and not show_ok:
            continue
        typer.echo(f"{finding.severity.upper():8} {finding.rule_id:3} {finding.message}")
        typer.echo(f"{'':13}→ {finding.suggested_action}")
    counts = result.summary()["by_severity"]
    typer.echo("")
    typer.echo("  ".join(f"{name}: {count}" for name, count in counts.items()))


@app.command("land-account")
def land_account(
    kommune: Annotated[
        str | None, typer.Option(help="kommunenummer (default: all 18 municipalities)")
    ] = None,
    if_missing: Annotated[
        bool,
        typer.Option(
            "--if-missing",
            help="only municipalities without an account; no adopted plans loaded is no error",
        ),
    ] = False,
) -> None:
    """Compute and store the land account (arealregnskap) of one municipality or all."""
    from app.land_account import (
        LandAccountFailedError,
        LandAccountUnavailableError,
        compute_land_accounts,
    )

    settings = get_settings()
    tune_garbage_collector(settings.gc_generation0_threshold)
    started = time.perf_counter()
    failure = None
    try:
        ids = compute_land_accounts(settings, kommune, trigger="cli", only_missing=if_missing)
    except LandAccountUnavailableError as exc:
        typer.echo(f"{'note' if if_missing else 'error'}: {exc.detail}", err=True)
        raise typer.Exit(0 if if_missing else 1) from None
    except LandAccountFailedError as exc:
        ids, failure = exc.computed, exc  # the others are stored: show them, then the error
    except ArealsjekkError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(1) from None
    with get_sessionmaker()() as session:
        for account in session.scalars(
            select(LandAccountOrm).where(LandAccountOrm.id.in_(ids)).order_by(LandAccountOrm.id)
        ):
            totals = account.totals
            capacity = totals["cabin_capacity"]
            typer.echo(
                f"{account.kommunenummer} account {account.id}: "
                f"{totals['reserve_count']} reserves, {totals['reserve_m2'] / 1000:,.1f} daa; "
                f"in conflict {totals['conflict_m2'] / 1000:,.1f} daa "
                f"({totals['conflict_share_pct']:.1f} %); cabin lots left {capacity['lots']}"
            )
            for note in account.notes:
                typer.echo(f"  note: {note}")
    typer.echo(f"{len(ids)} land accounts in {time.perf_counter() - started:.1f} s")
    if failure is not None:
        # `make run` (--if-missing) starts the service all the same.
        typer.echo(f"{'warning' if if_missing else 'error'}: {failure.detail}", err=True)
        raise typer.Exit(0 if if_missing else 1)


@keys_app.command("create")
def create_key(
    name: Annotated[str, typer.Option(help="who the key is for, e.g. 'Hemsedal kommune, plan'")],
    role: Annotated[str, typer.Option(help="planner, case_system, forum or admin")],
    kommunenummer: Annotated[
        str | None, typer.Option(help="the municipality a planner/case_system key is for")
    ] = None,
) -> None:
    """Create an API key; the key is printed once and only its hash is stored."""
    try:
        with get_sessionmaker()() as session:
            key, token = create_api_key(session, name, role, kommunenummer)  # type: ignore[arg-type]
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    scope = f" for {kommunenummer}" if kommunenummer else ""
    typer.echo(f"created key {key.id} ({role}{scope}); store it now, it is not shown again:")
    typer.echo(token)


@keys_app.command("demo")
def demo_keys(
    file: Annotated[Path, typer.Option(help="where to write the keys (mode 600)")] = Path(
        ".local/demo-keys.txt"
    ),
) -> None:
    """Create demo keys (admin, forum, Hemsedal planner) once, when no key exists yet."""
    with get_sessionmaker()() as session:
        if session.execute(select(func.count()).select_from(ApiKeyOrm)).scalar_one():
            typer.echo(f"API keys exist already; demo keys are in {file} if they were made here")
            return
        lines = []
        for name, role, kommunenummer in (
            ("Demo: fylkeskommunen (admin)", "admin", None),
            ("Demo: regionalt planforum", "forum", None),
            ("Demo: Hemsedal kommune, planavdelingen", "planner", "3326"),
        ):
            _, token = create_api_key(session, name, role, kommunenummer)  # type: ignore[arg-type]
            lines.append(f"{role}={token}")
    file.parent.mkdir(parents=True, exist_ok=True)
    file.touch(mode=0o600)
    file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    # Only the file name is printed: keys do not belong in logs.
    typer.echo(f"demo API keys written to {file}")


@keys_app.command("list")
def list_keys() -> None:
    """List API keys (never the keys themselves)."""
    with get_sessionmaker()() as session:
        for key in session.execute(select(ApiKeyOrm).order_by(ApiKeyOrm.id)).scalars():
            state = "revoked" if key.revoked_at else "active"
            typer.echo(
                f"{key.id:4} ask_{key.prefix}_…  {key.role:12} {key.kommunenummer or '-':5} "
                f"{state:8} {key.name}"
            )


@keys_app.command("revoke")
def revoke_key(key_id: Annotated[int, typer.Argument(help="key id from `keys list`")]) -> None:
    """Revoke an API key."""
    with get_sessionmaker()() as session:
        revoke_api_key(session, key_id)
    typer.echo(f"key {key_id} revoked")


@app.command()
def setup() -> None:
    """Migrate the database and load the base data (idempotent)."""
    migrate()
    load_municipalities()


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    port: int = typer.Option(8000, help="port to listen on"),
    workers: int = typer.Option(1, help="worker processes"),
) -> None:
    """Serve the API with uvicorn."""
    from app.observability import logging_config

    # A factory: importing app.main reads no settings, each worker builds its own app.
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        http=WIRE_PROTOCOL,  # h11 sends header names as written (app.wire)
        # Applied by uvicorn in every worker process: JSON or text lines on stderr; the
        # access line is app.metrics.RequestMiddleware's (route, duration, request id).
        log_config=logging_config(get_settings()),
        access_log=False,
    )


@app.command()
def worker(
    queue: Annotated[
        list[str] | None,
        typer.Option(
            help=f"a queue to take jobs from (repeatable; default all: {', '.join(jobs.QUEUES)}; "
            f"{jobs.MAINTENANCE} is always taken)"
        ),
    ] = None,
    concurrency: Annotated[
        int | None, typer.Option(min=1, help="jobs at once (default AREALSJEKK_WORKER_CONCURRENCY)")
    ] = None,
    metrics_port: Annotated[
        int, typer.Option(min=0, max=65535, help="serve Prometheus /metrics on this port (0: off)")
    ] = 0,
    metrics_host: Annotated[
        str, typer.Option(help="address of the metrics server (0.0.0.0 in a pod)")
    ] = "127.0.0.1",
) -> None:
    """Run queued jobs (background checks, webhook rounds, re-checks) until SIGTERM/SIGINT."""
    unknown = sorted(set(queue or ()) - set(jobs.QUEUES))
    if unknown:
        raise typer.BadParameter(f"no queue {', '.join(unknown)}; queues: {', '.join(jobs.QUEUES)}")
    settings = get_settings()
    configure_logging(settings)
    try:  # the configuration the jobs run with: refused at start, not job by job
        check_runner.get_rule_set(settings)
        get_method(settings)
    except ArealsjekkError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(1) from None
    if metrics_port:
        try:
            start_metrics_server(metrics_port, metrics_host)
        except OSError as exc:
            raise typer.BadParameter(
                f"cannot serve metrics on {metrics_host}:{metrics_port}: {exc.strerror}",
                param_hint="--metrics-port",
            ) from None
    tune_garbage_collector(settings.gc_generation0_threshold)
    jobs.run_worker(settings, queue, concurrency)


def main() -> None:
    """Entry point of the `arealsjekk` console script."""
    app()


if __name__ == "__main__":  # `python -m app.cli`, as the console script
    main()
