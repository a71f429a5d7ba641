"""What guideline data is loaded, and which guidelines it leaves not fully checkable where.

A guideline cannot be fully checked in a municipality when a layer its rule reads is not
loaded, or when the loaded version's extent (the bounding box of its features or raster)
does not cover the municipality: a county download loaded for the wrong county, or a file
cut to a few municipalities.
"""

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import LayerVersionOrm, MunicipalityOrm
from layers.loader import current_versions
from layers.registry import LayerConfig, get_registry
from spatial.rules.ruleset import RuleSet

# Share of a municipality's area the extent must cover to count as covering it (the extent
# and the boundary are generalised differently at the county border).
COVERED_SHARE = 0.995


@dataclass(frozen=True)
class LoadedLayer:
    """The current version of a layer, as `layers status` lists it."""

    layer_id: str
    kind: str
    version: int | None
    source: str | None = None
    source_date: date | None = None
    licence: str | None = None
    feature_count: int | None = None
    loaded_at: datetime | None = None
    file_name: str | None = None


@dataclass(frozen=True)
class Gap:
    """Why a guideline cannot be fully checked: a layer missing, or not covering an area."""

    guideline: str
    layer_id: str
    reason: str
    optional: bool = False


@dataclass(frozen=True)
class Status:
    """Loaded layers, gaps in every municipality, and gaps per municipality."""

    layers: list[LoadedLayer]
    everywhere: list[Gap]
    by_municipality: dict[tuple[str, str], list[Gap]]


def layer_status(
    session: Session,
    rule_set: RuleSet,
    kommunenummer: str | None = None,
    registry: dict[str, LayerConfig] | None = None,
) -> Status:
    """Report the current version of every layer and the gaps each guideline has."""
    registry = get_registry() if registry is None else registry
    current = current_versions(session)
    layers = [
        _loaded(layer_id, config, current.get(layer_id)) for layer_id, config in registry.items()
    ]
    readers = {
        layer_id: [rule.id for rule in rule_set.rules if layer_id in type(rule).layers]
        for layer_id in registry
    }
    everywhere = [
        Gap(guideline, layer_id, "not loaded", registry[layer_id].optional)
        for layer_id, guidelines in readers.items()
        if layer_id not in current
        for guideline in guidelines
    ]
    everywhere += [
        Gap(guideline, layer_id, reason, registry[layer_id].optional)
        for layer_id, reason in _stale_derivations(current).items()
        for guideline in readers.get(layer_id, [])
    ]
    coverage = _coverage(session, current, kommunenummer)
    by_municipality: dict[tuple[str, str], list[Gap]] = {}
    for (number, name), shares in coverage.items():
        gaps = []
        for layer_id, share in sorted(shares.items()):
            if share >= COVERED_SHARE or layer_id not in readers:
                continue
            version = current[layer_id].version
            reason = f"version {version} covers {100 * share:.0f} % of the municipality"
            gaps.extend(
                Gap(guideline, layer_id, reason, registry[layer_id].optional)
                for guideline in readers[layer_id]
            )
        by_municipality[(number, name)] = sorted(gaps, key=lambda g: (g.guideline, g.layer_id))
    everywhere.sort(key=lambda g: (g.guideline, g.layer_id))
    return Status(layers, everywhere, by_municipality)


def _stale_derivations(current: dict[str, LayerVersionOrm]) -> dict[str, str]:
    """Derived versions (layers/derive.py) whose inputs have newer versions since."""
    stale: dict[str, str] = {}
    for layer_id, row in current.items():
        inputs = (row.details or {}).get("derived", {}).get("inputs", {})
        changed = [
            f"{source} v{used['version']}, now v{current[source].version}"
            for source, used in sorted(inputs.items())
            if source in current and current[source].version != used.get("version")
        ]
        if changed:
            stale[layer_id] = (
                f"version {row.version} was derived from {'; '.join(changed)}: run "
                f"`arealsjekk layers derive {layer_id}` again"
            )
    return stale


def _loaded(layer_id: str, config: LayerConfig, row: LayerVersionOrm | None) -> LoadedLayer:
    if row is None:
        return LoadedLayer(layer_id, config.kind, None)
    return LoadedLayer(
        layer_id,
        config.kind,
        row.version,
        row.source,
        row.source_date,
        row.licence,
        row.feature_count if config.kind == "vector" else None,
        row.loaded_at,
        row.file_name,
    )


def _coverage(
    session: Session, current: dict[str, LayerVersionOrm], kommunenummer: str | None
) -> dict[tuple[str, str], dict[str, float]]:
    """The share of each municipality's area inside each current version's extent."""
    query = select(MunicipalityOrm.kommunenummer, MunicipalityOrm.name).order_by(
        MunicipalityOrm.kommunenummer
    )
    if kommunenummer is not None:
        query = query.where(MunicipalityOrm.kommunenummer == kommunenummer)
    result: dict[tuple[str, str], dict[str, float]] = {
        (number, name): {} for number, name in session.execute(query)
    }
    ids = [row.id for row in current.values()]
    if not ids or not result:
        return result
    share = func.ST_Area(
        func.ST_Intersection(MunicipalityOrm.geom, LayerVersionOrm.extent)
    ) / func.nullif(func.ST_Area(MunicipalityOrm.geom), 0)
    rows = session.execute(
        select(
            MunicipalityOrm.kommunenummer,
            MunicipalityOrm.name,
            LayerVersionOrm.layer_id,
            func.coalesce(share, 0.0),
        )
        .join(LayerVersionOrm, LayerVersionOrm.id.in_(ids))
        .where(MunicipalityOrm.kommunenummer.in_([number for number, _ in result]))
    )
    for number, name, layer_id, value in rows:
        result[(number, name)][layer_id] = float(value)
    return result
