"""The planvask (Buskerudplanen §6.2.4, tiltak 5): a municipality's adopted reserves that
conflict with the guidelines, heaviest first, as a basis for revising the kommuneplan.

Read from a stored land account (app.land_account): its reserves, their figures per
guideline and the rule engine's findings on them. The same entries, in the same order, make
the HTML/PDF report (reports/planvask.html) and the GeoJSON for QGIS.

Weight: a reserve in conflict with a guideline comes before one that only needs adapting
(warning, «må tilpasses»); among reserves in conflict the larger area in conflict (the union
over the guidelines) comes first, among the warnings the larger area to adapt under any one
guideline (the account stores the warning areas per guideline, not their union). Equal
weights keep the account's own order. The conflicts are ordered as the reserves API orders
them (`/reserves?conflicts_only=true`).
"""

import time
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from app.check_runner import get_rule_set
from app.land_account import get_method
from app.reports import maps
from app.reports.data import (
    KARTVERKET,
    LayerUse,
    SourceGroup,
    group_sources,
    layer_uses,
    without_layer_ids,
)
from app.reports.formatting import SEVERITY_LABELS, check_label
from app.reports.render import render_html
from app.repositories.geojson import geometry_json
from app.settings import Settings
from app.wms.catalog import WmsLayer, style_rules, wms_layers
from db.models import (
    LandAccountAreaOrm,
    LandAccountFindingOrm,
    LandAccountOrm,
    LayerVersionOrm,
    MunicipalityOrm,
)
from spatial.codelists import get_codelists
from spatial.figures import fmt_daa, fmt_m, fmt_m2, fmt_pct
from spatial.land_account import LandAccountMethod

# The two sections of the planvask, in order: conflicts, then warnings (must adapt).
SECTIONS = ("conflict", "warning")
# The findings an entry quotes: what conflicts, what must be adapted, what was not checked.
QUOTED_SEVERITIES = ("conflict", "warning", "unknown")
SEVERITY_ORDER = {severity: rank for rank, severity in enumerate(QUOTED_SEVERITIES)}
# Bounds the work and size of one report (as app.reports.data does for checks, issue 16): the
# heaviest entries in detail (the first maps.MAX_DETAIL_MAPS of them with a map), the next
# ones as rows of a compact table; the GeoJSON has every entry. Module constants until they
# are settings.
MAX_DETAILED_ENTRIES = 50
MAX_TABLE_ENTRIES = 300
# Findings quoted per guideline of one entry (a reserve may touch many heritage sites).
MAX_MESSAGES = 6
# The black-and-white outline of the reserve a detail map is about, and its legend row.
FOCUS_STYLE = "report_focus"
RESERVE_OUTLINE_LABEL = "Reserven"
WEIGHT_TEXT = (
    "Reservene er ordnet etter vekt: først reserver i konflikt med minst én retningslinje, "
    "deretter reserver som bare må tilpasses (advarsel). Innenfor hver gruppe kommer det "
    "største berørte arealet først: for konflikter arealet i konflikt med minst én "
    "retningslinje, for advarsler det største arealet som må tilpasses etter én retningslinje."
)


@dataclass
class QuotedFinding:
    """A finding of the rule engine on a reserve, as the planvask quotes it."""

    severity: str
    check_title: str
    message: str
    suggested_action: str
    area_m2: float


@dataclass
class GuidelineLine:
    """What one guideline finds in one reserve, with the method's action for the revision."""

    rule_id: str
    title: str
    paragraph: str
    conflict_m2: float
    conflict_share_pct: float
    warning_m2: float
    warning_share_pct: float
    unknown_m2: float
    action: str | None
    findings: list[QuotedFinding] = field(default_factory=list)
    findings_left_out: int = 0

    @property
    def severity(self) -> str:
        """The guideline's verdict on the reserve: conflict, warning or unknown."""
        if self.conflict_m2 > 0:
            return "conflict"
        return "warning" if self.warning_m2 > 0 else "unknown"


@dataclass
class PlanvaskEntry:
    """A reserve in conflict with (or to adapt to) the guidelines, as the planvask lists it."""

    rank: int
    severity: str
    area_id: int
    position: int
    feature_key: str
    name: str
    planidentifikasjon: str | None
    arealformal: int
    arealformal_name: str | None
    arealbruksstatus: int | None
    arealbruksstatus_name: str | None
    purpose_group: str
    purpose_group_label: str
    area_m2: float
    built_m2: float
    reserve_m2: float
    building_count: int
    lots: int | None
    conflict_m2: float
    conflict_share_pct: float
    weight_m2: float
    guidelines: list[GuidelineLine]
    map: maps.RenderedMap | None = None

    @property
    def rule_ids(self) -> list[str]:
        """The guidelines that find conflict or need adapting, conflicts first."""
        return [g.rule_id for g in self.guidelines if g.severity in SECTIONS]


@dataclass
class RuleSummary:
    """One guideline's figures over the municipality's reserves."""

    rule_id: str
    title: str
    paragraph: str
    conflict_m2: float
    conflict_share_pct: float
    reserves_in_conflict: int
    warning_m2: float
    reserves_to_adapt: int
    unknown_m2: float
    action: str | None
    adaptation: str | None


@dataclass
class PlanvaskReport:
    """Everything the planvask shows, in the order it shows it."""

    account_id: int
    kommunenummer: str
    municipality: str
    computed_at: datetime
    trigger: str
    on: date | None
    method_id: str
    method_version: str
    method_checksum: str
    method_title: str
    method_source: str
    method_changed: bool
    built_buffer_m: float
    reserve_statuses: list[str]
    not_built_statuses: list[str]
    min_reserve_width_m: float
    min_reserve_m2: float
    rule_set_id: str
    rule_set_version: str
    rule_set_checksum: str
    rule_set_changed: bool
    layers: list[LayerUse]
    notes: list[str]
    totals: dict[str, Any]
    rules: list[RuleSummary]
    entries: list[PlanvaskEntry]
    table: list[PlanvaskEntry]
    entries_total: int
    conflict_total: int
    warning_total: int
    overview: maps.RenderedMap | None
    maps_left_out: int
    generated_at: datetime
    links: dict[str, str]
    base_url: str = ""
    max_detail_maps: int = 0
    weight_text: str = WEIGHT_TEXT

    @property
    def title(self) -> str:
        """The report's title line."""
        return f"Planvask for {self.municipality} kommune"

    @property
    def sections(self) -> list[tuple[str, list[PlanvaskEntry]]]:
        """The detailed entries by section (conflicts, then warnings)."""
        return [(s, [e for e in self.entries if e.severity == s]) for s in SECTIONS]

    @property
    def left_out(self) -> int:
        """Entries in neither the detailed list nor the compact table."""
        return self.entries_total - len(self.entries) - len(self.table)

    @property
    def loaded(self) -> list[LayerUse]:
        """Layers the account read, with their versions."""
        return [layer for layer in self.layers if layer.version is not None]

    @property
    def not_loaded(self) -> list[LayerUse]:
        """Layers the account would have read but found no version of."""
        return [layer for layer in self.layers if layer.version is None]

    @property
    def has_demo_data(self) -> bool:
        """True when any layer used is synthetic demo data."""
        return any(layer.is_demo for layer in self.layers)

    @property
    def source_groups(self) -> list[SourceGroup]:
        """The loaded layers grouped by source and licence, so shared provenance shows once."""
        return group_sources(self.loaded)


def _pct(part: float, whole: float) -> float:
    return round(100.0 * part / whole, 2) if whole > 0 else 0.0


def _section(area: LandAccountAreaOrm) -> tuple[str | None, float]:
    """The section of a reserve and its weight in m² (None: nothing to wash)."""
    if area.conflict_m2 > 0:
        return "conflict", area.conflict_m2
    warning = max((f.get("warning_m2", 0.0) for f in area.conflicts.values()), default=0.0)
    return ("warning", warning) if warning > 0 else (None, 0.0)


def weighted_areas(
    session: Session, account: LandAccountOrm
) -> list[tuple[str, float, LandAccountAreaOrm]]:
    """The account's reserves in conflict or to adapt, heaviest first (module docstring),
    as (section, weight in m², area) without geometry."""
    rows = session.scalars(
        select(LandAccountAreaOrm)
        .options(defer(LandAccountAreaOrm.geom))
        .where(LandAccountAreaOrm.account_id == account.id, LandAccountAreaOrm.is_reserve)
        .order_by(LandAccountAreaOrm.position)
    ).all()
    weighted = []
    for area in rows:
        section, weight = _section(area)
        if section is not None:
            weighted.append((section, weight, area))
    weighted.sort(key=lambda item: (SECTIONS.index(item[0]), -item[1], item[2].position))
    return weighted


def _quoted_findings(
    session: Session, account_id: int, area_ids: list[int]
) -> dict[tuple[int, str], list[LandAccountFindingOrm]]:
    """The quoted findings of the given reserves, by (area id, rule id), most serious first."""
    if not area_ids:
        return {}
    rows = session.scalars(
        select(LandAccountFindingOrm)
        .options(defer(LandAccountFindingOrm.geom))
        .where(
            LandAccountFindingOrm.account_id == account_id,
            LandAccountFindingOrm.area_id.in_(area_ids),
            LandAccountFindingOrm.severity.in_(QUOTED_SEVERITIES),
        )
        .order_by(LandAccountFindingOrm.id)
    ).all()
    found: dict[tuple[int, str], list[LandAccountFindingOrm]] = {}
    for row in sorted(rows, key=lambda r: (SEVERITY_ORDER[r.severity], -r.area_m2, r.id)):
        found.setdefault((row.area_id, row.rule_id), []).append(row)
    return found


def _rule_info(account: LandAccountOrm) -> dict[str, dict[str, Any]]:
    """Title and paragraph of each guideline, as the account's rule set gave them."""
    return account.totals.get("by_rule", {})


def _entry(
    rank: int,
    section: str,
    weight: float,
    area: LandAccountAreaOrm,
    account: LandAccountOrm,
    method: LandAccountMethod,
    findings: dict[tuple[int, str], list[LandAccountFindingOrm]],
    message_limit: int | None,
) -> PlanvaskEntry:
    """A reserve as an entry: its figures, and a line per guideline that found something."""
    codes = get_codelists()
    rules = _rule_info(account)
    groups = account.totals.get("by_group", {})
    lines = []
    for rule_id in sorted(
        area.conflicts, key=lambda r: (list(rules).index(r) if r in rules else 99, r)
    ):
        figures = area.conflicts[rule_id]
        conflict, warning = figures.get("conflict_m2", 0.0), figures.get("warning_m2", 0.0)
        unknown = figures.get("unknown_m2", 0.0)
        if not (conflict or warning or unknown):
            continue
        quoted = findings.get((area.id, rule_id), [])
        shown = quoted if message_limit is None else quoted[:message_limit]
        info = rules.get(rule_id, {})
        lines.append(
            GuidelineLine(
                rule_id=rule_id,
                title=info.get("title", rule_id),
                paragraph=info.get("paragraph") or (quoted[0].paragraph if quoted else ""),
                conflict_m2=conflict,
                conflict_share_pct=_pct(conflict, area.unbuilt_m2),
                warning_m2=warning,
                warning_share_pct=_pct(warning, area.unbuilt_m2),
                unknown_m2=unknown,
                action=method.action(rule_id, "conflict" if conflict else "warning")
                if conflict or warning
                else None,
                findings=[
                    QuotedFinding(
                        severity=row.severity,
                        check_title=check_label(row.check),
                        message=without_layer_ids(row.message),
                        suggested_action=without_layer_ids(row.suggested_action),
                        area_m2=row.area_m2,
                    )
                    for row in shown
                ],
                findings_left_out=len(quoted) - len(shown),
            )
        )
    lines.sort(key=lambda line: SEVERITY_ORDER[line.severity])
    return PlanvaskEntry(
        rank=rank,
        severity=section,
        area_id=area.id,
        position=area.position,
        feature_key=area.feature_key,
        name=area.name,
        planidentifikasjon=area.planidentifikasjon,
        arealformal=area.arealformal,
        arealformal_name=codes.kp_arealformal.get(area.arealformal),
        arealbruksstatus=area.arealbruksstatus,
        arealbruksstatus_name=codes.arealbruksstatus.get(area.arealbruksstatus)
        if area.arealbruksstatus is not None
        else None,
        purpose_group=area.purpose_group,
        purpose_group_label=groups.get(area.purpose_group, {}).get("label", area.purpose_group),
        area_m2=area.area_m2,
        built_m2=area.built_m2,
        reserve_m2=area.unbuilt_m2,
        building_count=area.building_count,
        lots=area.lots,
        conflict_m2=area.conflict_m2,
        conflict_share_pct=_pct(area.conflict_m2, area.unbuilt_m2),
        weight_m2=weight,
        guidelines=lines,
    )


def planvask_entries(
    session: Session,
    account: LandAccountOrm,
    method: LandAccountMethod,
    weighted: list[tuple[str, float, LandAccountAreaOrm]],
    message_limit: int | None = None,
) -> list[PlanvaskEntry]:
    """The given weighted reserves (weighted_areas) as entries ranked from 1, with their
    guidelines' findings quoted (at most `message_limit` per guideline)."""
    findings = _quoted_findings(session, account.id, [area.id for _, _, area in weighted])
    return [
        _entry(rank, section, weight, area, account, method, findings, message_limit)
        for rank, (section, weight, area) in enumerate(weighted, start=1)
    ]


def _rule_summaries(
    account: LandAccountOrm,
    method: LandAccountMethod,
    weighted: list[tuple[str, float, LandAccountAreaOrm]],
) -> list[RuleSummary]:
    """Each guideline's figures from the account's totals, and how many reserves it finds to
    adapt."""
    to_adapt: dict[str, int] = {}
    for _, _, area in weighted:
        for rule_id, figures in area.conflicts.items():
            if figures.get("warning_m2", 0.0) > 0:
                to_adapt[rule_id] = to_adapt.get(rule_id, 0) + 1
    return [
        RuleSummary(
            rule_id=rule_id,
            title=figures.get("title", rule_id),
            paragraph=figures.get("paragraph", ""),
            conflict_m2=figures["conflict_m2"],
            conflict_share_pct=figures["conflict_share_pct"],
            reserves_in_conflict=figures["reserves_in_conflict"],
            warning_m2=figures["warning_m2"],
            reserves_to_adapt=to_adapt.get(rule_id, 0),
            unknown_m2=figures["unknown_m2"],
            action=method.actions.get(rule_id),
            adaptation=method.action(rule_id, "warning"),
        )
        for rule_id, figures in account.totals.get("by_rule", {}).items()
    ]


class PlanvaskMaps(maps.ReportMaps):
    """Draws the planvask's maps with the report styles: the reserves (by arealformål, labelled
    with their rank) and the parts in conflict or to adapt, from a stored land account."""

    def __init__(
        self,
        session: Session,
        settings: Settings,
        catalog: dict[str, WmsLayer],
        account_id: int,
        area_ids: list[int],
        ranks: dict[int, int],
        layer_versions: dict[tuple[str, int], LayerVersionOrm],
    ):
        # No proposal version or check: the plan and findings layers are replaced below.
        super().__init__(session, settings, catalog, -1, -1, layer_versions)
        self._account_id = int(account_id)
        ids = ",".join(str(int(i)) for i in area_ids) or "-1"
        labels = " ".join(f"WHEN {int(i)} THEN '{int(r)}'" for i, r in ranks.items())
        label = f"CASE a.id {labels} END" if labels else "NULL::text"
        # Our own numbers only (ids and ranks); names from layer files never reach the SQL.
        self._plan = replace(
            catalog["proposals"],
            name="plan",
            sql=(
                "(SELECT a.id, a.geom, 'arealformal'::text AS kind, a.arealformal, "
                "a.arealbruksstatus, NULL::int AS hensynssone, "
                f"{label} AS feltnavn FROM land_account_area a "
                f"WHERE a.account_id = {self._account_id} AND a.id IN ({ids}) "
                "AND a.geom IS NOT NULL) AS t"
            ),
        )
        self._labels = replace(
            self._plan, name="plan_labels", style_file=maps.LABEL_STYLE, extra_styles=()
        )

    def _findings_layer(self, severity: str, where: str) -> WmsLayer:
        """The parts of the reserves a severity concerns: a finding's polygon within its
        reserve, or the whole reserve for a finding drawn as a line or not at all (as the
        account measured them, spatial.land_account)."""
        maps.known_severity(severity)
        return replace(
            self._catalog["findings_conflict"],
            name=f"findings_{severity}",
            sql=(
                "(SELECT f.id, CASE WHEN f.geom IS NULL OR ST_Dimension(f.geom) < 2 "
                "THEN a.geom ELSE ST_Intersection(f.geom, a.geom) END AS geom, f.severity "
                "FROM land_account_finding f JOIN land_account_area a ON a.id = f.area_id "
                f"WHERE f.account_id = {self._account_id} AND a.geom IS NOT NULL "
                f"AND f.severity = '{severity}' {where}) AS t"
            ),
        )

    def planvask_overview(self, extent: maps.BBox, area_ids: list[int]) -> maps.RenderedMap:
        """Draw the reserves to wash with their parts in conflict and to adapt."""
        bbox = maps.fit_bbox(extent, maps.OVERVIEW_SIZE, 0.08, maps.MIN_OVERVIEW_SPAN_M)
        municipalities = self._catalog["municipalities"]
        if self._base_names is not None:
            municipalities = replace(municipalities, extra_styles=())
        where = _in("f.area_id", area_ids)
        layers = [
            self._plan,
            *(self._findings_layer(s, where) for s in reversed(SECTIONS)),
            municipalities,
        ]
        return self._render(("overview",), layers, bbox, maps.OVERVIEW_SIZE)

    def reserve_detail(
        self, area_id: int, extent: maps.BBox, layer_refs: list[dict[str, Any]]
    ) -> maps.RenderedMap | None:
        """Draw one reserve with the guideline layers its findings read; None when the
        report's map budget is spent."""
        key = ("reserve", area_id)
        if key not in self._cache:
            if self.details_drawn >= maps.MAX_DETAIL_MAPS or time.monotonic() > self._deadline:
                return None
            self.details_drawn += 1
        bbox = maps.fit_bbox(extent, maps.DETAIL_SIZE, 0.25, maps.MIN_DETAIL_SPAN_M)
        refs = sorted(
            {(r["layer_id"], r["version"]) for r in layer_refs if r.get("version") is not None},
            key=lambda ref: (self._catalog.get(ref[0], self._plan).kind != "raster", ref),
        )
        guideline = [layer for ref in refs if (layer := self._guideline_layer(*ref)) is not None]
        municipalities = replace(self._catalog["municipalities"], extra_styles=())
        where = _in("f.area_id", [area_id])
        parts = [self._findings_layer(s, where) for s in reversed(SECTIONS)]
        outline = replace(
            self._plan,
            name="reserve_focus",
            style_file=FOCUS_STYLE,
            extra_styles=(),
            plan_fill=False,
            sql=(
                "(SELECT a.id, a.geom FROM land_account_area a "
                f"WHERE a.id = {int(area_id)} AND a.geom IS NOT NULL) AS t"
            ),
        )
        layers = [*guideline, self._plan, *parts, outline, municipalities]
        rendered = self._render(key, layers, bbox, maps.DETAIL_SIZE)
        # The outline style's legend row names a check's finding; here it is the reserve.
        focus = {rule.get("name") for rule in style_rules(FOCUS_STYLE, FOCUS_STYLE)}
        legend = tuple(
            replace(e, label=RESERVE_OUTLINE_LABEL) if e.label in focus else e
            for e in rendered.legend
        )
        return replace(rendered, legend=legend)


def _in(column: str, ids: list[int]) -> str:
    """An SQL condition on our own integer ids."""
    return f"AND {column} IN ({','.join(str(int(i)) for i in ids) or '-1'})"


def _area_extents(session: Session, area_ids: list[int]) -> dict[int, maps.BBox]:
    """The bounding box of each reserve, by area id."""
    if not area_ids:
        return {}
    geom = LandAccountAreaOrm.geom
    rows = session.execute(
        select(LandAccountAreaOrm.id, *maps.bounds_columns(geom)).where(
            LandAccountAreaOrm.id.in_(area_ids), geom.is_not(None)
        )
    )
    return {row[0]: tuple(row[1:]) for row in rows}  # type: ignore[misc]


def _layer_refs(session: Session, account_id: int, area_id: int) -> list[dict[str, Any]]:
    """The guideline layers the reserve's conflicts and warnings were found in."""
    rows = session.scalars(
        select(LandAccountFindingOrm.layer_refs).where(
            LandAccountFindingOrm.account_id == account_id,
            LandAccountFindingOrm.area_id == area_id,
            LandAccountFindingOrm.severity.in_(SECTIONS),
        )
    )
    return [ref for refs in rows for ref in refs]


def _draw_maps(
    session: Session,
    settings: Settings,
    account: LandAccountOrm,
    layer_rows: dict[tuple[str, int], LayerVersionOrm],
    entries: list[PlanvaskEntry],
    all_ids: list[int],
) -> tuple[maps.RenderedMap | None, int]:
    """Draw the overview of every reserve to wash and a detail map of each detailed entry
    (within the maps' bounds); return how many detailed entries were left without a map."""
    extents = _area_extents(session, all_ids)
    extent = maps.union_bbox(list(extents.values()))
    if extent is None:
        return None, 0
    ranks = {entry.area_id: entry.rank for entry in entries}
    catalog = wms_layers(session, settings, get_rule_set(settings))
    # Every reserve to wash is drawn; only the detailed ones carry their rank as a label.
    drawer = PlanvaskMaps(session, settings, catalog, account.id, list(extents), ranks, layer_rows)
    overview = drawer.planvask_overview(extent, list(extents))
    left_out = 0
    for entry in entries:
        box = extents.get(entry.area_id)
        if box is None:
            continue
        refs = _layer_refs(session, account.id, entry.area_id)
        entry.map = drawer.reserve_detail(entry.area_id, box, refs)
        if entry.map is None:
            left_out += 1
    return overview, left_out


def build_planvask(
    session: Session,
    settings: Settings,
    account: LandAccountOrm,
    on: date | None = None,
    with_maps: bool = True,
    base_url: str = "",
) -> PlanvaskReport:
    """Gather a land account's planvask: header, figures, the reserves to wash heaviest first
    (MAX_DETAILED_ENTRIES in detail, MAX_TABLE_ENTRIES more in a table) and the maps."""
    method = get_method(settings)
    rule_set = get_rule_set(settings)
    municipality = session.get(MunicipalityOrm, account.kommunenummer)
    weighted = weighted_areas(session, account)
    entries = planvask_entries(
        session, account, method, weighted[: MAX_DETAILED_ENTRIES + MAX_TABLE_ENTRIES], MAX_MESSAGES
    )
    detailed, table = entries[:MAX_DETAILED_ENTRIES], entries[MAX_DETAILED_ENTRIES:]
    layers, layer_rows = layer_uses(session, account.layer_versions or {})
    overview, maps_left_out = None, 0
    if with_maps:
        all_ids = [area.id for _, _, area in weighted]
        overview, maps_left_out = _draw_maps(
            session, settings, account, layer_rows, detailed, all_ids
        )
    codes = get_codelists()
    params = method.params
    query = f"?date={on.isoformat()}" if on is not None else ""
    base = f"/api/v1/land-account/{account.kommunenummer}"
    conflict_total = sum(1 for section, _, _ in weighted if section == "conflict")
    return PlanvaskReport(
        account_id=account.id,
        kommunenummer=account.kommunenummer,
        municipality=municipality.name if municipality else account.kommunenummer,
        computed_at=account.computed_at,
        trigger=account.trigger,
        on=on,
        method_id=account.method_id,
        method_version=account.method_version,
        method_checksum=account.method_checksum,
        method_title=method.title,
        method_source=method.source,
        method_changed=method.checksum != account.method_checksum,
        built_buffer_m=params.built_buffer_m,
        reserve_statuses=[
            codes.arealbruksstatus.get(code, str(code)).lower()
            for code in sorted(params.reserve_status)
        ],
        not_built_statuses=sorted(params.not_built_statuses),
        min_reserve_width_m=params.min_reserve_width_m,
        min_reserve_m2=params.min_reserve_m2,
        rule_set_id=account.rule_set_id,
        rule_set_version=account.rule_set_version,
        rule_set_checksum=account.rule_set_checksum,
        rule_set_changed=rule_set.checksum != account.rule_set_checksum,
        layers=layers,
        notes=list(account.notes or []),
        totals=account.totals,
        rules=_rule_summaries(account, method, weighted),
        entries=detailed,
        table=table,
        entries_total=len(weighted),
        conflict_total=conflict_total,
        warning_total=len(weighted) - conflict_total,
        overview=overview,
        maps_left_out=maps_left_out,
        generated_at=datetime.now().astimezone(),
        links={
            "html": f"{base}/planvask.html{query}",
            "pdf": f"{base}/planvask.pdf{query}",
            "geojson": f"{base}/planvask.geojson{query}",
            "account": f"{base}{query}",
            "reserves": f"{base}/reserves{query}",
        },
        base_url=base_url.rstrip("/"),
        max_detail_maps=maps.MAX_DETAIL_MAPS,
    )


def _joined(lines: list[GuidelineLine], text: Any) -> str:
    """One text per guideline, «G1: …», a line each (for a GIS attribute table)."""
    return "\n".join(f"{line.rule_id}: {value}" for line in lines if (value := text(line)))


def entry_properties(entry: PlanvaskEntry, rule_ids: list[str]) -> dict[str, Any]:
    """The GeoJSON properties of an entry: stable keys, bokmål text for people, and a column
    per guideline of the method (zero where it finds nothing) so every feature has them all."""
    by_rule = {line.rule_id: line for line in entry.guidelines}
    properties: dict[str, Any] = {
        "rank": entry.rank,
        "severity": entry.severity,
        "severity_label": SEVERITY_LABELS[entry.severity],
        "name": entry.name,
        "planidentifikasjon": entry.planidentifikasjon,
        "arealformal": entry.arealformal,
        "arealformal_name": entry.arealformal_name,
        "arealbruksstatus": entry.arealbruksstatus,
        "arealbruksstatus_name": entry.arealbruksstatus_name,
        "purpose_group": entry.purpose_group,
        "purpose_group_label": entry.purpose_group_label,
        "area_m2": entry.area_m2,
        "built_m2": entry.built_m2,
        "reserve_m2": entry.reserve_m2,
        "building_count": entry.building_count,
        "lots": entry.lots,
        "conflict_m2": entry.conflict_m2,
        "conflict_share_pct": entry.conflict_share_pct,
        "weight_m2": entry.weight_m2,
        "guidelines": ", ".join(entry.rule_ids),
    }
    for rule_id in rule_ids:
        line = by_rule.get(rule_id)
        prefix = rule_id.lower()
        properties[f"{prefix}_conflict_m2"] = line.conflict_m2 if line else 0.0
        properties[f"{prefix}_conflict_share_pct"] = line.conflict_share_pct if line else 0.0
        properties[f"{prefix}_warning_m2"] = line.warning_m2 if line else 0.0
        properties[f"{prefix}_warning_share_pct"] = line.warning_share_pct if line else 0.0
        properties[f"{prefix}_unknown_m2"] = line.unknown_m2 if line else 0.0
    lines = entry.guidelines
    properties.update(
        paragraphs=_joined(lines, lambda line: f"{line.title} ({line.paragraph})"),
        actions=_joined(lines, lambda line: line.action),
        messages=_joined(lines, lambda line: " ".join(f.message for f in line.findings)),
        finding_actions=_joined(
            lines,
            lambda line: " ".join(
                dict.fromkeys(f.suggested_action for f in line.findings if f.severity in SECTIONS)
            ),
        ),
        source_key=entry.feature_key,
    )
    return properties


def planvask_features(
    session: Session, account: LandAccountOrm, settings: Settings, srid: int
) -> list[dict[str, Any]]:
    """Every entry of the planvask as a GeoJSON feature (the reserve's unbuilt part in
    `srid`), in the report's order."""
    method = get_method(settings)
    entries = planvask_entries(session, account, method, weighted_areas(session, account))
    ids = [entry.area_id for entry in entries]
    geometries = dict(
        session.execute(
            select(LandAccountAreaOrm.id, geometry_json(LandAccountAreaOrm.geom, srid)).where(
                LandAccountAreaOrm.id.in_(ids or [-1])
            )
        ).all()
    )
    rule_ids = list(account.totals.get("by_rule", {})) or list(method.params.rules)
    return [
        {
            "type": "Feature",
            "id": entry.rank,
            "properties": entry_properties(entry, rule_ids),
            "geometry": geometries.get(entry.area_id),
        }
        for entry in entries
    ]


def render_planvask(report: PlanvaskReport) -> str:
    """The planvask as a self-contained HTML page in bokmål (maps inline)."""
    return render_html(
        "reports/planvask.html",
        r=report,
        kartverket=KARTVERKET,
        m2=fmt_m2,
        daa=fmt_daa,
        pct=fmt_pct,
        metres=fmt_m,
    )
