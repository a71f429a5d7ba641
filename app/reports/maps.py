"""Map images for reports: the plan's overview and one detail map per finding (Mapnik PNGs)."""

import base64
import logging
import math
import re
import time
from dataclasses import dataclass, replace
from typing import Any
from xml.etree import ElementTree

from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.errors import ServiceNotReadyError
from app.settings import Settings
from app.wms.catalog import WmsLayer, _guideline_sql, style_rules
from app.wms.pool import RenderError
from app.wms.render import render_map
from db.models import CheckFindingOrm, LayerVersionOrm, PlanFeatureOrm
from layers.registry import get_registry
from spatial.crs import CANONICAL_SRID
from spatial.figures import fmt_number
from spatial.messages import Text
from spatial.plan_colours import EXISTING_STATUS, get_plan_colours

logger = logging.getLogger(__name__)

BBox = tuple[float, float, float, float]

OVERVIEW_SIZE = (1000, 620)
DETAIL_SIZE = (600, 400)
# Bounds the work a report does: each detail map is a Mapnik render (each render is also
# bounded by the render pool's time limits, app.wms.pool).
MAX_DETAIL_MAPS = 30
# ... and all of a report's detail maps together get this long (each render may take up to
# wms_render_timeout_s); past it the remaining findings are shown without a map.
DETAIL_MAPS_BUDGET_S = 20.0
# Detail maps show at least this much ground, so a small finding still shows its setting.
MIN_DETAIL_SPAN_M = 400.0
MIN_OVERVIEW_SPAN_M = 1500.0
BACKGROUND = "#ffffff"
# Drawn bottom first, so conflicts end up on top.
SEVERITY_DRAW_ORDER = ("ok", "info", "unknown", "warning", "conflict")
# The base map: the WMS layer `basemap` (hillshade, municipalities and names, offline) when the
# service offers it, else the terrain model (elevation) as it was before there was one.
BASE_MAP_LAYER = "basemap"
FALLBACK_BASE_MAP_LAYER = "elevation"
# The base map's styles that only write names (drawn on top of the plan, after its feltnavn).
BASE_MAP_NAME_STYLES = {"basemap_names", "basemap_places"}
# Area labels (feltnavn) on top of everything, in layers/styles/report_labels.xml.
LABEL_STYLE = "report_labels"
# A scale bar about a quarter of the map's width, in 1, 2 or 5 × 10^n metres (cartographic
# practice: round lengths a reader can count with).
SCALE_BAR_SHARE = 0.25
SCALE_BAR_STEPS = (1, 2, 5)
# At most this many arealformål rows in one map's legend.
MAX_LEGEND_FILLS = 24
# A north arrow for every map: the maps are drawn in EPSG:25832 with grid north up (within
# 1.5° of true north in Buskerud). An image rather than inline SVG, for WeasyPrint and browsers.
NORTH_ARROW_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="28" height="40" viewBox="0 0 28 40">'
    '<rect x="1" y="1" width="26" height="38" rx="3" fill="#ffffff" fill-opacity="0.85" '
    'stroke="#555555" stroke-width="0.8"/>'
    '<path d="M14 4 L22 24 L14 19 Z" fill="#111111"/>'
    '<path d="M14 4 L6 24 L14 19 Z" fill="#ffffff" stroke="#111111" stroke-width="0.8"/>'
    '<text x="14" y="36" font-family="DejaVu Sans, sans-serif" font-size="10" '
    'font-weight="bold" text-anchor="middle" fill="#111111">N</text></svg>'
)
NORTH_ARROW_URI = "data:image/svg+xml;base64," + base64.b64encode(NORTH_ARROW_SVG.encode()).decode(
    "ascii"
)
# Mapnik filter syntax (layers/styles) as SQL: [field] → "field", = null → IS NULL.
_NOT_NULL = re.compile(r"\[(\w+)\]\s*!=\s*null")
_IS_NULL = re.compile(r"\[(\w+)\]\s*=\s*null")
_FIELD = re.compile(r"\[(\w+)\]")


def data_uri(png: bytes) -> str:
    """Embed a PNG in HTML, so a report is one self-contained file."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def fit_bbox(bbox: BBox, size: tuple[int, int], margin: float, min_span: float) -> BBox:
    """Pad a bounding box, give it a minimum span and widen it to the image's aspect ratio."""
    xmin, ymin, xmax, ymax = bbox
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    half_w = max((xmax - xmin) * (1 + 2 * margin), min_span) / 2
    half_h = max((ymax - ymin) * (1 + 2 * margin), min_span) / 2
    aspect = size[0] / size[1]
    if half_w / half_h < aspect:
        half_w = half_h * aspect
    else:
        half_h = half_w / aspect
    return (cx - half_w, cy - half_h, cx + half_w, cy + half_h)


def bounds_columns(geom: Any) -> list[Any]:
    """The columns of a geometry's (or extent's) bounding box: xmin, ymin, xmax, ymax."""
    return [func.ST_XMin(geom), func.ST_YMin(geom), func.ST_XMax(geom), func.ST_YMax(geom)]


def version_extent(session: Session, version_id: int) -> BBox | None:
    """Return the bounding box of a version's arealformål areas and zones (else its boundary)."""
    extent = func.ST_Extent(PlanFeatureOrm.geom)
    # A kommuneplan's planområde is the whole municipality; its areas are what matters.
    for kinds in (("arealformal", "hensynssone"), ("arealformal", "hensynssone", "planomrade")):
        row = session.execute(
            select(*bounds_columns(extent)).where(
                PlanFeatureOrm.version_id == version_id, PlanFeatureOrm.kind.in_(kinds)
            )
        ).one()
        if row[0] is not None:
            return tuple(row)  # type: ignore[return-value]
    return None


def feature_extents(session: Session, version_id: int) -> dict[int, BBox]:
    """Return the bounding box of each area of a proposal version, by stored feature id."""
    rows = session.execute(
        select(PlanFeatureOrm.id, *bounds_columns(PlanFeatureOrm.geom)).where(
            PlanFeatureOrm.version_id == version_id
        )
    )
    return {row[0]: tuple(row[1:]) for row in rows}  # type: ignore[misc]


def finding_extents(session: Session, check_id: int) -> dict[int, BBox]:
    """Return the bounding box of each finding geometry of a check that is not ok, by id."""
    rows = session.execute(
        select(CheckFindingOrm.id, *bounds_columns(CheckFindingOrm.geom)).where(
            CheckFindingOrm.check_id == check_id,
            CheckFindingOrm.geom.is_not(None),
            CheckFindingOrm.severity != "ok",
        )
    )
    return {row[0]: tuple(row[1:]) for row in rows}  # type: ignore[misc]


def union_bbox(boxes: list[BBox]) -> BBox | None:
    """Return the box around all the given boxes (None for none)."""
    if not boxes:
        return None
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def known_severity(severity: str) -> None:
    """Raise ValueError unless `severity` is one of the five known words."""
    # Severities go into Mapnik's SQL as literals; only the five known words may.
    if severity not in SEVERITY_DRAW_ORDER:
        raise ValueError(f"unknown severity {severity!r}")


def _focus(layer: WmsLayer) -> WmsLayer:
    # A black-and-white outline stands out on every fill, e.g. an orange warning on an
    # orange cabin area.
    return replace(layer, name=f"{layer.name}_focus", style_file="report_focus", extra_styles=())


class ReportMapError(ServiceNotReadyError):
    """A report map could not be drawn now (every renderer busy, too slow, database away)."""


@dataclass(frozen=True)
class LegendEntry:
    """One row of a map's legend: a swatch as the style draws it, and its words."""

    label: str
    fill: str | None = None  # CSS colour, with the style's opacity
    stroke: str | None = None
    dashed: bool = False
    ramp: tuple[tuple[str, str], ...] = ()  # a raster's (value, colour) stops

    @property
    def swatch_style(self) -> str:
        """Inline CSS for the swatch (colours come from our style files, not from users)."""
        if self.ramp:
            stops = ", ".join(colour for _, colour in self.ramp)
            return f"background: linear-gradient(to right, {stops});"
        parts = [f"background: {self.fill or 'transparent'};"]
        if self.stroke:
            parts.append(f"border: 1.5px {'dashed' if self.dashed else 'solid'} {self.stroke};")
        return " ".join(parts)

    @property
    def ramp_text(self) -> str:
        """A raster's range in words: '0–1900'."""
        return f"{self.ramp[0][0]}–{self.ramp[-1][0]}" if self.ramp else ""


@dataclass(frozen=True)
class ScaleBar:
    """A scale bar: its length on the ground, its words and its share of the map's width."""

    metres: float
    label: str
    width_pct: float


def scale_bar(width_m: float) -> ScaleBar:
    """A scale bar about SCALE_BAR_SHARE of a map `width_m` wide, of a round length."""
    target = width_m * SCALE_BAR_SHARE
    power = 10 ** math.floor(math.log10(target))
    metres = max(step * power for step in SCALE_BAR_STEPS if step * power <= target)
    label = f"{fmt_number(metres / 1000, 0 if metres % 1000 == 0 else 1)} km"
    if metres < 1000:
        label = f"{fmt_number(metres)} m"
    return ScaleBar(metres, label, 100 * metres / width_m)


def _css_colour(colour: str | None, opacity: str | None) -> str | None:
    if not colour:
        return None
    match = re.fullmatch(r"#([0-9a-fA-F]{6})", colour)
    if match is None or opacity is None:
        return colour
    red, green, blue = (int(match.group(1)[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({red}, {green}, {blue}, {float(opacity):g})"


def legend_entry(rule: ElementTree.Element, title: str) -> LegendEntry | None:
    """The legend row of a style rule; None for a rule that draws only text."""
    label = rule.get("name") or title
    raster = rule.find("RasterSymbolizer")
    if raster is not None:
        stops = tuple(
            (s.get("value", ""), s.get("color", "#000000"))
            for s in raster.iter("stop")
            if s.get("color") != "transparent"
        )
        return LegendEntry(label, ramp=stops) if stops else LegendEntry(label, fill="#cccccc")
    polygon = rule.find("PolygonSymbolizer")
    line = rule.find("LineSymbolizer")
    if polygon is None and line is None:
        return None
    return LegendEntry(
        label,
        fill=_css_colour(polygon.get("fill"), polygon.get("fill-opacity"))
        if polygon is not None
        else None,
        stroke=line.get("stroke") if line is not None else None,
        dashed=line is not None and bool(line.get("stroke-dasharray")),
    )


def filter_sql(expression: str) -> str:
    """A Mapnik filter of our style files as an SQL condition."""
    sql = _NOT_NULL.sub(r'"\1" IS NOT NULL', expression)
    sql = _IS_NULL.sub(r'"\1" IS NULL', sql)
    return _FIELD.sub(r'"\1"', sql)


@dataclass(frozen=True)
class RenderedMap:
    """A map image ready for a report, with the ground width it shows, its legend (what is
    drawn in it), its scale bar and its base map."""

    uri: str
    width_m: float
    shows: tuple[str, ...] = ()
    legend: tuple[LegendEntry, ...] = ()
    scale_bar: ScaleBar | None = None
    base_map: str | None = None


class ReportMaps:
    """Draws a check's maps with the WMS styles, reading the check's own version and findings;
    each map comes with a legend of what it draws, a scale bar and the base map's name."""

    def __init__(
        self,
        session: Session,
        settings: Settings,
        catalog: dict[str, WmsLayer],
        version_id: int,
        check_id: int,
        layer_versions: dict[tuple[str, int], LayerVersionOrm],
    ):
        self._session = session
        self._settings = settings
        self._catalog = catalog
        self._check_id = int(check_id)
        self._layer_versions = layer_versions
        self._cache: dict[tuple[Any, ...], RenderedMap] = {}
        self._present: dict[tuple[str, str, BBox], Any] = {}
        self.details_drawn = 0
        self._deadline = time.monotonic() + DETAIL_MAPS_BUDGET_S
        self._plan = replace(
            catalog["proposals"],
            name="plan",
            sql=(
                "(SELECT f.id, f.geom, f.kind, f.arealformal, f.arealbruksstatus, "
                "f.hensynssone, f.feltnavn FROM plan_feature f "
                f"WHERE f.version_id = {int(version_id)}) AS t"
            ),
        )
        self._labels = replace(
            self._plan, name="plan_labels", style_file=LABEL_STYLE, extra_styles=()
        )
        self._base, self._base_names = self._base_map()

    def _base_map(self) -> tuple[WmsLayer | None, WmsLayer | None]:
        """The base map layer (`basemap` when offered, else the current terrain model) and
        its names, drawn after the feltnavn so that a plan's own labels win the space."""
        base = self._catalog.get(BASE_MAP_LAYER)
        if base is not None:
            parts = base.parts
            names = tuple(p for p in parts if set(p[1]) & BASE_MAP_NAME_STYLES)
            if not names:
                return base, None
            shapes = tuple(p for p in parts if not set(p[1]) & BASE_MAP_NAME_STYLES)
            return (
                replace(base, parts=shapes),
                replace(base, name=f"{BASE_MAP_LAYER}_names", parts=names),
            )
        terrain = self._catalog.get(FALLBACK_BASE_MAP_LAYER)
        if terrain is None or terrain.raster_file is None or not terrain.raster_file.exists():
            return None, None
        return terrain, None

    @property
    def base_map_title(self) -> str | None:
        """The base map's title, for the captions (None when there is none)."""
        return self._base.title if self._base is not None else None

    def _findings_layer(self, severity: str, where: str) -> WmsLayer:
        known_severity(severity)
        return replace(
            self._catalog["findings_conflict"],
            name=f"findings_{severity}",
            sql=(
                "(SELECT cf.id, cf.geom, cf.severity FROM check_finding cf "
                f"WHERE cf.check_id = {self._check_id} AND cf.geom IS NOT NULL "
                f"AND cf.severity = '{severity}' {where}) AS t"
            ),
        )

    def _highlight_layers(self, feature_ids: tuple[int, ...], severity: str) -> list[WmsLayer]:
        known_severity(severity)
        ids = ",".join(str(int(i)) for i in feature_ids)
        sql = (
            f"(SELECT f.id, f.geom, '{severity}'::text AS severity FROM plan_feature f "
            f"WHERE f.id IN ({ids})) AS t"
        )
        fill = replace(self._catalog["findings_conflict"], name="highlight", sql=sql)
        return [fill, _focus(fill)]

    def _guideline_layer(self, layer_id: str, version: int) -> WmsLayer | None:
        row = self._layer_versions.get((layer_id, version))
        base = self._catalog.get(layer_id)
        config = get_registry().get(layer_id)
        if row is None or base is None or config is None:
            return None
        if base.kind == "raster":
            if not row.raster_file:
                return None
            return replace(base, raster_file=self._settings.raster_dir / row.raster_file)
        return replace(base, sql=_guideline_sql(config, row.id))

    def _query(self, layer: WmsLayer, sql: str, bbox: BBox, fallback: Any) -> Any:
        """Run a legend query on a layer's rows (all of them, `fallback` when it fails)."""
        key = (layer.sql or "", sql, bbox)
        if key not in self._present:
            try:
                with self._session.begin_nested():
                    rows = self._session.execute(
                        text(sql), dict(zip(("x0", "y0", "x1", "y1"), bbox, strict=True))
                    ).all()
            except SQLAlchemyError:
                # A filter this translation does not cover: list the rule rather than hide it.
                logger.warning("legend: cannot test %s in %s", sql, layer.name)
                rows = fallback
            self._present[key] = rows
        return self._present[key]

    def _where(self, rule: ElementTree.Element, lines_only: bool) -> str:
        condition = rule.find("Filter")
        where = filter_sql(condition.text or "TRUE") if condition is not None else "TRUE"
        envelope = f"ST_MakeEnvelope(:x0, :y0, :x1, :y1, {CANONICAL_SRID})"
        # A rule that draws only lines draws an area's outline: it shows where the outline
        # crosses the map (a municipality around the whole map draws no Kommunegrense).
        shape = "CASE WHEN ST_Dimension(geom) = 2 THEN ST_Boundary(geom) ELSE geom END"
        return (
            f"({where}) AND geom && {envelope} AND "
            f"ST_Intersects({shape if lines_only else 'geom'}, {envelope})"
        )

    def _entries(self, layer: WmsLayer, rule: ElementTree.Element, bbox: BBox) -> list[LegendEntry]:
        """The legend rows a style rule draws inside the box (none when it draws nothing)."""
        entry = legend_entry(rule, layer.title)
        if entry is None:
            return []
        if layer.kind == "raster":
            drawn = layer.raster_file is not None and layer.raster_file.exists()
            return [entry] if drawn else []
        if not layer.sql:
            return []
        polygon = rule.find("PolygonSymbolizer")
        where = self._where(rule, lines_only=polygon is None)
        # Our own SQL and our own style files' filters, never a user's text.
        if polygon is not None and polygon.get("fill") == "[fill]":
            return self._plan_fills(layer, polygon, entry, where, bbox)
        found = self._query(layer, f"SELECT 1 FROM {layer.sql} WHERE {where} LIMIT 1", bbox, [1])
        return [entry] if found else []

    def _plan_fills(
        self,
        layer: WmsLayer,
        polygon: ElementTree.Element,
        entry: LegendEntry,
        where: str,
        bbox: BBox,
    ) -> list[LegendEntry]:
        """A row per arealformål (and nåværende/framtidig) the map shows, in its SOSI colour."""
        rows = self._query(
            layer,
            f"SELECT DISTINCT arealformal, arealbruksstatus FROM {layer.sql} WHERE {where} "
            f"ORDER BY 1, 2 LIMIT {MAX_LEGEND_FILLS}",
            bbox,
            [(None, None)],
        )
        colours = get_plan_colours()
        entries = []
        for code, status in rows:
            colour = colours.colour(code)
            label = f"{colour.title} ({code})" if code is not None else colour.title
            if status == EXISTING_STATUS:
                label += ", nåværende"
            fill = _css_colour(colours.fill(code, status), polygon.get("fill-opacity"))
            entries.append(replace(entry, label=label, fill=fill))
        return entries

    def legend(self, layers: list[WmsLayer], bbox: BBox) -> tuple[LegendEntry, ...]:
        """The legend of what the layers draw inside the box, topmost first, each row once."""
        entries: dict[tuple[str, str | None, str | None], LegendEntry] = {}
        for layer in reversed(layers):
            if layer.name == BASE_MAP_LAYER:
                continue  # named in the caption; its shading needs no key
            for style_name in layer.styles:
                for rule in style_rules(layer.style_file, style_name):
                    for entry in self._entries(layer, rule, bbox):
                        entries.setdefault((entry.label, entry.fill, entry.stroke), entry)
        return tuple(entries.values())

    def _render(
        self, key: tuple[Any, ...], layers: list[WmsLayer], bbox: BBox, size: tuple[int, int]
    ) -> RenderedMap:
        if key not in self._cache:
            drawn = list(layers)
            if self._base is not None and all(lay.name != self._base.name for lay in layers):
                drawn.insert(0, self._base)
            on_top = [self._labels, *([self._base_names] if self._base_names else [])]
            styled = [(layer, layer.styles) for layer in [*drawn, *on_top]]
            try:
                png = render_map(
                    styled,
                    f"epsg:{CANONICAL_SRID}",
                    bbox,
                    size[0],
                    size[1],
                    self._settings.database_url,
                    BACKGROUND,
                    settings=self._settings,
                )
            except RenderError as exc:
                # The report is not given without its maps: 503, the client tries again.
                raise ReportMapError(
                    Text(
                        f"kartene i rapporten kan ikke tegnes nå ({exc})",
                        f"the report's maps cannot be drawn now ({exc})",
                    )
                ) from exc
            shows = tuple(layer.title for layer in layers if layer.name in get_registry())
            width_m = bbox[2] - bbox[0]
            self._cache[key] = RenderedMap(
                data_uri(png),
                width_m,
                shows,
                self.legend(drawn, bbox),
                scale_bar(width_m),
                self.base_map_title,
            )
        return self._cache[key]

    def overview(self, extent: BBox) -> RenderedMap:
        """Draw the whole plan with every finding of the check that is not ok."""
        bbox = fit_bbox(extent, OVERVIEW_SIZE, 0.08, MIN_OVERVIEW_SPAN_M)
        municipalities = self._catalog["municipalities"]
        if self._base_names is not None:
            municipalities = replace(municipalities, extra_styles=())  # the base map names them
        layers = [
            self._plan,
            *(self._findings_layer(s, "") for s in SEVERITY_DRAW_ORDER if s != "ok"),
            municipalities,
        ]
        return self._render(("overview",), layers, bbox, OVERVIEW_SIZE)

    def detail(
        self,
        finding_id: int,
        severity: str,
        extent: BBox,
        has_geometry: bool,
        highlight: tuple[int, ...],
        layer_refs: list[dict[str, Any]],
    ) -> RenderedMap | None:
        """Draw a finding's layers, plan and geometry (or areas); None when the budget is spent."""
        bbox = fit_bbox(extent, DETAIL_SIZE, 0.25, MIN_DETAIL_SPAN_M)
        refs = sorted(
            {(r["layer_id"], r["version"]) for r in layer_refs if r.get("version") is not None},
            # Rasters first, so vector layers stay visible on top of them.
            key=lambda ref: (self._catalog.get(ref[0], self._plan).kind != "raster", ref),
        )
        guideline = [layer for ref in refs if (layer := self._guideline_layer(*ref)) is not None]
        municipalities = replace(self._catalog["municipalities"], extra_styles=())
        layers = [*guideline, self._plan, municipalities]
        if has_geometry:
            finding = self._findings_layer(severity, f"AND cf.id = {int(finding_id)}")
            layers += [finding, _focus(finding)]
            key: tuple[Any, ...] = ("finding", finding_id)
        else:
            if highlight:
                layers += self._highlight_layers(highlight, severity)
            key = ("areas", bbox, tuple(refs), highlight, severity)
        if key not in self._cache:
            if self.details_drawn >= MAX_DETAIL_MAPS or time.monotonic() > self._deadline:
                return None
            self.details_drawn += 1
        return self._render(key, layers, bbox, DETAIL_SIZE)
