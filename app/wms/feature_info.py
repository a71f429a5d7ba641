"""What GetFeatureInfo tells a planner about a feature: bokmål labels and names, no internal ids."""

from pathlib import Path
from typing import Any

from app.wms.catalog import WmsLayer
from spatial.codelists import get_codelists
from spatial.plan_colours import get_plan_colours
from spatial.raster import open_raster

# Internal keys never shown (row ids, check ids, the fill the style computes).
HIDDEN = frozenset({"id", "check_id", "fill", "layer_feature_id"})
FIELD_LABELS = {
    "name": "Navn",
    "category": "Kategori",
    "importance": "Betydning",
    "resource_type": "Ressurstype",
    "deposit_id": "Forekomstnummer",
    "heritage_id": "Kulturminne-ID",
    "vernetype": "Vernetype",
    "zone": "Sone",
    "value": "Verdi",
    "recreation_id": "Friluftslivsområde-ID",
    "population": "Bosatte",
    "tettsted_id": "Tettstednummer",
    "hub_type": "Knutepunkttype",
    "source_type": "Type i stoppestedsregisteret",
    "function": "Funksjon",
    "villrein_area": "Villreinområde",
    "arealtype": "AR5 arealtype",
    "kommunenummer": "Kommunenummer",
    "planidentifikasjon": "Planidentifikasjon",
    "plan_name": "Plannavn",
    "arealformal": "Arealformål",
    "arealbruksstatus": "Arealbruksstatus",
    "hensynssone": "Hensynssone",
    "feltnavn": "Feltnavn",
    "kind": "Objekt",
    "version": "Versjon",
    "proposal_id": "Planforslag",
    "severity": "Alvorlighet",
    "rule_id": "Retningslinje",
    "message": "Melding",
    "cell": "Rute i matrisen",
}
KIND_NAMES = {
    "arealformal": "Arealformål",
    "hensynssone": "Hensynssone",
    "planomrade": "Planområde",
}
SEVERITY_NAMES = {
    "conflict": "Konflikt",
    "warning": "Advarsel",
    "unknown": "Ikke kontrollert (ukjent)",
    "info": "Info",
    "ok": "OK",
}
RECREATION_VALUES = {
    "A": "A – svært viktig friluftslivsområde",
    "B": "B – viktig friluftslivsområde",
    "C": "C – registrert friluftslivsområde",
    "D": "D – ikke klassifisert",
}
AR5_TYPES = {30: "30 Skog", 50: "50 Åpen fastmark", 70: "70 Snø og isbre", 99: "99 Ikke kartlagt"}


def _code(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _shown(key: str, value: Any) -> str:
    """A value as a planner reads it: codes with their names."""
    lists = get_codelists()
    code = _code(value)
    if key == "arealformal" and code is not None:
        return f"{code} {get_plan_colours().colour(code).title}"
    if key == "arealbruksstatus" and code is not None:
        return f"{code} {lists.arealbruksstatus.get(code, '')}".strip()
    if key == "hensynssone" and code is not None:
        return f"H{code} {lists.hensynssone.get(code, '')}".strip()
    if key == "arealtype" and code is not None:
        return AR5_TYPES.get(code, str(code))
    if key == "kind":
        return KIND_NAMES.get(str(value), str(value))
    if key == "severity":
        return SEVERITY_NAMES.get(str(value), str(value))
    if key == "value" and str(value) in RECREATION_VALUES:
        return RECREATION_VALUES[str(value)]
    if key == "population" and code is not None:
        return f"{code:,}".replace(",", "\u00a0")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def vector_info(layer: WmsLayer, row: dict[str, Any]) -> dict[str, Any]:
    """Title and labelled fields of a vector feature, for the map's identify panel."""
    fields = [
        {
            "label": FIELD_LABELS.get(key, key.replace("_", " ").capitalize()),
            "value": _shown(key, v),
        }
        for key, v in row.items()
        if key not in HIDDEN and v is not None and v != ""
    ]
    title = row.get("name") or row.get("feltnavn") or row.get("cell")
    if not title and row.get("severity"):
        title = f"{_shown('severity', row['severity'])} ({row.get('rule_id') or 'funn'})"
    if not title and row.get("arealformal") is not None:
        title = _shown("arealformal", row["arealformal"])
    if not title and row.get("kind") in KIND_NAMES:
        title = KIND_NAMES[row["kind"]]
    return {"layer_title": layer.title, "title": str(title or layer.title), "fields": fields}


def raster_info(layer: WmsLayer, value: float) -> dict[str, Any]:
    """Title and labelled value of a raster cell (height above the tree line: over/under)."""
    if layer.name == "above_tree_line":
        metres = round(abs(value))
        if value > 0:
            return {
                "layer_title": layer.title,
                "title": f"{metres} m over skoggrensen",
                "fields": [{"label": "Høyde over skoggrensen", "value": f"{metres} m"}],
            }
        return {
            "layer_title": layer.title,
            "title": f"{metres} m under skoggrensen",
            "fields": [{"label": "Høyde under skoggrensen", "value": f"{metres} m"}],
        }
    label = layer.value_label or "Verdi"
    unit = label.split("(")[-1].rstrip(")") if "(" in label else ""
    shown = f"{round(value):d} {unit}".strip()
    return {
        "layer_title": layer.title,
        "title": shown,
        "fields": [{"label": label.split(" (")[0], "value": shown}],
    }


def raster_cell(path: Path, x: float, y: float) -> list[tuple[float, float]] | None:
    """The closed ring of the raster cell holding (x, y), in the raster's CRS (the stored
    rasters are EPSG:25832); None outside the raster."""
    with open_raster(path) as dataset:
        row, col = dataset.index(x, y)
        if not (0 <= row < dataset.height and 0 <= col < dataset.width):
            return None
        corners = [(row, col), (row, col + 1), (row + 1, col + 1), (row + 1, col), (row, col)]
        return [dataset.xy(r, c, offset="ul") for r, c in corners]
