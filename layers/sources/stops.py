"""Transport hubs from the stop registers as distributed: NSR NeTEx XML and GTFS.

Both readers (netex.py, gtfs.py) turn the file into stops with their source types; this
module keeps the stops whose type the layer config maps to a hub type (the `readers`
section of layers/config/transport_hubs.yaml), merges multimodal children into their
parent, and fails on any type the config does not know: a type is never guessed.
"""

import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from shapely.geometry import Point

from layers.registry import LayerConfig
from layers.sources.files import VectorSource
from spatial.errors import ArealsjekkError

STOP_SUFFIXES = {".xml", ".txt", ".zip"}
NETEX_NAMESPACE = "http://www.netex.org.uk/netex"
GTFS_STOPS = "stops.txt"
# How a stop without a type is counted in the load summary.
NO_TYPE = "(no type)"
_SNIFF_BYTES = 4096


class StopSourceError(ArealsjekkError):
    """A NeTEx or GTFS stop file cannot be loaded; the message names the file and stop."""


class ReaderSettings(BaseModel):
    """One reader's section of the layer config: which source types are hubs, and which not."""

    model_config = ConfigDict(extra="forbid")

    hub_types: dict[str, str]
    not_hubs: dict[str, str]

    @field_validator("hub_types", "not_hubs", mode="before")
    @classmethod
    def _keys_as_text(cls, value: Any) -> Any:
        # YAML reads unquoted GTFS codes as integers.
        return {str(k): v for k, v in value.items()} if isinstance(value, dict) else value


@dataclass
class Stop:
    """A stop place (NeTEx StopPlace, GTFS station or stop) as read from the source."""

    id: str
    name: str | None
    lon: float | None
    lat: float | None
    types: list[str] = field(default_factory=list)
    parent: str | None = None


class TypeMap:
    """Classifies source type codes as hub (with its internal type), not a hub, or unknown."""

    def __init__(self, settings: ReaderSettings, ranges: bool) -> None:
        self.settings = settings
        self.hub: list[tuple[str, str]] = list(settings.hub_types.items())
        self.other: list[str] = list(settings.not_hubs)
        self.ranges = ranges

    def _matches(self, key: str, value: str) -> bool:
        if not self.ranges:
            return key == value
        low, _, high = key.partition("-")
        try:
            code = int(value)
            return int(low) <= code <= int(high or low)
        except ValueError:
            return key == value

    def hub_type(self, value: str) -> str | None:
        """The internal hub type of a source type, or None if it is not a hub type."""
        return next((hub for key, hub in self.hub if self._matches(key, value)), None)

    def known(self, value: str) -> bool:
        """True if the config says what the source type is (a hub or not)."""
        return self.hub_type(value) is not None or any(
            self._matches(key, value) for key in self.other
        )


def reader_settings(config: LayerConfig, reader: str) -> ReaderSettings | None:
    """The layer config's settings for a reader, or None if the layer has none."""
    raw = config.readers.get(reader)
    if raw is None:
        return None
    try:
        settings = ReaderSettings.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise StopSourceError(
            f"layers/config/{config.id}.yaml: readers.{reader}.{where}: {first['msg']}"
        ) from None
    allowed = config.attributes["hub_type"].allowed or []
    for source_type, hub in settings.hub_types.items():
        if hub not in allowed:
            raise StopSourceError(
                f"layers/config/{config.id}.yaml: readers.{reader}.hub_types: '{source_type}' "
                f"maps to '{hub}', which is not one of {allowed}"
            )
    both = sorted(set(settings.hub_types) & set(settings.not_hubs))
    if both:
        raise StopSourceError(
            f"layers/config/{config.id}.yaml: readers.{reader}: {both} are both hub types "
            "and not hubs"
        )
    return settings


def stop_source_kind(path: Path, config: LayerConfig) -> str | None:
    """'netex' or 'gtfs' if the layer has that reader and the file is of that kind, else None."""
    if not config.readers:
        return None
    kind = _sniff(path)
    return kind if kind in config.readers else None


def _sniff(path: Path) -> str | None:
    if path.is_dir():
        return "gtfs" if (path / GTFS_STOPS).is_file() else None
    suffix = path.suffix.lower()
    if suffix not in STOP_SUFFIXES or not path.is_file():
        return None
    if suffix == ".txt":
        return "gtfs" if path.name.lower() == GTFS_STOPS else None
    if suffix == ".xml":
        with path.open("rb") as handle:
            return "netex" if _is_netex(handle.read(_SNIFF_BYTES)) else None
    try:
        with zipfile.ZipFile(path) as archive:
            names = [i.filename for i in archive.infolist() if not i.is_dir()]
            if any(Path(name).name.lower() == GTFS_STOPS for name in names):
                return "gtfs"
            xml = [name for name in names if name.lower().endswith(".xml")]
            if xml and len(xml) == len(names):
                with archive.open(xml[0]) as handle:
                    return "netex" if _is_netex(handle.read(_SNIFF_BYTES)) else None
    except (zipfile.BadZipFile, OSError):
        return None
    return None


def _is_netex(head: bytes) -> bool:
    return b"PublicationDelivery" in head and NETEX_NAMESPACE.encode() in head


def read_stop_source(path: Path, config: LayerConfig, options: Any) -> VectorSource | None:
    """Read NSR NeTEx or GTFS stops as hubs, or return None if the file is neither."""
    kind = stop_source_kind(path, config)
    if kind is None:
        return None
    if options.source_layers or options.constants:
        raise StopSourceError(
            f"{path.name}: --source-layer and --set are not used with {kind.upper()} stop "
            "files; which stops are hubs is set in the layer config"
        )
    settings = reader_settings(config, kind)
    assert settings is not None
    # Imported here: the readers import this module for Stop and StopSourceError.
    if kind == "netex":
        from layers.sources.netex import read_netex_stops

        stops = read_netex_stops(path)
        label = "NeTEx StopPlace"
    else:
        from layers.sources.gtfs import read_gtfs_stops

        stops = read_gtfs_stops(path)
        label = "GTFS stops"
    rank = config.attributes["hub_type"].allowed or []
    frame, summary = hubs_from_stops(
        stops, TypeMap(settings, ranges=kind == "gtfs"), rank, path.name, kind, config.id
    )
    return VectorSource(frame, [label], notes={"stops": summary})


def hubs_from_stops(
    stops: list[Stop], types: TypeMap, rank: list[str], label: str, reader: str, layer_id: str
) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """Keep the stops of a hub type, children merged into their parent; fail on unknown types."""
    by_type = Counter(t for stop in stops for t in (stop.types or [NO_TYPE]))
    unknown = {t: n for t, n in by_type.items() if t != NO_TYPE and not types.known(t)}
    if unknown:
        listed = ", ".join(f"'{t}': {n}" for t, n in sorted(unknown.items(), key=_by_count))
        raise StopSourceError(
            f"{label}: stop types with no mapping in layers/config/{layer_id}.yaml "
            f"readers.{reader} (type: stops): {listed}; add each to hub_types or not_hubs"
        )
    known_ids = {stop.id for stop in stops}
    children: dict[str, list[Stop]] = {}
    for stop in stops:
        if stop.parent and stop.parent in known_ids:
            children.setdefault(stop.parent, []).append(stop)

    rows: list[dict[str, Any]] = []
    without_position: list[str] = []
    merged = 0
    for stop in stops:
        if stop.parent and stop.parent in known_ids:
            continue  # a child: its types count for its parent
        family = [stop, *children.get(stop.id, [])]
        best = _best(family, types, rank)
        if best is None:
            continue
        hub_type, source_type, decided_by = best
        # A parent without a position of its own stands where its deciding child does.
        located = stop if stop.lon is not None else decided_by
        lon, lat = located.lon, located.lat
        if lon is None or lat is None:
            without_position.append(stop.id)
            continue
        merged += len(family) - 1
        rows.append(
            {
                "id": stop.id,
                "name": stop.name or decided_by.name,
                "hub_type": hub_type,
                "source_type": source_type,
                "geometry": Point(lon, lat),
            }
        )
    if not rows:
        raise StopSourceError(
            f"{label}: none of its {len(stops)} stops is of a hub type in layers/config/"
            f"{layer_id}.yaml readers.{reader}.hub_types (types found: "
            + ", ".join(f"'{t}': {n}" for t, n in sorted(by_type.items(), key=_by_count))
            + ")"
        )
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    summary = {
        "stops_read": len(stops),
        "types": dict(sorted(by_type.items(), key=_by_count)),
        "hubs": dict(sorted(Counter(r["hub_type"] for r in rows).items())),
        "children_merged_into_parent": merged,
        "hubs_without_position": without_position,
    }
    return frame, summary


def _best(family: list[Stop], types: TypeMap, rank: list[str]) -> tuple[str, str, Stop] | None:
    """The best-ranked hub type among a stop and its children, its source type and stop."""
    candidates = [
        (rank.index(hub), hub, source_type, member)
        for member in family
        for source_type in member.types
        if (hub := types.hub_type(source_type)) is not None
    ]
    if not candidates:
        return None
    _, hub, source_type, member = min(candidates, key=lambda c: c[0])
    return hub, source_type, member


def _by_count(item: tuple[str, int]) -> tuple[int, str]:
    return -item[1], item[0]
