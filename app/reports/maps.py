"""Map images for reports: the plan's overview and one detail map per finding (Mapnik PNGs)."""

import base64
import time
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import ServiceNotReadyError
from app.settings import Settings
from app.wms.catalog import WmsLayer, _guideline_sql
from app.wms.pool import RenderError
from app.wms.render import render_map
from db.models import CheckFindingOrm, LayerVersionOrm, PlanFeatureOrm
from layers.registry import get_registry
from spatial.crs import CANONICAL_SRID

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


def _bounds_columns(geom: Any) -> list[Any]:
    return [func.ST_XMin(geom), func.ST_YMin(geom), func.ST_XMax(geom), func.ST_YMax(geom)]


def version_extent(session: Session, version_id: int) -> BBox | None:
    """Return the bounding box of a version's arealformål areas and zones (else its boundary)."""
    extent = func.ST_Extent(PlanFeatureOrm.geom)
    # A kommuneplan's planområde is the whole municipality; its areas are what matters.
    for kinds in (("arealformal", "hensynssone"), ("arealformal", "hensynssone", "planomrade")):
        row = session.execute(
            select(*_bounds_columns(extent)).where(
                PlanFeatureOrm.version_id == version_id, PlanFeatureOrm.kind.in_(kinds)
            )
        ).one()
        if row[0] is not None:
            return tuple(row)  # type: ignore[return-value]
    return None


def feature_extents(session: Session, version_id: int) -> dict[int, BBox]:
    """Return the bounding box of each area of a proposal version, by stored feature id."""
    rows = session.execute(
        select(PlanFeatureOrm.id, *_bounds_columns(PlanFeatureOrm.geom)).where(
            PlanFeatureOrm.version_id == version_id
        )
    )
    return {row[0]: tuple(row[1:]) for row in rows}  # type: ignore[misc]


def finding_extents(session: Session, check_id: int) -> dict[int, BBox]:
    """Return the bounding box of each finding geometry of a check that is not ok, by id."""
    rows = session.execute(
        select(CheckFindingOrm.id, *_bounds_columns(CheckFindingOrm.geom)).where(
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


def _known(severity: str) -> None:
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
class RenderedMap:
    """A map image ready for a report, with the ground width it shows."""

    uri: str
    width_m: float
    shows: tuple[str, ...] = ()


class ReportMaps:
    """Draws a check's maps with the WMS styles, reading the check's own version and findings."""

    def __init__(
        self,
        settings: Settings,
        catalog: dict[str, WmsLayer],
        version_id: int,
        check_id: int,
        layer_versions: dict[tuple[str, int], LayerVersionOrm],
    ):
        self._settings = settings
        self._catalog = catalog
        self._check_id = int(check_id)
        self._layer_versions = layer_versions
        self._cache: dict[tuple[Any, ...], RenderedMap] = {}
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

    def _findings_layer(self, severity: str, where: str) -> WmsLayer:
        _known(severity)
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
        _known(severity)
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

    def _render(
        self, key: tuple[Any, ...], layers: list[WmsLayer], bbox: BBox, size: tuple[int, int]
    ) -> RenderedMap:
        if key not in self._cache:
            styled = [(layer, layer.styles) for layer in layers]
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
                raise ReportMapError(f"the report's maps cannot be drawn now ({exc})") from exc
            shows = tuple(layer.title for layer in layers if layer.name in get_registry())
            self._cache[key] = RenderedMap(data_uri(png), bbox[2] - bbox[0], shows)
        return self._cache[key]

    def overview(self, extent: BBox) -> RenderedMap:
        """Draw the whole plan with every finding of the check that is not ok."""
        bbox = fit_bbox(extent, OVERVIEW_SIZE, 0.08, MIN_OVERVIEW_SPAN_M)
        layers = [
            self._plan,
            *(self._findings_layer(s, "") for s in SEVERITY_DRAW_ORDER if s != "ok"),
            self._catalog["municipalities"],
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
