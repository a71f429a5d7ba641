"""Reading stop places from NSR's NeTEx export (Entur's tiamat `<id>_latest.zip` or its XML).

The export is a `PublicationDelivery` whose `SiteFrame` holds `stopPlaces/StopPlace`
(Nordic NeTEx profile, Håndbok N801 "stops"). Of each StopPlace the reader keeps its id,
`Name`, `Centroid/Location/Longitude|Latitude` (WGS84 degrees), `StopPlaceType` and
`ParentSiteRef` (a monomodal child of a multimodal parent). The XML is parsed as a stream
with defusedxml (no DTD, no entities, nothing fetched) and each frame item is dropped once
read, so a national export is read in bounded memory.
"""

import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from layers.sources.stops import NETEX_NAMESPACE, Stop, StopSourceError

NS = f"{{{NETEX_NAMESPACE}}}"


def read_netex_stops(path: Path) -> list[Stop]:
    """Every StopPlace of a NeTEx XML file, or of the XML files in a zip, one per id."""
    stops: dict[str, tuple[int, Stop]] = {}
    for label, handle in _documents(path):
        with handle:
            for version, stop in _stop_places(handle, label):
                kept = stops.get(stop.id)
                # An export may repeat a stop place in several versions; the newest counts.
                if kept is None or version > kept[0]:
                    stops[stop.id] = (version, stop)
    return [stop for _, stop in stops.values()]


def _documents(path: Path) -> Iterator[tuple[str, IO[bytes]]]:
    if path.suffix.lower() != ".zip":
        yield path.name, path.open("rb")
        return
    with _archive(path) as archive:
        for info in sorted(archive.infolist(), key=lambda i: i.filename):
            if not info.is_dir() and info.filename.lower().endswith(".xml"):
                yield f"{path.name}: {info.filename}", archive.open(info)


@contextmanager
def _archive(path: Path) -> Iterator[zipfile.ZipFile]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise StopSourceError(f"{path.name}: not a readable zip archive ({exc})") from None
    with archive:
        yield archive


def _stop_places(handle: IO[bytes], label: str) -> Iterator[tuple[int, Stop]]:
    stack: list[Element] = []
    try:
        for event, element in iterparse(
            handle,
            events=("start", "end"),
            forbid_dtd=True,
            forbid_entities=True,
            forbid_external=True,
        ):
            if event == "start":
                if not stack and element.tag != f"{NS}PublicationDelivery":
                    raise StopSourceError(
                        f"{label}: the root element is <{element.tag}>, not a NeTEx "
                        f"PublicationDelivery in the namespace {NETEX_NAMESPACE}"
                    )
                stack.append(element)
                continue
            stack.pop()
            if len(stack) >= 2 and stack[-2].tag == f"{NS}SiteFrame":
                # `element` is an item of one of the frame's collections (stopPlaces,
                # topographicPlaces, groupsOfStopPlaces, ...): use it, then drop it.
                if element.tag == f"{NS}StopPlace":
                    yield _version(element), _stop_place(element, label)
                stack[-1].remove(element)
    except ParseError as exc:
        raise StopSourceError(f"{label}: not well-formed XML: {exc}") from None
    except DefusedXmlException as exc:
        raise StopSourceError(
            f"{label}: the XML is refused ({type(exc).__name__}): DTDs, entities and external "
            "references are not read, and NeTEx needs none"
        ) from None


def _version(element: Element) -> int:
    version = element.get("version", "")
    return int(version) if version.isdigit() else 0


def _stop_place(element: Element, label: str) -> Stop:
    stop_id = element.get("id")
    if not stop_id:
        raise StopSourceError(f"{label}: a StopPlace has no id")
    lon = lat = None
    location = element.find(f"{NS}Centroid/{NS}Location")
    if location is not None:
        lon = _degrees(location.findtext(f"{NS}Longitude"), 180, stop_id, "Longitude", label)
        lat = _degrees(location.findtext(f"{NS}Latitude"), 90, stop_id, "Latitude", label)
    stop_type = (element.findtext(f"{NS}StopPlaceType") or "").strip()
    parent = element.find(f"{NS}ParentSiteRef")
    return Stop(
        id=stop_id,
        name=(element.findtext(f"{NS}Name") or "").strip() or None,
        lon=lon,
        lat=lat,
        types=[stop_type] if stop_type else [],
        parent=parent.get("ref") if parent is not None else None,
    )


def _degrees(text: str | None, limit: float, stop_id: str, what: str, label: str) -> float | None:
    if text is None or not text.strip():
        return None
    try:
        value = float(text)
    except ValueError:
        raise StopSourceError(
            f"{label}: StopPlace {stop_id}: {what} '{text}' is not a number"
        ) from None
    if not -limit <= value <= limit:
        raise StopSourceError(
            f"{label}: StopPlace {stop_id}: {what} {value} is outside ±{limit:g} degrees "
            "(NeTEx Location is WGS84 degrees)"
        )
    return value
