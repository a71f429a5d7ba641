"""Norwegian (bokmål) wording and number formats for reports and agendas."""

from datetime import UTC, date, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from layers.registry import get_registry
from spatial.figures import fmt_m, fmt_m2, fmt_masl, fmt_number, fmt_pct, shown, thousands
from spatial.rules.g5_mobility import USE_LABELS
from spatial.rules.text import join_words

try:
    OSLO: tzinfo = ZoneInfo("Europe/Oslo")
except ZoneInfoNotFoundError:  # a slim image without tzdata: better UTC than no report
    OSLO = UTC

SEVERITY_LABELS = {
    "conflict": "Konflikt",
    "warning": "Advarsel",
    "unknown": "Ikke kontrollert",
    "info": "Info",
    "ok": "OK",
}
# How to count findings of a severity: (one, several).
SEVERITY_COUNT_WORDS = {
    "conflict": ("konflikt", "konflikter"),
    "warning": ("advarsel", "advarsler"),
    "unknown": ("ikke kontrollert", "ikke kontrollert"),
    "info": ("info", "info"),
    "ok": ("OK", "OK"),
}
REVIEW_LABELS = {
    "open": "Åpen",
    "discussed": "Drøftet",
    "accepted": "Godtatt som den er",
    "change_required": "Krever endring",
    "objection": "Innsigelse",
}
# How the agenda and pages mark a proposal that is not published.
DRAFT_LABEL = "Utkast – ikke offentlig"
MONTHS = (
    "januar februar mars april mai juni juli august september oktober november desember".split()
)

# Labels of the figures the rules measure (spatial/rules/g*.py); other keys show as named.
MEASURE_LABELS = {
    "area_m2": "Områdets areal",
    "new_area_m2": "Nytt areal",
    "existing_plan_loaded": "Gjeldende kommuneplan lastet",
    "data_coverage_pct": "Dekning av kartdata",
    "above_tree_line_m2": "Areal over skoggrensen",
    "above_tree_line_pct": "Andel over skoggrensen",
    "transition_zone_m2": "Areal i overgangssonen",
    "transition_zone_pct": "Andel i overgangssonen",
    "transition_zone_width_m": "Overgangssonens bredde",
    "max_elevation_m": "Høyeste punkt",
    "tree_line_m": "Skoggrensen der",
    "max_height_above_tree_line_m": "Høyest over skoggrensen",
    "overlap_m2": "Overlapp",
    "overlap_pct": "Andel av området",
    "recreation_value": "Friluftsverdi",
    "deposit_area_m2": "Forekomstens areal",
    "deposit_lost_pct": "Andel av forekomsten som går tapt",
    "deposit_names": "Forekomst",
    "deposit_importance": "Betydning",
    "deposit_distances_m": "Avstander til forekomster",
    "distance_m": "Avstand",
    "buffer_m": "Buffersone",
    "uncovered_m2": "Areal uten hensynssone/formål",
    "uncovered_pct": "Andel uten hensynssone/formål",
    "covered_m2": "Areal dekket",
    "environment_area_m2": "Miljøets areal i planområdet",
    "environment_name": "Kulturmiljø",
    "required_zones": "Hensynssoner som sikrer",
    "heritage_distances_m": "Avstander til kulturminner",
    "cut_length_m": "Lengde gjennom korridoren",
    "centrality": "Sentralitet",
    "centrality_source": "Sentralitet etter",
    "centrality_class": "SSBs sentralitetsklasse",
    "centrality_overridden": "Sentralitet overstyrt",
    "pressure": "Utbyggingspress",
    "cell": "Rute i matrisen",
    "use": "Bruk",
    "tettsted": "Tettsted",
    "tettsted_population": "Innbyggere i tettstedet",
    "inside_tettsted_pct": "Andel innenfor tettsted",
    "nearest_hub": "Nærmeste kollektivknutepunkt",
    "nearest_hub_type": "Type knutepunkt",
    "hub_distance_m": "Avstand til knutepunkt",
    "max_hub_distance_m": "Største avstand til knutepunkt",
    "utilisation_pct_bra": "Utnytting",
    "severity_if_unmet": "Alvorlighet om krav ikke er oppfylt",
    "cell_reason": "Begrunnelse for ruten",
    "reason": "Årsak",
    "deposit_name": "Forekomst",
    "environment_names": "Kulturmiljø",
    "environment_categories": "Kategori",
    "heritage_names": "Kulturminner",
    "heritage_categories": "Kategori",
    "checked_layers": "Kartlag kontrollert",
    "unchecked_layers": "Kartlag ikke lastet",
    "corridors_cut": "Trekkorridorer krysset",
    "tree_line_source": "Tregrense fra",
    "tree_line_version": "Versjon av tregrenselaget",
    "tree_line_fallback_m": "Regelsettets reservehøyde",
}
# What a G1 check (spatial/rules/g1_tree_line.py) read its tree line from.
TREE_LINE_SOURCES = {
    "derived": "avledet fra terrengmodell og skogdata",
    "loaded": "innlest tregrenseflate",
    "municipality_fallback": "regelsettets reservehøyde for kommunen",
    "none": "ingen tregrense",
}
# The checks of each guideline (the `check` of a finding, spatial/rules/g*.py) in words;
# the ids stay in the JSON for machines.
CHECK_LABELS = {
    "above_tree_line": "over skoggrensen",
    "recreation": "friluftslivsområder",
    "recreation_A": "svært viktig friluftslivsområde (A)",
    "recreation_B": "viktig friluftslivsområde (B)",
    "recreation_C": "registrert friluftslivsområde (C)",
    "state_recreation": "statlig sikret friluftslivsområde",
    "villrein": "villreinområde",
    "corridor": "trekkorridor for villrein",
    "intact_nature": "inngrepsfri natur",
    "nature_recreation": "natur og friluftsliv",
    "no_sterilising_areas": "ingen arealer som båndlegger forekomster",
    "deposit_overlap": "overlapp med mineralforekomst",
    "deposit_buffer": "nær mineralforekomst",
    "not_safeguarded": "forekomst ikke sikret med hensynssone",
    "no_development_areas": "ingen nye utbyggingsområder",
    "protected_overlap": "overlapp med fredet kulturminne",
    "protected_buffer": "nær fredet kulturminne",
    "environment_overlap": "overlapp med kulturmiljø",
    "no_consideration_zone": "kulturmiljø uten hensynssone",
    "matrix_cell": "sentralitet og utbyggingspress",
    "no_new_cabin_areas": "ingen nye hytteområder",
}
# Codes in measures shown with their Norwegian words.
VALUE_LABELS = {
    "use": {code: words[0] for code, words in USE_LABELS.items()},
    "severity_if_unmet": {s: label.lower() for s, label in SEVERITY_LABELS.items()},
    "tree_line_source": TREE_LINE_SOURCES,
}
# Measures whose values are layer ids, shown by the layer's title.
LAYER_ID_KEYS = frozenset({"checked_layers", "unchecked_layers"})
TREE_LINE_MARGIN = "max_height_above_tree_line_m"
# Heights above sea level rather than lengths.
ELEVATION_KEYS = frozenset({"max_elevation_m", "tree_line_m", "tree_line_fallback_m"})
# Shown in the message already (the requirements, an unknown finding's reason).
# The rule set's English rationale for a G5 cell is for the rule set's readers, not here.
HIDDEN_MEASURES = frozenset({"requirements", "reason", "cell_reason"})
# Values longer than this get a row of their own in a report's figures table.
LONG_VALUE = 36


def local(moment: datetime | None) -> datetime | None:
    """Return a timestamp in Norwegian time."""
    return None if moment is None else moment.astimezone(OSLO)


def fmt_date(value: date | datetime | None) -> str:
    """Format a date as '21.11.2026' (timestamps in Norwegian time)."""
    if value is None:
        return "–"
    if isinstance(value, datetime):
        value = value.astimezone(OSLO)
    return value.strftime("%d.%m.%Y")


def fmt_datetime(value: datetime | None) -> str:
    """Format a timestamp as '21.11.2026 kl. 14:05' in Norwegian time."""
    if value is None:
        return "–"
    return value.astimezone(OSLO).strftime("%d.%m.%Y kl. %H:%M")


def fmt_long_date(value: date) -> str:
    """Format a date as '21. november 2026'."""
    return f"{value.day}. {MONTHS[value.month - 1]} {value.year}"


def _scalar(key: str, value: Any) -> str:
    if value is None:
        return "ikke angitt"
    if isinstance(value, bool):
        return "ja" if value else "nei"
    if isinstance(value, int | float):
        if key.endswith("_m2"):
            return fmt_m2(value)
        if key.endswith("_pct_bra"):
            return f"{fmt_number(value, 1)} %-BRA"
        if key.endswith("_pct"):
            return fmt_pct(value)
        if key in ELEVATION_KEYS:
            return fmt_masl(value)
        if key.endswith("_m"):
            return fmt_m(value)
        if isinstance(value, int):
            return thousands(value)
        return fmt_number(value, 1)
    if key in LAYER_ID_KEYS:
        config = get_registry().get(str(value))
        return config.title if config else str(value)
    return VALUE_LABELS.get(key, {}).get(str(value), str(value))


def fmt_measure(key: str, value: Any) -> str:
    """Format one measured figure the Norwegian way, by what its key says it is."""
    if isinstance(value, list | tuple):
        return join_words(_scalar(key, v) for v in value) or "–"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_scalar(k, v)}" for k, v in value.items())
    return _scalar(key, value)


def tree_line_margin(value: float) -> tuple[str, str]:
    """Label and words for how far an area's highest point is above the tree line.

    A negative margin is an area nowhere above the tree line; it is said in words, not as
    "Høyest over skoggrensen −42 m" (issue 20).
    """
    metres = shown(value)
    if metres > 0:
        return "Høyest over skoggrensen", fmt_m(value)
    if metres == 0:
        return "Over skoggrensen", "Ikke over skoggrensen; høyeste punkt i skoggrensen"
    return "Over skoggrensen", f"Ikke over skoggrensen; høyeste punkt {fmt_m(-value)} under"


def measure_label(key: str) -> str:
    """The bokmål label of a measure (an unknown key in plain words, never with '_')."""
    return MEASURE_LABELS.get(key) or key.replace("_", " ").capitalize()


def check_label(check: str) -> str:
    """A guideline check in words: 'over skoggrensen' for above_tree_line."""
    return CHECK_LABELS.get(check) or check.replace("_", " ")


def measure_rows(measures: dict[str, Any]) -> list[tuple[str, str]]:
    """Return (label, formatted value) for each figure worth showing in a report."""
    rows = []
    for key, value in measures.items():
        if key in HIDDEN_MEASURES or value in (None, [], {}):
            continue
        if key == TREE_LINE_MARGIN and isinstance(value, int | float):
            rows.append(tree_line_margin(value))
            continue
        rows.append((measure_label(key), fmt_measure(key, value)))
    return rows


def fmt_severity_count(count: int, severity: str) -> str:
    """Count findings of a severity in words: '1 konflikt', '3 advarsler'."""
    one, several = SEVERITY_COUNT_WORDS[severity]
    return f"{thousands(count)} {one if count == 1 else several}"
