"""The layers the WMS offers and where Mapnik reads each from (SQL on PostGIS, or a COG)."""

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal
from xml.etree import ElementTree

from geoalchemy2.shape import to_shape
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.settings import Settings
from layers.loader import current_versions
from layers.registry import LayerConfig, get_registry
from layers.terrain_products import above_tree_line_path, hillshade_path
from spatial.rules.g5_mobility import MobilityMatrixRule
from spatial.rules.model import CENTRALITY_OMLAND, CENTRALITY_STORBY, CENTRALITY_YTRE
from spatial.rules.ruleset import RuleSet

logger = logging.getLogger(__name__)

SEVERITY_TITLES = {
    "conflict": "Funn: konflikt",
    "warning": "Funn: advarsel",
    "unknown": "Funn: ikke kontrollert (ukjent)",
    "info": "Funn: info",
    "ok": "Funn: ok",
}
FINDINGS_GROUP = "findings"
Extent = tuple[float, float, float, float]


@dataclass(frozen=True)
class WmsLayer:
    """A layer of the WMS: how to title it, style it and read it."""

    name: str
    title: str
    abstract: str
    kind: Literal["vector", "raster"]
    style_file: str
    sql: str | None = None
    raster_file: Path | None = None
    attribution: str | None = None
    queryable: bool = True
    group: str | None = None
    extra_styles: tuple[str, ...] = field(default_factory=tuple)
    # The SQL gets a `fill` column: the arealformål's colour in the SOSI tegneregler
    # (spatial/plan_colours.yaml), from its arealformal and arealbruksstatus columns.
    plan_fill: bool = False
    # A layer drawn from several sources (the base map): each with its styles, bottom first.
    parts: tuple[tuple["WmsLayer", tuple[str, ...]], ...] = ()
    # What a raster's cell value is, as GetFeatureInfo names it.
    value_label: str | None = None
    # The stored extent (EPSG:25832 minx, miny, maxx, maxy) of the version drawn, if known;
    # layers drawn from the municipalities, proposals or findings are measured on request
    # (data_extents).
    extent: Extent | None = None

    @property
    def styles(self) -> tuple[str, ...]:
        """Return the style names offered, the default first."""
        return (self.style_file, *self.extra_styles)


# Styles name their pattern images (layers/styles/symbols/) as @SYMBOLS@/file.svg: Mapnik
# needs an absolute path when the map is loaded from a string.
SYMBOLS_TOKEN = "@SYMBOLS@"


def style_xml(style_file: str) -> str:
    """Return the Mapnik <Style> elements kept in layers/styles/{name}.xml."""
    styles = resources.files("layers").joinpath("styles")
    text = styles.joinpath(f"{style_file}.xml").read_text("utf-8")
    return text.replace(SYMBOLS_TOKEN, str(styles.joinpath("symbols")))


def style_rules(style_file: str, style_name: str) -> list[ElementTree.Element]:
    """Return the <Rule> elements of one style in a layer's style file, for legends."""
    root = ElementTree.fromstring(f"<Styles>{style_xml(style_file)}</Styles>")
    for style in root.iter("Style"):
        if style.get("name") == style_name:
            return list(style.iter("Rule"))
    return []


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _guideline_sql(config: LayerConfig, version_id: int) -> str:
    columns = []
    for name, attribute in config.attributes.items():
        cast = "::numeric" if attribute.type in ("integer", "number") else ""
        columns.append(f'(f.attributes->>{_quote(name)}){cast} AS "{name}"')
    selected = ", ".join(["f.id", "f.geom", *columns])
    return (
        f"(SELECT {selected} FROM layer_feature f "
        f"WHERE f.layer_version_id = {int(version_id)}) AS t"
    )


# WMS clients send no API key: only published proposals (and their findings) are drawn.
LATEST_VERSIONS_SQL = (
    "SELECT v.id FROM proposal_version v JOIN plan_proposal pp ON pp.id = v.proposal_id "
    "WHERE pp.published_at IS NOT NULL AND v.version = "
    "(SELECT max(v2.version) FROM proposal_version v2 WHERE v2.proposal_id = v.proposal_id)"
)
PROPOSALS_SQL = (
    "(SELECT f.id, f.geom, f.kind, f.arealformal, f.arealbruksstatus, f.hensynssone, "
    "f.feltnavn, v.version, p.kommunenummer || '_' || p.planidentifikasjon AS proposal_id "
    "FROM plan_feature f JOIN proposal_version v ON v.id = f.version_id "
    "JOIN plan_proposal p ON p.id = v.proposal_id "
    f"WHERE f.version_id IN ({LATEST_VERSIONS_SQL})) AS t"
)
LATEST_CHECKS_SQL = (
    "SELECT max(c.id) FROM plan_check c WHERE c.status = 'done' "
    f"AND c.proposal_version_id IN ({LATEST_VERSIONS_SQL}) GROUP BY c.proposal_version_id"
)


def _findings_sql(severity: str) -> str:
    return (
        "(SELECT cf.id, cf.geom, cf.severity, cf.rule_id, cf.message, cf.check_id "
        f"FROM check_finding cf WHERE cf.geom IS NOT NULL AND cf.severity = {_quote(severity)} "
        f"AND cf.check_id IN ({LATEST_CHECKS_SQL})) AS t"
    )


def _matrix_rule(rule_set: RuleSet) -> MobilityMatrixRule | None:
    """Return the rule set's mobility matrix rule (G5 in Buskerudplanen), if it has one."""
    return next((r for r in rule_set.rules if isinstance(r, MobilityMatrixRule)), None)


def _matrix_sql(tettsted_version: int, rule: MobilityMatrixRule) -> str:
    """Cut each municipality into its matrix cells: tettsteder by size, the rest spredtbygd."""
    by_class = " ".join(
        f"WHEN {int(k)} THEN {_quote(v)}" for k, v in rule.centrality_by_class.items()
    )
    overrides = " ".join(
        f"WHEN {_quote(k)} THEN {_quote(v)}" for k, v in rule.centrality_overrides.items()
    )
    centrality = f"CASE m.centrality_class {by_class} END"
    if overrides:
        centrality = f"CASE m.kommunenummer {overrides} ELSE {centrality} END"
    threshold = int(rule.larger_tettsted_population)
    return (
        "(WITH t AS (SELECT geom, (attributes->>'population')::int AS population "
        f"FROM layer_feature WHERE layer_version_id = {int(tettsted_version)}), "
        "m AS (SELECT kommunenummer, centrality_class, geom FROM municipality) "
        "SELECT row_number() OVER () AS id, cell, geom FROM ("
        f"SELECT {centrality} || ' × ' || CASE WHEN t.population >= {threshold} "
        "THEN 'større tettsted' ELSE 'mindre tettsted' END AS cell, "
        "ST_Intersection(m.geom, t.geom) AS geom FROM m JOIN t ON ST_Intersects(m.geom, t.geom) "
        f"UNION ALL SELECT {centrality} || ' × spredtbygd' AS cell, "
        "COALESCE(ST_Difference(m.geom, (SELECT ST_Union(t.geom) FROM t "
        "WHERE ST_Intersects(t.geom, m.geom))), m.geom) AS geom FROM m) cells) AS z"
    )


# Municipality names: each municipality cut by a fixed square grid whose cells are about
# 500 pixels wide at the map's scale (0.28 mm pixels, OGC), one interior label per piece. The
# pieces do not depend on the requested BBOX, so map tiles agree on where names go and a
# name reappears about every 500 pixels however far one zooms in; zoomed out, a cell holds
# a whole municipality.
NAME_SPACING_PX = 500
MUNICIPALITY_NAMES_SQL = (
    "(SELECT row_number() OVER () AS id, m.name, ST_Intersection(m.geom, g.geom) AS geom "
    f"FROM ST_SquareGrid(!scale_denominator! * 0.00028 * {NAME_SPACING_PX}, !bbox!) AS g "
    "JOIN municipality m ON m.geom && g.geom AND ST_Intersects(m.geom, g.geom)) AS t"
)
RASTER_VALUE_LABELS = {"elevation": "Terrenghøyde (moh.)", "tree_line": "Tregrense (moh.)"}
BASEMAP = "basemap"
BASEMAP_LABELS = "basemap_labels"
ABOVE_TREE_LINE = "above_tree_line"


def _existing(path: Path | None) -> Path | None:
    return path if path is not None and path.is_file() else None


def _version_extent(version) -> Extent | None:
    """The stored extent of a layer version (EPSG:25832), None if it has none."""
    if version is None or version.extent is None:
        return None
    shape = to_shape(version.extent)
    return None if shape.is_empty else tuple(float(v) for v in shape.bounds)


def union_extent(*extents: Extent | None) -> Extent | None:
    """The smallest box holding every given extent (None ones left out)."""
    known = [e for e in extents if e is not None]
    if not known:
        return None
    return (
        min(e[0] for e in known),
        min(e[1] for e in known),
        max(e[2] for e in known),
        max(e[3] for e in known),
    )


def _intersection(a: Extent | None, b: Extent | None) -> Extent | None:
    """The overlap of two extents; None if either is unknown or they do not overlap."""
    if a is None or b is None:
        return None
    box = (max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3]))
    return box if box[0] <= box[2] and box[1] <= box[3] else None


COUNTY = "county"
COUNTY_EXTENT_SQL = (
    "SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM (SELECT ST_Extent(geom) AS b "
    "FROM (SELECT geom FROM county UNION ALL SELECT geom FROM municipality) AS c) AS e"
)
# A proposal version's features and a finished check's findings never change, so their
# extents are measured once per process (ST_Extent reads every row: tens of milliseconds
# for a large check) and kept by id and time written (an id alone can come again after a
# restore), the least recently used dropped past this many.
MEASURED_ROWS = 4096
_version_extents: OrderedDict[tuple, Extent | None] = OrderedDict()
_check_extents: OrderedDict[tuple, dict[str, Extent]] = OrderedDict()
_extents_lock = threading.Lock()
LATEST_VERSION_KEYS_SQL = (
    f"SELECT id, uploaded_at FROM proposal_version WHERE id IN ({LATEST_VERSIONS_SQL})"
)
LATEST_CHECK_KEYS_SQL = f"SELECT id, finished_at FROM plan_check WHERE id IN ({LATEST_CHECKS_SQL})"


def _measured(session: Session, cache: OrderedDict, keys: list[tuple], sql: str, per_key: bool):
    """The cached extents of these (id, time written) keys, measuring the missing ones with
    `sql` (rows of id, key, xmin, ymin, xmax, ymax): one extent each, or a dict by key."""
    with _extents_lock:
        missing = {key[0]: key for key in keys if key not in cache}
    found: dict[tuple, Any] = {key: {} if per_key else None for key in missing.values()}
    if missing:
        for row in session.execute(text(sql), {"ids": list(missing)}):
            box = tuple(float(v) for v in row[2:])
            if per_key:
                found[missing[row[0]]][row[1]] = box
            else:
                found[missing[row[0]]] = box
    with _extents_lock:
        cache.update(found)
        for key in keys:
            cache.move_to_end(key)
        while len(cache) > MEASURED_ROWS:
            cache.popitem(last=False)
        return [cache[key] for key in keys]


def data_extents(session: Session) -> dict[str, Extent]:
    """Return the EPSG:25832 extents of the county ('county'), the proposals layer and each
    findings layer that has data."""
    out: dict[str, Extent] = {}
    county = session.execute(text(COUNTY_EXTENT_SQL)).one()
    if county[0] is not None:
        out[COUNTY] = tuple(float(v) for v in county)
    versions = [tuple(row) for row in session.execute(text(LATEST_VERSION_KEYS_SQL))]
    plans = _measured(
        session,
        _version_extents,
        versions,
        "SELECT version_id, NULL, ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM "
        "(SELECT version_id, ST_Extent(geom) AS b FROM plan_feature "
        "WHERE version_id = ANY(:ids) GROUP BY version_id) AS e",
        per_key=False,
    )
    if proposals := union_extent(*plans):
        out["proposals"] = proposals
    checks = [tuple(row) for row in session.execute(text(LATEST_CHECK_KEYS_SQL))]
    by_check = _measured(
        session,
        _check_extents,
        checks,
        "SELECT check_id, severity, ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM "
        "(SELECT check_id, severity, ST_Extent(geom) AS b FROM check_finding "
        "WHERE check_id = ANY(:ids) AND geom IS NOT NULL GROUP BY check_id, severity) AS e",
        per_key=True,
    )
    for severity in SEVERITY_TITLES:
        if findings := union_extent(*(c.get(severity) for c in by_check)):
            out[f"{FINDINGS_GROUP}_{severity}"] = findings
    return out


def _basemap(settings: Settings, current: dict, municipalities: "WmsLayer") -> WmsLayer:
    """The offline base map: terrain tint and hillshade, municipality lines and names,
    tettsted names, all from the loaded layers (no outside tile service)."""
    elevation = current.get("elevation")
    dem = settings.raster_dir / elevation.raster_file if elevation is not None else None
    shade = hillshade_path(settings.raster_dir, elevation) if elevation is not None else None
    tettsteder = current.get("tettsteder")
    terrain = _version_extent(elevation) if dem is not None and dem.is_file() else None
    if dem is not None and not dem.is_file():
        # The base map still draws its lines and names; /readyz reports the lost file.
        logger.warning("basemap: terrain file %s of elevation is missing", dem.name)

    def part(name: str, **fields) -> WmsLayer:
        return WmsLayer(
            name=f"{BASEMAP}_{name}", title=name, abstract="", style_file=BASEMAP, **fields
        )

    places = (
        "(SELECT f.id, f.geom, f.attributes->>'name' AS name, "
        "(f.attributes->>'population')::numeric AS population FROM layer_feature f "
        f"WHERE f.layer_version_id = {int(tettsteder.id if tettsteder else -1)}) AS t"
    )
    return WmsLayer(
        name=BASEMAP,
        title="Bakgrunnskart (eget, frakoblet)",
        abstract=(
            "Bakgrunnskart tegnet av Arealsjekk uten ekstern karttjeneste: terrengfarge og "
            "relieffskygge fra terrengmodellen, kommunegrenser og kommunenavn, tettstedsnavn. "
            "Kilde: Kartverket (kommunegrenser), lastede kartlag (terreng, tettsteder)."
        ),
        kind="vector",
        style_file=BASEMAP,
        attribution="© Kartverket",
        queryable=False,
        parts=(
            (
                part("tint", kind="raster", raster_file=_existing(dem), extent=terrain),
                ("basemap_tint",),
            ),
            (
                part("shade", kind="raster", raster_file=_existing(shade), extent=terrain),
                ("basemap_shade",),
            ),
            (part("built_up", kind="vector", sql=places), ("basemap_built_up",)),
            (part("municipalities", kind="vector", sql=municipalities.sql), ("basemap_lines",)),
            (part("places", kind="vector", sql=places), ("basemap_places",)),
            (part("names", kind="vector", sql=MUNICIPALITY_NAMES_SQL), ("basemap_names",)),
        ),
    )


def _basemap_labels(basemap: WmsLayer) -> WmsLayer:
    """The base map's names alone, to draw above the thematic layers."""
    labels = tuple(p for p in basemap.parts if p[1][0] in ("basemap_places", "basemap_names"))
    return WmsLayer(
        name=BASEMAP_LABELS,
        title="Stedsnavn (eget bakgrunnskart)",
        abstract="Kommune- og tettstedsnavnene fra bakgrunnskartet, til å legge over kartlagene.",
        kind="vector",
        style_file=BASEMAP,
        attribution=basemap.attribution,
        queryable=False,
        parts=labels,
    )


def _above_tree_line(settings: Settings, current: dict) -> WmsLayer:
    """The terrain above the tree line G1 uses, shaded by the metres above it."""
    elevation, tree_line = current.get("elevation"), current.get("tree_line")
    path = None
    versions = "ikke beregnet: terrengmodell eller tregrense mangler"
    if elevation is not None and tree_line is not None:
        path = _existing(above_tree_line_path(settings.raster_dir, elevation, tree_line))
        versions = (
            f"Beregnet fra terrengmodellen (elevation v{elevation.version}) og tregrensen "
            f"(tree_line v{tree_line.version})"
            + ("" if path else "; ikke beregnet ennå (arealsjekk layers derive above_tree_line)")
        )
    return WmsLayer(
        name=ABOVE_TREE_LINE,
        title="Over skoggrensen",
        abstract=(
            "Terreng over tregrensen som G1 bruker, farget etter hvor mange meter over "
            f"tregrensen det ligger; gjennomsiktig under tregrensen. {versions}."
        ),
        kind="raster",
        style_file=ABOVE_TREE_LINE,
        raster_file=path,
        value_label="Høyde over skoggrensen (m)",
        # The derived raster covers the cells where both sources have values.
        extent=_intersection(
            _version_extent(elevation) if path else None, _version_extent(tree_line)
        ),
    )


def wms_layers(session: Session, settings: Settings, rule_set: RuleSet) -> dict[str, WmsLayer]:
    """Return every WMS layer, reading the current version of each guideline layer."""
    current = current_versions(session)
    out: dict[str, WmsLayer] = {}
    out["municipalities"] = WmsLayer(
        name="municipalities",
        title="Kommuner i Buskerud (2024)",
        abstract="Kommunegrenser 2024. Kilde: Kartverket, CC BY 4.0.",
        kind="vector",
        style_file="municipalities",
        sql="(SELECT kommunenummer::int AS id, kommunenummer, name, geom FROM municipality) AS t",
        attribution="© Kartverket, CC BY 4.0",
        extra_styles=("municipalities_labels",),
    )
    basemap = _basemap(settings, current, out["municipalities"])
    out = {BASEMAP: basemap, **out, BASEMAP_LABELS: _basemap_labels(basemap)}
    for config in get_registry().values():
        version = current.get(config.id)
        licence = version.licence if version else config.source.licence
        source = version.source if version else config.source.name
        abstract = (
            f"{config.description.strip()} Kilde: {source}. Lisens: {licence}. "
            f"Versjon: {version.version if version else 'ikke lastet'}. "
            f"Brukes av {', '.join(config.guidelines)}."
        )
        common = {
            "name": config.id,
            "title": config.title,
            "abstract": abstract,
            "style_file": config.id,
            "attribution": config.source.attribution,
            "extent": _version_extent(version),
        }
        if config.kind == "raster":
            path = settings.raster_dir / version.raster_file if version else None
            out[config.id] = WmsLayer(
                kind="raster",
                raster_file=path,
                value_label=RASTER_VALUE_LABELS.get(config.id),
                **common,
            )
        else:
            version_id = version.id if version else -1
            out[config.id] = WmsLayer(
                kind="vector",
                sql=_guideline_sql(config, version_id),
                plan_fill="arealformal" in config.attributes,
                **common,
            )
    out[ABOVE_TREE_LINE] = _above_tree_line(settings, current)
    tettsteder = current.get("tettsteder")
    matrix = _matrix_rule(rule_set)
    if matrix is not None:
        out["matrix_zones"] = WmsLayer(
            name="matrix_zones",
            title=f"Sentralitet × utbyggingspress ({matrix.id}-matrisen)",
            abstract=(
                f"{matrix.paragraph}: hver kommune delt i rutene sentralitet "
                f"({CENTRALITY_STORBY} / {CENTRALITY_OMLAND} / {CENTRALITY_YTRE}, fra SSBs "
                "sentralitetsklasse) × utbyggingspress (større tettsted / mindre tettsted / "
                "spredtbygd, fra SSBs tettsteder), som regelsettet definerer."
            ),
            kind="vector",
            style_file="matrix_zones",
            sql=_matrix_sql(tettsteder.id if tettsteder else -1, matrix),
        )
    out["proposals"] = WmsLayer(
        name="proposals",
        title="Planforslag (siste versjon)",
        abstract="Arealformål, hensynssoner og planområder i siste versjon av hvert planforslag.",
        kind="vector",
        style_file="proposals",
        sql=PROPOSALS_SQL,
        plan_fill=True,
    )
    for severity, title in SEVERITY_TITLES.items():
        name = f"findings_{severity}"
        out[name] = WmsLayer(
            name=name,
            title=title,
            abstract=(
                f"Funn med alvorlighet «{severity}» fra siste kontroll av siste versjon av "
                "hvert planforslag, med snittgeometrien."
            ),
            kind="vector",
            style_file="findings",
            sql=_findings_sql(severity),
            group=FINDINGS_GROUP,
        )
    return out
