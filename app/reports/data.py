"""Gathering what a check's conflict report shows."""

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi import HTTPException
from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from app.check_runner import RuleSetUnavailableError, check_rule_set, get_rule_set
from app.reports import maps
from app.reports.formatting import LONG_VALUE, check_label, measure_rows
from app.repositories import checks as checks_repo
from app.repositories import forum as forum_repo
from app.repositories.forum import severity_rank
from app.repositories.land_accounts import cabin_areas
from app.repositories.proposals import proposal_key
from app.settings import Settings
from app.urls import absolute
from app.wms.catalog import wms_layers
from db.models import (
    CheckFindingOrm,
    LayerFeatureOrm,
    LayerVersionOrm,
    MunicipalityOrm,
    PlanCheckOrm,
)
from layers.registry import get_registry
from spatial.codelists import get_codelists
from spatial.rules.model import SEVERITIES
from spatial.rules.ruleset import RuleSet
from spatial.rules.text import unnamed

DEMO_LICENCE = "synthetic demo data"
KARTVERKET = "Kommunegrenser © Kartverket, CC BY 4.0"
MAX_LISTED_KEYS = 12
# Bounds the work and size of one report whatever its check holds (issue 16): a planner may
# publish a plan whose check has thousands of findings, and laying out a page per finding
# took WeasyPrint minutes and gigabytes. The most serious findings are shown in detail (the
# first MAX_DETAIL_MAPS of them with a map), the next ones as rows of a compact table, and
# the report says how many it leaves out and links the findings GeoJSON, which has them all.
# WeasyPrint's layout time grows with every detailed finding and table row, so capping both
# bounds a report's layout time whatever the check holds.
# Module constants until they are settings (report_max_detailed_findings, ...).
MAX_DETAILED_FINDINGS = 50
MAX_TABLE_FINDINGS = 200
MAX_UNKNOWN_ROWS = 100
# Keys and characters of a finding as a compact table row shows it.
TABLE_NAMES = 3
TABLE_MESSAGE_CHARS = 160


@dataclass
class LayerUse:
    """A guideline layer as a check used it: its version and provenance, or not loaded."""

    layer_id: str
    title: str
    guidelines: list[str]
    version: int | None
    source: str | None = None
    source_date: Any = None
    licence: str | None = None
    loaded_at: datetime | None = None
    checksum: str | None = None

    @property
    def is_demo(self) -> bool:
        """True for the synthetic demo layers."""
        return self.licence == DEMO_LICENCE


@dataclass
class SourceGroup:
    """Layers that share a source and a licence."""

    source: str | None
    licence: str | None
    layers: list[LayerUse]

    @property
    def is_demo(self) -> bool:
        """True for the synthetic demo layers."""
        return self.licence == DEMO_LICENCE


@dataclass
class FindingView:
    """A finding as the report shows it."""

    id: int
    rule_id: str
    rule_title: str
    check: str
    check_title: str
    paragraph: str
    severity: str
    plan_feature_names: list[str]
    layers: list[str]
    measures: list[tuple[str, str]]
    message: str
    suggested_action: str
    reason: str | None
    review: dict[str, Any] | None
    map: maps.RenderedMap | None = None

    @property
    def short_measures(self) -> list[tuple[str, str]]:
        """Figures that fit two to a row."""
        return [m for m in self.measures if len(m[1]) <= LONG_VALUE]

    @property
    def long_measures(self) -> list[tuple[str, str]]:
        """Figures (mostly text) that need a row of their own."""
        return [m for m in self.measures if len(m[1]) > LONG_VALUE]


@dataclass
class TableFinding:
    """A finding as a row of the compact table, for findings past the detailed ones."""

    id: int
    rule_id: str
    severity: str
    plan_feature_names: list[str]
    message: str
    review_status: str | None


@dataclass
class SummaryRow:
    """Counts of one guideline's findings per severity."""

    rule_id: str
    title: str
    counts: dict[str, int]

    @property
    def total(self) -> int:
        """All findings of the guideline."""
        return sum(self.counts.values())


@dataclass
class CheckReport:
    """Everything a conflict report shows, in the order it shows it."""

    check_id: int
    kommunenummer: str
    municipality: str
    proposal_id: str
    planidentifikasjon: str
    plannavn: str | None
    plantype: int
    plantype_name: str | None
    planstatus: int | None
    planstatus_name: str | None
    version: int
    uploaded_at: datetime
    source_filename: str | None
    feature_count: int
    created_at: datetime
    finished_at: datetime | None
    rule_set_id: str
    rule_set_version: str
    rule_set_checksum: str
    rule_set_title: str | None
    rule_set_changed: bool
    layers: list[LayerUse]
    summary: list[SummaryRow]
    totals: dict[str, int]
    findings: list[FindingView]
    table: list[TableFinding]
    findings_total: int
    unknown: list[FindingView]
    unknown_total: int
    overview: maps.RenderedMap | None
    maps_left_out: int
    generated_at: datetime
    links: dict[str, str] = field(default_factory=dict)
    base_url: str = ""
    max_detail_maps: int = 0
    # New cabin areas beside the adopted ones' remaining capacity (land_accounts.cabin_areas).
    cabin_areas: dict[str, Any] | None = None
    # The case and record of the case system the check belongs to (Noark 5), when given.
    saksnummer: str | None = None
    journalpost_id: str | None = None

    @property
    def not_detailed(self) -> int:
        """Findings not shown in detail (in the compact table or left out)."""
        return self.findings_total - len(self.findings)

    @property
    def left_out(self) -> int:
        """Findings in neither the detailed list nor the compact table."""
        return self.not_detailed - len(self.table)

    @property
    def title(self) -> str:
        """The report's title line."""
        return f"Konfliktrapport: {self.plannavn or self.proposal_id}"

    @property
    def not_loaded(self) -> list[LayerUse]:
        """Layers the check needed but found no version of."""
        return [layer for layer in self.layers if layer.version is None]

    @property
    def loaded(self) -> list[LayerUse]:
        """Layers the check read, with their versions."""
        return [layer for layer in self.layers if layer.version is not None]

    @property
    def source_groups(self) -> list[SourceGroup]:
        """The loaded layers grouped by source and licence, so shared provenance shows once."""
        return group_sources(self.loaded)

    @property
    def has_demo_data(self) -> bool:
        """True when any layer used is synthetic demo data."""
        return any(layer.is_demo for layer in self.layers)


def group_sources(layers: list[LayerUse]) -> list[SourceGroup]:
    """Layers grouped by source and licence, so that shared provenance shows once."""
    groups: dict[tuple[str | None, str | None], SourceGroup] = {}
    for layer in layers:
        key = (layer.source, layer.licence)
        groups.setdefault(key, SourceGroup(*key, layers=[])).layers.append(layer)
    return list(groups.values())


def check_ready(check: PlanCheckOrm) -> None:
    """Raise 409 unless the check is done (a queued, running or failed check has no report)."""
    if check.status in ("queued", "running"):
        raise HTTPException(
            409, f"check {check.id} is {check.status}; the report is ready when it is done"
        )
    if check.status != "done":
        raise HTTPException(409, f"check {check.id} failed ({check.error}); there is no report")


def _rule_set_of(session: Session, check: PlanCheckOrm, settings: Settings) -> RuleSet:
    """Return the rule set the check ran, or the configured one when its text is not stored."""
    try:
        return check_rule_set(session, check, settings)
    except RuleSetUnavailableError:
        # A check from before rule sets were stored, under another rule set than today's:
        # the report still shows it, marked as made under a changed rule set.
        return get_rule_set(settings)


def layer_uses(
    session: Session, layer_versions: dict[str, int | None]
) -> tuple[list[LayerUse], dict[tuple[str, int], LayerVersionOrm]]:
    """The layers a check or land account used, as a report lists them, and their rows."""
    wanted = [(k, v) for k, v in layer_versions.items() if v is not None]
    rows: dict[tuple[str, int], LayerVersionOrm] = {}
    if wanted:
        found = session.execute(
            select(LayerVersionOrm).where(
                tuple_(LayerVersionOrm.layer_id, LayerVersionOrm.version).in_(wanted)
            )
        ).scalars()
        rows = {(row.layer_id, row.version): row for row in found}
    registry = get_registry()
    uses = []
    for layer_id, version in sorted(layer_versions.items()):
        config = registry.get(layer_id)
        use = LayerUse(
            layer_id=layer_id,
            title=config.title if config else layer_id,
            guidelines=list(config.guidelines) if config else [],
            version=version,
        )
        row = rows.get((layer_id, version)) if version is not None else None
        if row is not None:
            use.source, use.source_date, use.licence = row.source, row.source_date, row.licence
            use.loaded_at, use.checksum = row.loaded_at, row.checksum
        uses.append(use)
    return uses, rows


def _listed(keys: list[str]) -> list[str]:
    if len(keys) <= MAX_LISTED_KEYS:
        return keys
    return [*keys[:MAX_LISTED_KEYS], f"og {len(keys) - MAX_LISTED_KEYS} til"]


def layer_feature_names(session: Session, rows: list[CheckFindingOrm]) -> dict[int, str]:
    """The name attribute of each layer feature the findings refer to, by stored id."""
    ids = {int(i) for row in rows for ref in row.layer_refs for i in ref.get("feature_ids") or []}
    if not ids:
        return {}
    found = session.execute(
        select(LayerFeatureOrm.id, LayerFeatureOrm.attributes["name"].astext).where(
            LayerFeatureOrm.id.in_(sorted(ids)), LayerFeatureOrm.attributes.has_key("name")
        )
    )
    return {row[0]: row[1] for row in found if row[1] and row[1].strip()}


def feature_words(feature_id: int | None, key: str, names: dict[int, str]) -> str:
    """A layer feature as a planner reads it: «its name», else «objekt 3» (never the layer id)."""
    name = names.get(feature_id) if feature_id is not None else None
    if name:
        return f"«{name.strip()}»"
    return unnamed(key)


def _layer_lines(
    refs: list[dict[str, Any]], titles: dict[str, str], names: dict[int, str]
) -> list[str]:
    lines = []
    for ref in refs:
        layer_id = ref["layer_id"]
        title = titles.get(layer_id) or layer_title(layer_id)
        version = f"versjon {ref['version']}" if ref.get("version") else "ikke lastet"
        keys = [str(k) for k in ref.get("feature_keys") or []]
        ids = list(ref.get("feature_ids") or [])
        ids += [None] * (len(keys) - len(ids))
        words = [feature_words(i, k, names) for i, k in zip(ids, keys, strict=False)]
        listed = ", ".join(_listed(words))
        lines.append(f"{title} ({version})" + (f": {listed}" if listed else ""))
    return lines


def layer_title(layer_id: str) -> str:
    """A guideline layer's title from the registry (the id only for an unknown layer)."""
    config = get_registry().get(layer_id)
    return config.title if config else layer_id


_LAYER_MENTION = re.compile(r"(kartlaget )«?([a-z][a-z0-9_]{1,40})»?")


def without_layer_ids(text: str) -> str:
    """Name guideline layers in a rule's text by title: «kartlaget elevation» reads
    «kartlaget «Terrengmodell …»». The JSON keeps the rule's own words."""

    def title(match: re.Match[str]) -> str:
        config = get_registry().get(match.group(2))
        if config is None:
            return match.group(0)
        return f"{match.group(1)}«{config.title}»"

    return _LAYER_MENTION.sub(title, text)


def _finding_view(
    row: CheckFindingOrm,
    rule_titles: dict[str, str],
    layer_titles: dict[str, str],
    reviews: dict[int, dict[str, Any]],
    names: dict[int, str],
) -> FindingView:
    reason = row.measures.get("reason") if row.severity == "unknown" else None
    return FindingView(
        id=row.id,
        rule_id=row.rule_id,
        rule_title=rule_titles.get(row.rule_id, row.rule_id),
        check=row.check,
        check_title=check_label(row.check),
        paragraph=row.paragraph,
        severity=row.severity,
        plan_feature_names=_listed(list(row.plan_feature_names)),
        layers=_layer_lines(row.layer_refs, layer_titles, names),
        measures=measure_rows(row.measures),
        message=without_layer_ids(row.message),
        suggested_action=without_layer_ids(row.suggested_action),
        reason=without_layer_ids(str(reason)) if reason else None,
        review=reviews.get(row.id),
    )


def _shortened(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _table_finding(row: CheckFindingOrm, reviews: dict[int, dict[str, Any]]) -> TableFinding:
    names = list(row.plan_feature_names)
    if len(names) > TABLE_NAMES:
        names = [*names[:TABLE_NAMES], f"og {len(names) - TABLE_NAMES} til"]
    review = reviews.get(row.id)
    return TableFinding(
        id=row.id,
        rule_id=row.rule_id,
        severity=row.severity,
        plan_feature_names=names,
        message=_shortened(without_layer_ids(row.message), TABLE_MESSAGE_CHARS),
        review_status=review["status"] if review else None,
    )


def _report_rows(
    session: Session, check_id: int, severity: str | None, limit: int
) -> tuple[list[CheckFindingOrm], int]:
    """Return a check's first `limit` findings that are not ok, most serious first (or of
    one severity), and how many there are in all."""
    where = [CheckFindingOrm.check_id == check_id, CheckFindingOrm.severity != "ok"]
    if severity is not None:
        where.append(CheckFindingOrm.severity == severity)
    total = session.execute(select(func.count(CheckFindingOrm.id)).where(*where)).scalar_one()
    rows = session.execute(
        select(CheckFindingOrm)
        .where(*where)
        .order_by(
            severity_rank(CheckFindingOrm.severity),
            CheckFindingOrm.rule_id,
            CheckFindingOrm.position,
        )
        .limit(limit)
    ).scalars()
    return list(rows), total


def _summary(
    check: PlanCheckOrm, rule_titles: dict[str, str]
) -> tuple[list[SummaryRow], dict[str, int]]:
    by_rule: dict[str, dict[str, int]] = (check.summary or {}).get("by_rule", {})
    rule_ids = sorted(set(rule_titles) | set(by_rule))
    rows = [
        SummaryRow(
            rule_id,
            rule_titles.get(rule_id, rule_id),
            {s: int(by_rule.get(rule_id, {}).get(s, 0)) for s in SEVERITIES},
        )
        for rule_id in rule_ids
    ]
    totals = {s: sum(r.counts[s] for r in rows) for s in SEVERITIES}
    return rows, totals


def build_report(
    session: Session,
    settings: Settings,
    check_id: int,
    with_maps: bool = True,
    base_url: str = "",
) -> CheckReport:
    """Gather a finished check's report: plan, rule set, layers, summary, findings and maps,
    bounded to MAX_DETAILED_FINDINGS in detail and MAX_TABLE_FINDINGS in a table."""
    check = checks_repo.get_check(session, check_id)
    check_ready(check)
    version = check.version
    proposal = version.proposal
    municipality = session.get(MunicipalityOrm, proposal.kommunenummer)
    rule_set = _rule_set_of(session, check, settings)
    rule_titles = {rule.id: rule.title for rule in rule_set.rules}
    # The notice tells readers that a new check would run other rules than this one did.
    same_rules = get_rule_set(settings).checksum == check.rule_set_checksum
    layers, layer_rows = layer_uses(session, check.layer_versions or {})
    layer_titles = {use.layer_id: use.title for use in layers}
    reviews = forum_repo.reviews_of_check(session, check.id)
    rows, findings_total = _report_rows(
        session, check.id, None, MAX_DETAILED_FINDINGS + MAX_TABLE_FINDINGS
    )
    rows, table_rows = rows[:MAX_DETAILED_FINDINGS], rows[MAX_DETAILED_FINDINGS:]
    unknown_rows, unknown_total = _report_rows(session, check.id, "unknown", MAX_UNKNOWN_ROWS)
    names = layer_feature_names(session, [*rows, *unknown_rows])
    views = [_finding_view(r, rule_titles, layer_titles, reviews, names) for r in rows]
    unknown = [_finding_view(r, rule_titles, layer_titles, reviews, names) for r in unknown_rows]
    summary, totals = _summary(check, rule_titles)
    codes = get_codelists()

    overview = None
    left_out = 0
    if with_maps:
        overview, left_out = _draw_maps(session, settings, check, rule_set, layer_rows, rows, views)

    key = proposal_key(proposal.kommunenummer, proposal.planidentifikasjon)
    base = f"/api/v1/checks/{check.id}"
    measured = session.execute(
        select(CheckFindingOrm.check, CheckFindingOrm.measures).where(
            CheckFindingOrm.check_id == check.id, CheckFindingOrm.check == "above_tree_line"
        )
    ).all()
    return CheckReport(
        check_id=check.id,
        kommunenummer=proposal.kommunenummer,
        municipality=municipality.name if municipality else proposal.kommunenummer,
        proposal_id=key,
        planidentifikasjon=proposal.planidentifikasjon,
        plannavn=version.plannavn or proposal.plannavn,
        plantype=version.plantype,
        plantype_name=codes.plantype.get(version.plantype),
        planstatus=version.planstatus,
        planstatus_name=(
            codes.planstatus.get(version.planstatus) if version.planstatus is not None else None
        ),
        version=version.version,
        uploaded_at=version.uploaded_at,
        source_filename=version.source_filename,
        feature_count=version.feature_count,
        created_at=check.created_at,
        finished_at=check.finished_at,
        rule_set_id=check.rule_set_id,
        rule_set_version=check.rule_set_version,
        rule_set_checksum=check.rule_set_checksum,
        rule_set_title=rule_set.title if rule_set.checksum == check.rule_set_checksum else None,
        rule_set_changed=not same_rules,
        layers=layers,
        summary=summary,
        totals=totals,
        findings=views,
        table=[_table_finding(r, reviews) for r in table_rows],
        findings_total=findings_total,
        unknown=unknown,
        unknown_total=unknown_total,
        overview=overview,
        maps_left_out=left_out,
        generated_at=datetime.now().astimezone(),
        # Absolute: an archived PDF or a saved page is read far from the service.
        links={
            name: absolute(base_url, path)
            for name, path in {
                "html": f"{base}/report.html",
                "pdf": f"{base}/report.pdf",
                "check": base,
                "findings": f"{base}/findings",
                "version": f"/api/v1/proposals/{key}/versions/{version.version}",
            }.items()
        },
        base_url=base_url.rstrip("/"),
        max_detail_maps=maps.MAX_DETAIL_MAPS,
        cabin_areas=cabin_areas(
            session, proposal.kommunenummer, check.finished_at, [tuple(m) for m in measured]
        ),
        saksnummer=check.saksnummer,
        journalpost_id=check.journalpost_id,
    )


def _draw_maps(
    session: Session,
    settings: Settings,
    check: PlanCheckOrm,
    rule_set: RuleSet,
    layer_rows: dict[tuple[str, int], LayerVersionOrm],
    rows: list[CheckFindingOrm],
    views: list[FindingView],
) -> tuple[maps.RenderedMap | None, int]:
    """Draw the overview and up to MAX_DETAIL_MAPS detail maps (within the maps' time budget);
    return how many detailed findings were left without a map."""
    version_id = check.proposal_version_id
    extent = maps.version_extent(session, version_id)
    if extent is None:
        return None, 0
    drawer = maps.ReportMaps(
        session, settings, wms_layers(session, settings, rule_set), version_id, check.id, layer_rows
    )
    finding_boxes = maps.finding_extents(session, check.id)
    extent = maps.union_bbox([extent, *finding_boxes.values()]) or extent
    overview = drawer.overview(extent)
    feature_boxes = maps.feature_extents(session, version_id)
    left_out = 0
    for row, view in zip(rows, views, strict=True):
        has_geometry = row.id in finding_boxes
        if has_geometry:
            box = finding_boxes[row.id]
        else:
            ids = [i for i in row.plan_feature_ids if i in feature_boxes]
            box = maps.union_bbox([feature_boxes[i] for i in ids]) or extent
        highlight = tuple(i for i in row.plan_feature_ids if i in feature_boxes)
        view.map = drawer.detail(row.id, row.severity, box, has_geometry, highlight, row.layer_refs)
        if view.map is None:
            left_out += 1
    return overview, left_out
