"""Coordinate reference systems: parsing identifiers and reprojecting geometry."""

import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import parse_qsl

import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely.geometry.base import BaseGeometry

from spatial.errors import UnsupportedCRSError
from spatial.messages import Text, localize

# EPSG:25832 (ETRS89 / UTM 32N) is the local projection for Buskerud; areas and
# distances are measured in it. National data arriving in 25833 are reprojected.
CANONICAL_SRID = 25832

# CRSs offered for output, keyed by the SRID PostGIS transforms to. CRS84 is
# lon/lat in PostGIS's EPSG:4326 handling, which is what RFC 7946 requires.
OUTPUT_SRIDS = {"CRS84": 4326, "EPSG:25832": 25832, "EPSG:25833": 25833}

CRS84_URI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"

_CRS84_NAMES = {
    "crs84",
    "ogc:crs84",
    "urn:ogc:def:crs:ogc:1.3:crs84",
    "urn:ogc:def:crs:ogc::crs84",
    "urn:x-ogc:def:crs:ogc:1.3:crs84",
    "urn:x-ogc:def:crs:ogc::crs84",
    "http://www.opengis.net/def/crs/ogc/1.3/crs84",
    "https://www.opengis.net/def/crs/ogc/1.3/crs84",
}
# The single-CRS spellings, matched on the lower-cased text. The URN is OGC 07-092r3
# ("urn:ogc:def:crs:EPSG:{version}:{code}", the version may be empty); its predecessor
# "urn:x-ogc:..." (OGC 05-010, still written by GeoServer for WFS 1.1) and writers that leave
# the version field out ("urn:ogc:def:crs:EPSG:25832") are read the same way. The http URI is
# OGC 09-048r5 ("/def/crs/EPSG/{version}/{code}", version 0 = the latest); the
# "gml/srs/epsg.xml#" form is the GML 2 / WFS 1.0 one.
_EPSG_PATTERNS = [
    re.compile(r"^(?:epsg:)?([0-9]{4,6})$"),
    re.compile(r"^urn:(?:x-)?ogc:def:crs:epsg:(?:[0-9.]*:)?([0-9]{4,6})$"),
    re.compile(r"^https?://www\.opengis\.net/def/crs/epsg/[0-9.]+/([0-9]{4,6})$"),
    re.compile(r"^https?://www\.opengis\.net/gml/srs/epsg\.xml#([0-9]{4,6})$"),
]
# Compound CRSs named by their parts: the URN of OGC 07-092r3
# ("urn:ogc:def:crs,crs:EPSG::25832,crs:EPSG::5941") and the URI of OGC 09-048r5
# ("http://www.opengis.net/def/crs-compound?1=<uri>&2=<uri>").
_COMPOUND_URN = re.compile(r"^urn:(?:x-)?ogc:def:crs,(crs:.+)$")
_COMPOUND_URI = re.compile(r"^https?://www\.opengis\.net/def/crs-compound\?(.+)$")
_MAX_IDENTIFIER = 400


@dataclass(frozen=True)
class CrsRef:
    """A parsed CRS: `epsg` is None for CRS84 (WGS 84 with lon/lat axis order)."""

    epsg: int | None

    @property
    def label(self) -> str:
        """Return the short name used in reports, e.g. 'EPSG:25833' or 'CRS84'."""
        return "CRS84" if self.epsg is None else f"EPSG:{self.epsg}"

    @property
    def is_geographic(self) -> bool:
        """Return True for longitude/latitude CRSs (CRS84, EPSG:4326, EPSG:4258, ...)."""
        if self.epsg is None:
            return True
        return _horizontal_crs(self.epsg, self.label, "crs").is_geographic

    @property
    def uri(self) -> str:
        """Return the OGC URI of the CRS."""
        if self.epsg is None:
            return CRS84_URI
        return f"http://www.opengis.net/def/crs/EPSG/0/{self.epsg}"


CRS84 = CrsRef(None)


@dataclass(frozen=True)
class CrsName:
    """A CRS identifier as read: the CRS the data are in, and the number of coordinates a
    position has in it (3 for a projected CRS with heights, such as EPSG:5972)."""

    ref: CrsRef
    dimension: int


# `what` names where the identifier was given ("crs parameter", "layer 'x'"): a parameter
# name (the same in both languages) or a Text.
What = Text | str


def parse_crs(identifier: str, what: What = "crs") -> CrsRef:
    """Parse an EPSG or CRS84 identifier in any of its usual spellings."""
    name = _parse_single(identifier, what)
    if name is None:
        raise _unknown(identifier, what)
    return name.ref


def parse_crs_name(identifier: str, what: What = "crs") -> CrsName:
    """Parse a CRS identifier of a data file, compound ones too: a compound CRS named by its
    parts (horizontal + height) is read as its horizontal part, with the parts' dimensions."""
    name = _parse_single(identifier, what)
    if name is not None:
        return name
    text = identifier.strip()
    lowered = text.lower()
    urn = _COMPOUND_URN.match(lowered)
    uri = _COMPOUND_URI.match(lowered)
    if urn:
        parts = [f"urn:ogc:def:{part}" for part in text[len(text) - len(urn.group(1)) :].split(",")]
    elif uri:
        parts = [value for _, value in parse_qsl(text[len(text) - len(uri.group(1)) :])]
    else:
        raise _unknown(identifier, what)
    names = [_parse_single(part, what, vertical=True) for part in parts]
    if len(parts) < 2 or any(n is None for n in names):
        raise _unknown(identifier, what)
    horizontal = [n for n in names if n is not None and _is_horizontal(n)]
    if len(horizontal) != 1 or horizontal[0].dimension != 2:
        raise UnsupportedCRSError(
            Text(
                nb=f"{_nb(what)} '{identifier}' er et sammensatt koordinatsystem uten nøyaktig "
                "én todimensjonal horisontal del; oppgi det horisontale koordinatsystemet, "
                "f.eks. 'EPSG:25832'",
                en=f"{_en(what)} '{identifier}' is a compound CRS without exactly one 2D "
                "horizontal part; name the horizontal CRS, e.g. 'EPSG:25832'",
            )
        )
    dimension = sum(n.dimension for n in names if n is not None)
    return CrsName(horizontal[0].ref, dimension)


def _parse_single(identifier: str, what: What, vertical: bool = False) -> CrsName | None:
    """The CRS named by one EPSG or CRS84 identifier (a height CRS only as the part of a
    compound, `vertical`); None if it is not one."""
    if len(identifier) > _MAX_IDENTIFIER:
        raise UnsupportedCRSError(
            Text(
                nb=f"{_nb(what)} '{identifier[:60]}…' ({len(identifier)} tegn) er ikke et "
                "koordinatsystem vi kjenner; bruk en EPSG-kode, f.eks. 'EPSG:25832'",
                en=f"{_en(what)} '{identifier[:60]}…' ({len(identifier)} characters) is not a "
                "CRS we know; use an EPSG code such as 'EPSG:25832'",
            )
        )
    text = identifier.strip().lower()
    if text in _CRS84_NAMES:
        return CrsName(CRS84, 2)
    for pattern in _EPSG_PATTERNS:
        match = pattern.match(text)
        if match:
            epsg = int(match.group(1))
            _epsg_crs(epsg, identifier, what)
            if vertical and _is_vertical(epsg):
                return CrsName(CrsRef(epsg), 1)
            _horizontal_crs(epsg, identifier, what)
            return CrsName(CrsRef(epsg), max(2, len(_epsg_crs(epsg, identifier, what).axis_info)))
    return None


def _unknown(identifier: str, what: What) -> UnsupportedCRSError:
    return UnsupportedCRSError(
        Text(
            nb=f"{_nb(what)} '{identifier}' er ikke et koordinatsystem vi kjenner; bruk en "
            "EPSG-kode, f.eks. 'EPSG:25832', eller URN-en 'urn:ogc:def:crs:EPSG::25833'",
            en=f"{_en(what)} '{identifier}' is not a CRS we know; use an EPSG code such as "
            "'EPSG:25832' or the URN 'urn:ogc:def:crs:EPSG::25833'",
        )
    )


def _nb(what: What) -> str:
    return localize(what, "nb")


def _en(what: What) -> str:
    return localize(what, "en")


def _is_horizontal(name: CrsName) -> bool:
    return name.ref.epsg is None or not _is_vertical(name.ref.epsg)


def _is_vertical(epsg: int) -> bool:
    crs = _epsg_crs(epsg, f"EPSG:{epsg}", "crs")
    return crs.is_vertical and not crs.is_compound


@lru_cache(maxsize=64)
def _epsg_crs(epsg: int, identifier: str, what: What) -> CRS:
    try:
        return CRS.from_epsg(epsg)
    except CRSError:
        raise UnsupportedCRSError(
            Text(
                nb=f"{_nb(what)} '{identifier}': EPSG:{epsg} finnes ikke",
                en=f"{_en(what)} '{identifier}': EPSG:{epsg} does not exist",
            )
        ) from None


def parse_output_crs(identifier: str | None) -> tuple[str, int]:
    """Resolve the `crs` query parameter of a GeoJSON endpoint to (label, PostGIS SRID)."""
    if identifier is None:
        return "CRS84", OUTPUT_SRIDS["CRS84"]
    ref = parse_crs(identifier, what=Text("crs-parameteren", "crs parameter"))
    if ref.label not in OUTPUT_SRIDS:
        offered = ", ".join(OUTPUT_SRIDS)
        raise UnsupportedCRSError(
            Text(
                nb=f"crs-parameteren '{identifier}' er ikke et koordinatsystem vi leverer data "
                f"i; bruk et av {offered}",
                en=f"crs parameter '{identifier}' is not offered for output; use one of {offered}",
            )
        )
    return ref.label, OUTPUT_SRIDS[ref.label]


@lru_cache(maxsize=64)
def _horizontal_crs(epsg: int, identifier: str, what: What) -> CRS:
    crs = _epsg_crs(epsg, identifier, what)
    if crs.is_compound:
        # 3D plan data come as e.g. EPSG:5972 (UTM 32 + NN2000); the plan is 2D here.
        horizontal = [sub for sub in crs.sub_crs_list if sub.is_projected or sub.is_geographic]
        if horizontal:
            return horizontal[0]
    if crs.is_geocentric or not (crs.is_projected or crs.is_geographic):
        raise UnsupportedCRSError(
            Text(
                nb=f"{_nb(what)} '{identifier}': EPSG:{epsg} ({crs.name}) er verken en "
                "todimensjonal kartprojeksjon eller et geografisk koordinatsystem",
                en=f"{_en(what)} '{identifier}': EPSG:{epsg} ({crs.name}) is not a 2D map "
                "projection or geographic CRS",
            )
        )
    return crs


@lru_cache(maxsize=64)
def _transformer(source: CrsRef, target_epsg: int) -> Transformer:
    source_crs = (
        CRS.from_user_input("OGC:CRS84") if source.epsg is None else CRS.from_epsg(source.epsg)
    )
    if source.epsg is not None:
        source_crs = _horizontal_crs(source.epsg, source.label, "crs")
    # GeoJSON (also the pre-2016 dialect with a `crs` member) always writes x/easting
    # or longitude first, whatever the CRS definition's axis order says.
    return Transformer.from_crs(source_crs, CRS.from_epsg(target_epsg), always_xy=True)


def canonical_transformer(source: CrsRef) -> Transformer:
    """Return the (cached) transformer from `source` to the canonical CRS, x/easting first."""
    return _transformer(source, CANONICAL_SRID)


def to_canonical(geometry: BaseGeometry, source: CrsRef) -> BaseGeometry:
    """Reproject a 2D geometry (or a numpy array of them) from `source` to the canonical CRS
    (EPSG:25832)."""
    if source.epsg == CANONICAL_SRID:
        return geometry
    transformer = _transformer(source, CANONICAL_SRID)
    return shapely.transform(geometry, lambda xy: _apply(transformer, xy))


def _apply(transformer: Transformer, xy):  # noqa: ANN001, ANN202 - numpy in, numpy out
    x, y = transformer.transform(xy[:, 0], xy[:, 1], errcheck=True)
    xy[:, 0] = x
    xy[:, 1] = y
    return xy


@lru_cache(maxsize=16)
def _from_canonical_transformer(target_srid: int) -> Transformer:
    # Building a Transformer is costly and a quick check reprojects every finding: cached.
    target = CRS.from_user_input("OGC:CRS84") if target_srid == 4326 else CRS.from_epsg(target_srid)
    return Transformer.from_crs(CRS.from_epsg(CANONICAL_SRID), target, always_xy=True)


def from_canonical(geometry: BaseGeometry, target_srid: int) -> BaseGeometry:
    """Reproject a geometry from the canonical CRS to an output SRID (4326 as lon/lat)."""
    if target_srid == CANONICAL_SRID:
        return geometry
    transformer = _from_canonical_transformer(target_srid)
    return shapely.transform(geometry, lambda xy: _apply(transformer, xy))


@lru_cache(maxsize=32)
def _point_transformer(source: CrsRef, target: CrsRef) -> Transformer:
    def crs_of(ref: CrsRef) -> CRS:
        if ref.epsg is None:
            return CRS.from_user_input("OGC:CRS84")
        return _horizontal_crs(ref.epsg, ref.label, "crs")

    return Transformer.from_crs(crs_of(source), crs_of(target), always_xy=True)


def transform_point(
    point: tuple[float, float], source: CrsRef, target: CrsRef
) -> tuple[float, float]:
    """Transform one (x, y) point between CRSs, x/easting or longitude first."""
    if source == target:
        return point
    x, y = _point_transformer(source, target).transform(point[0], point[1], errcheck=True)
    return float(x), float(y)
