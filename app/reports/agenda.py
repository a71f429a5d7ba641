"""The regional plan forum's meeting agenda: proposals checked in a period, and their findings."""

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from app.check_runner import get_rule_set
from app.reports.data import without_layer_ids
from app.repositories import forum as repo
from app.repositories.proposals import proposal_key
from app.settings import Settings
from spatial.codelists import get_codelists
from spatial.rules.model import SEVERITIES

# The findings that need the forum's decision: possible objections, warnings, and what could
# not be checked (never to be read as ok).
AGENDA_SEVERITIES = ("conflict", "warning", "unknown")
# Statuses the forum has not settled yet; these findings are what the meeting discusses.
TO_DISCUSS = ("open", "discussed")
# A review status the forum has concluded, as the agenda words the conclusion.
CONCLUSIONS = {
    "objection": "Innsigelse",
    "change_required": "Krever endring",
    "accepted": "Godtatt som den er",
}
# What the agenda proposes for a finding the forum has not concluded, from its severity.
PROPOSED_CONCLUSIONS = {
    "conflict": "Forslag: vurdere innsigelse",
    "warning": "Forslag: be om endring eller begrunnelse i planen",
    "unknown": "Forslag: be om ny kontroll når kartgrunnlaget er på plass",
}
# Bounds the work and size of one agenda whatever the checks hold (issue 16): proposals on
# the agenda, findings listed per proposal (to discuss, and settled), and rows in all. The
# agenda says what it leaves out and links each check's report and findings, which have them
# all. Module constants until they are settings.
MAX_AGENDA_PROPOSALS = 100
MAX_FINDINGS_PER_PROPOSAL = 50
MAX_AGENDA_ROWS = 600


@dataclass
class AgendaFinding:
    """A conflict or warning as the agenda lists it."""

    id: int
    severity: str
    rule_id: str
    rule_title: str
    paragraph: str
    plan_feature_names: list[str]
    message: str
    suggested_action: str
    review: dict[str, Any]

    @property
    def concluded(self) -> bool:
        """True when the forum has concluded (objection, change required, accepted)."""
        return self.review["status"] in CONCLUSIONS

    @property
    def conclusion(self) -> str:
        """The forum's conclusion, or the agenda's proposal for one from the severity."""
        return CONCLUSIONS.get(self.review["status"]) or PROPOSED_CONCLUSIONS[self.severity]


@dataclass
class AgendaProposal:
    """A proposal on the agenda: its latest checked version and what the check found."""

    proposal_id: str
    planidentifikasjon: str
    plannavn: str | None
    plantype: int
    plantype_name: str | None
    version: int
    check_id: int
    finished_at: datetime | None
    counts: dict[str, int]
    saksnummer: str | None = None
    # The case and record the case system gave with the checked version (Noark 5), if any.
    version_saksnummer: str | None = None
    version_journalpost_id: str | None = None
    draft: bool = False
    item_number: int = 0
    meeting_year: int = 0
    base_url: str = ""
    to_discuss: list[AgendaFinding] = field(default_factory=list)
    settled: list[AgendaFinding] = field(default_factory=list)
    to_discuss_total: int = 0
    settled_total: int = 0

    @property
    def item_label(self) -> str:
        """The item's number on the agenda: its saksnummer, else the meeting's running number."""
        if self.saksnummer:
            return f"Sak {self.saksnummer}"
        return f"Møtesak {self.item_number}/{self.meeting_year % 100:02d}"

    @property
    def report_html(self) -> str:
        """Link to the check's conflict report, from the configured public URL."""
        return f"{self.base_url}/api/v1/checks/{self.check_id}/report.html"

    @property
    def report_pdf(self) -> str:
        """Link to the check's conflict report as PDF."""
        return f"{self.base_url}/api/v1/checks/{self.check_id}/report.pdf"

    @property
    def findings(self) -> str:
        """Link to the check's findings as GeoJSON."""
        return f"{self.base_url}/api/v1/checks/{self.check_id}/findings"


@dataclass
class AgendaMunicipality:
    """A municipality's proposals on the agenda."""

    kommunenummer: str
    name: str
    proposals: list[AgendaProposal] = field(default_factory=list)


@dataclass
class Agenda:
    """The agenda of a forum meeting for the checks finished in a period."""

    first: date | None
    last: date | None
    municipalities: list[AgendaMunicipality]
    generated_at: datetime
    query: str
    base_url: str = ""
    proposals_total: int = 0
    meeting_date: date | None = None

    @property
    def pdf_link(self) -> str:
        """The agenda as PDF, from the configured public URL."""
        return f"{self.base_url}/api/v1/forum/agenda.pdf{self.query}"

    @property
    def drafts(self) -> int:
        """Proposals on the agenda that are drafts (not published)."""
        return sum(1 for p in self.proposals if p.draft)

    @property
    def proposals(self) -> list[AgendaProposal]:
        """Every proposal on the agenda."""
        return [p for m in self.municipalities for p in m.proposals]

    def total(self, severity: str) -> int:
        """Findings of one severity across the agenda."""
        return sum(p.counts.get(severity, 0) for p in self.proposals)

    @property
    def to_discuss(self) -> int:
        """Conflicts and warnings the forum has not settled."""
        return sum(p.to_discuss_total for p in self.proposals)

    @property
    def proposals_left_out(self) -> int:
        """Proposals checked in the period that the agenda does not show."""
        return self.proposals_total - len(self.proposals)


def build_agenda(
    session: Session,
    settings: Settings,
    first: date | None,
    last: date | None,
    kommunenummer: tuple[str, ...] = (),
    query: str = "",
    base_url: str = "",
    meeting_date: date | None = None,
) -> Agenda:
    """Gather the proposals whose latest check finished between two dates (inclusive), at
    most MAX_AGENDA_PROPOSALS of them and MAX_AGENDA_ROWS findings listed; links are built
    from `base_url` (the configured public URL)."""
    base_url = base_url.rstrip("/")
    generated_at = datetime.now().astimezone()
    meeting_year = (meeting_date or generated_at.date()).year
    all_checks = repo.agenda_checks(session, first, last, kommunenummer)
    checks = all_checks[:MAX_AGENDA_PROPOSALS]
    rows_left = MAX_AGENDA_ROWS
    findings = repo.agenda_findings(session, [c.check.id for c in checks], AGENDA_SEVERITIES)
    rule_titles = {rule.id: rule.title for rule in get_rule_set(settings).rules}
    plantypes = get_codelists().plantype
    municipalities: dict[str, AgendaMunicipality] = {}
    for number, item in enumerate(checks, start=1):
        proposal, version, check = item.proposal, item.version, item.check
        by_severity = (check.summary or {}).get("by_severity", {})
        entry = AgendaProposal(
            proposal_id=proposal_key(proposal.kommunenummer, proposal.planidentifikasjon),
            planidentifikasjon=proposal.planidentifikasjon,
            plannavn=version.plannavn or proposal.plannavn,
            plantype=version.plantype,
            plantype_name=plantypes.get(version.plantype),
            version=version.version,
            check_id=check.id,
            finished_at=check.finished_at,
            counts={s: int(by_severity.get(s, 0)) for s in SEVERITIES},
            saksnummer=proposal.saksnummer,
            version_saksnummer=version.saksnummer,
            version_journalpost_id=version.journalpost_id,
            draft=proposal.published_at is None,
            item_number=number,
            meeting_year=meeting_year,
            base_url=base_url,
        )
        for found in findings.get(check.id, []):
            row, review = found["finding"], found["review"]
            if review["status"] in TO_DISCUSS:
                entry.to_discuss_total += 1
                target = entry.to_discuss
            else:
                entry.settled_total += 1
                target = entry.settled
            if len(target) >= MAX_FINDINGS_PER_PROPOSAL or rows_left <= 0:
                continue
            rows_left -= 1
            target.append(
                AgendaFinding(
                    id=row.id,
                    severity=row.severity,
                    rule_id=row.rule_id,
                    rule_title=rule_titles.get(row.rule_id, row.rule_id),
                    paragraph=row.paragraph,
                    plan_feature_names=list(row.plan_feature_names),
                    message=without_layer_ids(row.message),
                    suggested_action=without_layer_ids(row.suggested_action),
                    review=review,
                )
            )
        group = municipalities.setdefault(
            proposal.kommunenummer, AgendaMunicipality(proposal.kommunenummer, item.municipality)
        )
        group.proposals.append(entry)
    return Agenda(
        first=first,
        last=last,
        municipalities=list(municipalities.values()),
        generated_at=generated_at,
        query=query,
        base_url=base_url,
        proposals_total=len(all_checks),
        meeting_date=meeting_date,
    )
