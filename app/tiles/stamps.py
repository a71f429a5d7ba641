"""Stamps naming what a layer's tiles are made from, so a change of data or style retires them.

Guideline layers are versioned: a vector tile's stamp names its layer's current version (and
when it was loaded); a raster tile's stamp names the WMS layer's SQL, raster file and style,
and the last load of any layer. Proposals,
findings and municipalities are not: their stamps come from the rows the public sees
(published proposals' versions, finished checks, the municipalities' load time).
"""

import hashlib
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import __version__
from app.wms.catalog import WmsLayer, style_xml
from db.models import (
    LayerVersionOrm,
    MunicipalityOrm,
    PlanCheckOrm,
    PlanProposalOrm,
    ProposalVersionOrm,
)
from layers.loader import current_versions
from layers.registry import get_registry
from spatial.errors import NotFoundError
from spatial.messages import Text
from spatial.plan_colours import get_plan_colours

# Raised when the vector tiles' content changes (properties, geometry handling).
MVT_FORMAT = 1


@dataclass(frozen=True)
class DataStamps:
    """The state of the unversioned data the public sees."""

    municipalities: str
    proposals: str
    checks: str
    # Every layer version's load: a raster tile may draw several layers (the base map, the
    # matrix zones, the area above the tree line), so any load retires raster tiles.
    layers: str


def data_stamps(session: Session) -> DataStamps:
    """Read the state of municipalities, published proposals, finished checks and layer loads."""
    published = (
        select(
            func.concat(
                func.count(ProposalVersionOrm.id),
                ":",
                func.coalesce(func.max(ProposalVersionOrm.id), 0),
                ":",
                func.max(PlanProposalOrm.published_at),
            )
        )
        .join(PlanProposalOrm, PlanProposalOrm.id == ProposalVersionOrm.proposal_id)
        .where(PlanProposalOrm.published_at.is_not(None))
        .scalar_subquery()
    )
    # Counted, not only the newest id: a background check may finish after a newer one.
    checks = (
        select(
            func.concat(
                func.count(PlanCheckOrm.id),
                ":",
                func.max(PlanCheckOrm.id),
                ":",
                func.max(PlanCheckOrm.finished_at),
            )
        )
        .where(PlanCheckOrm.status == "done")
        .scalar_subquery()
    )
    loaded = select(func.concat(func.count(), ":", func.max(MunicipalityOrm.loaded_at)))
    layers = select(func.concat(func.count(), ":", func.max(LayerVersionOrm.loaded_at)))
    row = session.execute(
        select(loaded.scalar_subquery(), published, checks, layers.scalar_subquery())
    ).one()
    return DataStamps(*(str(value) for value in row))


def _digest(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:40]


def vector_stamp(session: Session, collection_id: str, data: DataStamps) -> str:
    """The stamp of a feature collection's vector tiles."""
    if collection_id == "municipalities":
        state = data.municipalities
    elif collection_id == "proposals":
        state = data.proposals
    elif collection_id in ("findings", "finding_lines"):
        state = f"{data.proposals}|{data.checks}"
    elif collection_id in get_registry():
        version = current_versions(session).get(collection_id)
        # The load time too: ids restart when a database is rebuilt or restored.
        state = f"layer_version {version.id}, {version.loaded_at}" if version else "none"
    else:  # no collection, or one whose changes nothing here would see
        raise NotFoundError(
            Text(
                f"finner ingen samling «{collection_id}» med vektorfliser; se /ogcapi/collections",
                f"no collection '{collection_id}' with vector tiles; see /ogcapi/collections",
            )
        )
    return _digest(__version__, MVT_FORMAT, collection_id, state)


def _drawn(layer: WmsLayer) -> list[WmsLayer]:
    return [layer] if not layer.parts else [part for part, _ in layer.parts]


def raster_stamp(layers: list[tuple[WmsLayer, tuple[str, ...]]], data: DataStamps) -> str:
    """The stamp of raster tiles drawing these WMS layers (with these styles)."""
    parts: list[object] = [__version__, data.layers]
    for layer, styles in layers:
        parts += [repr(layer), styles]
        for drawn in _drawn(layer):
            parts.append(style_xml(drawn.style_file))
            sql = drawn.sql or ""
            # The tables whose rows are not versioned: their state joins the stamp.
            if "municipality" in sql:
                parts.append(data.municipalities)
            if "plan_feature" in sql or "check_finding" in sql:
                parts.append(data.proposals)
            if "check_finding" in sql:
                parts.append(data.checks)
            if drawn.raster_file is not None and drawn.raster_file.is_file():
                parts.append(drawn.raster_file.stat().st_mtime_ns)
        if layer.plan_fill:
            parts.append(get_plan_colours().as_json())
    return _digest(*parts)
