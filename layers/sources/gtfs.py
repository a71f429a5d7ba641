"""Reading stops from a GTFS feed (Entur's rb_norway-aggregated-gtfs.zip, a folder, stops.txt).

Kept from stops.txt: stations (`location_type` 1) and stops without a `parent_station`
(`location_type` 0 or empty); platforms with a parent count towards their station;
entrances, nodes and boarding areas (2-4) are read past. GTFS has no hub type: a stop's
type is Entur's `vehicle_type` column (GTFS extended route types) where the feed has it,
else the `route_type` of the routes serving it (routes.txt, trips.txt, stop_times.txt of
the same feed). A stop with neither is counted as without a type and not kept.
"""

import csv
import io
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import IO

from layers.sources.stops import GTFS_STOPS, Stop, StopSourceError

REQUIRED = ("stop_id", "stop_name", "stop_lat", "stop_lon")
KEPT_LOCATION_TYPES = {"", "0", "1"}


class _Feed:
    """The text files of a feed, in a zip, a folder, or beside a stops.txt."""

    def __init__(self, path: Path, archive: zipfile.ZipFile | None) -> None:
        self.path = path
        self.archive = archive
        if archive is not None:
            names = [i.filename for i in archive.infolist() if not i.is_dir()]
            stops = sorted(
                (n for n in names if PurePosixPath(n).name.lower() == GTFS_STOPS),
                key=lambda n: n.count("/"),
            )
            self.prefix = str(PurePosixPath(stops[0]).parent) if stops else ""
            self.names = set(names)
        else:
            self.folder = path if path.is_dir() else path.parent

    def label(self, name: str) -> str:
        return f"{self.path.name}: {name}" if self.path.name != name else name

    @contextmanager
    def open(self, name: str) -> Iterator[IO[str] | None]:
        """Open a feed file as text (UTF-8, a BOM allowed), or yield None if it is absent."""
        if self.archive is not None:
            member = f"{self.prefix}/{name}" if self.prefix not in ("", ".") else name
            if member not in self.names:
                yield None
                return
            with self.archive.open(member) as raw:
                yield io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
            return
        file = self.folder / name
        if not file.is_file():
            yield None
            return
        with file.open(encoding="utf-8-sig", newline="") as handle:
            yield handle


@contextmanager
def _feed(path: Path) -> Iterator[_Feed]:
    if path.suffix.lower() != ".zip":
        yield _Feed(path, None)
        return
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise StopSourceError(f"{path.name}: not a readable zip archive ({exc})") from None
    with archive:
        yield _Feed(path, archive)


def read_gtfs_stops(path: Path) -> list[Stop]:
    """The stations and stand-alone stops of a GTFS feed, with their platforms as children."""
    with _feed(path) as feed:
        with feed.open(GTFS_STOPS) as handle:
            if handle is None:
                raise StopSourceError(f"{path.name}: holds no {GTFS_STOPS}")
            stops = list(_stops(handle, feed.label(GTFS_STOPS)))
        untyped = {s.id for s in stops if not s.types}
        if untyped:
            served = _route_types(feed, untyped)
            for stop in stops:
                if not stop.types and stop.id in served:
                    stop.types = sorted(served[stop.id])
    return stops


def _stops(handle: IO[str], label: str) -> Iterator[Stop]:
    try:
        reader = csv.DictReader(handle)
        header = [name.strip() for name in reader.fieldnames or []]
        reader.fieldnames = header
        missing = [name for name in REQUIRED if name not in header]
        if missing:
            raise StopSourceError(
                f"{label}: lacks the column(s) {missing}; GTFS stops.txt needs {list(REQUIRED)}"
            )
        for row in reader:
            location_type = (row.get("location_type") or "").strip()
            if location_type not in KEPT_LOCATION_TYPES:
                continue  # entrance, generic node or boarding area
            stop_id = (row["stop_id"] or "").strip()
            where = f"{label}: line {reader.line_num} (stop_id '{stop_id}')"
            if not stop_id:
                raise StopSourceError(f"{where}: no stop_id")
            vehicle_type = (row.get("vehicle_type") or "").strip()
            parent = (row.get("parent_station") or "").strip()
            yield Stop(
                id=stop_id,
                name=(row["stop_name"] or "").strip() or None,
                lon=_degrees(row["stop_lon"], 180, where, "stop_lon"),
                lat=_degrees(row["stop_lat"], 90, where, "stop_lat"),
                types=[vehicle_type] if vehicle_type else [],
                parent=parent if location_type != "1" and parent else None,
            )
    except (csv.Error, UnicodeDecodeError) as exc:
        raise StopSourceError(f"{label}: not a readable CSV file ({exc})") from None


def _degrees(text: str | None, limit: float, where: str, what: str) -> float | None:
    if text is None or not text.strip():
        return None
    try:
        value = float(text)
    except ValueError:
        raise StopSourceError(f"{where}: {what} '{text}' is not a number") from None
    if not -limit <= value <= limit:
        raise StopSourceError(f"{where}: {what} {value} is outside ±{limit:g} degrees (WGS84)")
    return value


def _route_types(feed: _Feed, wanted: set[str]) -> dict[str, set[str]]:
    """The route types serving each wanted stop, from routes, trips and stop_times."""
    with feed.open("routes.txt") as routes, feed.open("trips.txt") as trips:
        if routes is None or trips is None:
            return {}
        route_type = {
            row["route_id"]: (row.get("route_type") or "").strip()
            for row in _rows(routes, feed.label("routes.txt"), ("route_id", "route_type"))
        }
        trip_type = {
            row["trip_id"]: route_type.get(row["route_id"], "")
            for row in _rows(trips, feed.label("trips.txt"), ("trip_id", "route_id"))
        }
    served: dict[str, set[str]] = {}
    with feed.open("stop_times.txt") as stop_times:
        if stop_times is None:
            return {}
        for row in _rows(stop_times, feed.label("stop_times.txt"), ("trip_id", "stop_id")):
            stop_id = row["stop_id"]
            kind = trip_type.get(row["trip_id"])
            if kind and stop_id in wanted:
                served.setdefault(stop_id, set()).add(kind)
    return served


def _rows(handle: IO[str], label: str, needed: tuple[str, ...]) -> Iterator[dict[str, str]]:
    try:
        reader = csv.DictReader(handle)
        reader.fieldnames = [name.strip() for name in reader.fieldnames or []]
        missing = [name for name in needed if name not in reader.fieldnames]
        if missing:
            raise StopSourceError(f"{label}: lacks the column(s) {missing}")
        for row in reader:
            yield {name: (row.get(name) or "").strip() for name in needed}
    except (csv.Error, UnicodeDecodeError) as exc:
        raise StopSourceError(f"{label}: not a readable CSV file ({exc})") from None
