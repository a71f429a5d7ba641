"""The WMS protocol (1.3.0 and 1.1.1): parameters, capabilities, GetMap, GetFeatureInfo, legends.

Every parameter the service reads from the query is checked before any work is done, and a
bad one is answered with a ServiceException naming it (OGC WMS 1.3.0 §6.11, Annex E):
numbers are ASCII only (Python's int() and float() also take other scripts' digits, "nan",
"inf" and "1_000"), counts and sizes are bounded, names are looked up in fixed lists.
"""

import html
import json
import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from jinja2 import Environment, PackageLoader, select_autoescape
from pyproj import Transformer
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.settings import Settings
from app.wms.catalog import (
    COUNTY,
    FINDINGS_GROUP,
    Extent,
    WmsLayer,
    data_extents,
    union_extent,
)
from app.wms.feature_info import HIDDEN, raster_cell, raster_info, vector_info
from app.wms.render import LEGEND_ROW_PX, legend_png, legend_rows, render_map
from spatial.crs import CANONICAL_SRID
from spatial.numbers import is_double
from spatial.raster import sample_values

logger = logging.getLogger(__name__)

VERSIONS = ("1.3.0", "1.1.1")
# CRSs offered; in WMS 1.3.0 EPSG:4326 has latitude first (axis order of the EPSG registry).
CRS_CODES = {"EPSG:25832": 25832, "EPSG:25833": 25833, "EPSG:4326": 4326, "EPSG:3857": 3857}
CRS84 = "CRS:84"
INFO_FORMATS = ("text/html", "application/json", "text/xml")
PNG = "image/png"
# GetMap formats offered, each with the image format app.wms.render draws it in. PNG8 is
# MapServer's and QGIS Server's name for a palette PNG; GDAL's WMS driver asks for JPEG.
MAP_FORMATS = {PNG: "png", "image/png; mode=8bit": "png8", "image/jpeg": "jpeg"}
# Buskerud in EPSG:25832 (its boundary's box, rounded outwards), for capabilities when no
# boundary is loaded; otherwise the extents are measured on the data (catalog.data_extents).
COUNTY_FALLBACK_25832 = (414_000.0, 6_585_000.0, 589_000.0, 6_774_000.0)
# GeoJSON of GetFeatureInfo: coordinates in the request's CRS, easting (longitude) first as
# GeoJSON orders them, the CRS named as GeoJSON 2008 did (QGIS reads this `crs` member);
# EPSG:4326 and CRS:84 requests both get longitude/latitude, named CRS84 so that the order
# is unambiguous.
GEOJSON_CRS_NAMES = {
    25832: "urn:ogc:def:crs:EPSG::25832",
    25833: "urn:ogc:def:crs:EPSG::25833",
    3857: "urn:ogc:def:crs:EPSG::3857",
    4326: "urn:ogc:def:crs:OGC:1.3:CRS84",
}
# Decimals of GetFeatureInfo coordinates: 1 cm, or about 1 cm in degrees.
GEOJSON_DECIMALS = {25832: 2, 25833: 2, 3857: 2, 4326: 7}
EXCEPTION_1_1_1_DTD = "http://schemas.opengis.net/wms/1.1.1/exception_1_1_1.dtd"
# Most features GetFeatureInfo lists per query layer (FEATURE_COUNT).
MAX_FEATURE_COUNT = 50
# Sizes, pixels and counts are at most nine ASCII digits (int() of a long digit string
# costs quadratic time, and no size here needs more).
_INTEGER = re.compile(r"[0-9]{1,9}")
# Characters XML 1.0 does not allow (§2.2): echoed in an error document they would make it
# ill-formed.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
SHOWN_CHARS = 80


@dataclass(frozen=True)
class ScaleLimits:
    """What a BBOX may be in a CRS of these units (a pixel is BBOX size / WIDTH or HEIGHT)."""

    unit: str
    min_pixel: float
    max_span: float
    max_coordinate: float


# Metres (UTM 32/33 and Web Mercator): a pixel of at least 1 mm, ten times finer than the
# most detailed plan data (cm-accurate surveys); below that only the cost of drawing grows
# (see CLIP_DASHES_BELOW_M in app.wms.render). No map is wider than the world: the equator
# is 40,075 km, the full width of EPSG:3857; coordinates lie within that of the origin.
METRES = ScaleLimits("m", 0.001, 40_075_017.0, 40_075_017.0)
# Degrees (EPSG:4326, CRS:84): 1e-8° is 1.1 mm at the equator; the world is 360° wide, and
# longitudes of -360..360 cover clients that count from 0 to 360.
DEGREES = ScaleLimits("°", 1e-8, 360.0, 360.0)
LIMITS_BY_EPSG = {25832: METRES, 25833: METRES, 3857: METRES, 4326: DEGREES}


class WmsError(Exception):
    """A WMS error, answered with a ServiceExceptionReport (HTTP `status`, 400 by default)."""

    def __init__(
        self, message: str, code: str | None = None, locator: str | None = None, status: int = 400
    ):
        super().__init__(message)
        self.message, self.code, self.locator, self.status = message, code, locator, status


@dataclass(frozen=True)
class WmsResponse:
    """Body, media type and HTTP status of a WMS answer."""

    body: bytes
    media_type: str
    status: int = 200


def xml_text(value: str) -> str:
    """Replace the characters XML 1.0 cannot hold, so the document stays well-formed."""
    return _NOT_XML.sub("\ufffd", value)


def shown(value: str) -> str:
    """A client's value as quoted in an error message: shortened, safe for XML."""
    value = value if len(value) <= SHOWN_CHARS else value[:SHOWN_CHARS] + "…"
    return xml_text(value)


def exception_report(error: WmsError, version: str) -> WmsResponse:
    """Build the ServiceExceptionReport of the requested version."""
    code = f" code={quoteattr(error.code)}" if error.code else ""
    message = escape(xml_text(error.message))
    if version == "1.1.1":
        # exception_1_1_1.dtd gives ServiceException a `code` only: the parameter at fault
        # is named in the message.
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<!DOCTYPE ServiceExceptionReport SYSTEM "{EXCEPTION_1_1_1_DTD}">'
            '<ServiceExceptionReport version="1.1.1">'
            f"<ServiceException{code}>{message}</ServiceException></ServiceExceptionReport>"
        )
        return WmsResponse(body.encode(), "application/vnd.ogc.se_xml", error.status)
    locator = f" locator={quoteattr(xml_text(error.locator))}" if error.locator else ""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<ServiceExceptionReport version="1.3.0" xmlns="http://www.opengis.net/ogc" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://www.opengis.net/ogc '
        'http://schemas.opengis.net/wms/1.3.0/exceptions_1_3_0.xsd">'
        f"<ServiceException{code}{locator}>{message}</ServiceException>"
        "</ServiceExceptionReport>"
    )
    return WmsResponse(body.encode(), "text/xml", error.status)


def _required(params: dict[str, str], name: str) -> str:
    value = params.get(name, "").strip()
    if not value:
        raise WmsError(f"parameter {name} is missing", "MissingParameterValue", name)
    return value


def _optional(params: dict[str, str], name: str, default: str) -> str:
    """An optional parameter's value; sent empty it counts as not sent."""
    return params.get(name, "").strip() or default


def refuse_sld(params: dict[str, str]) -> None:
    """Refuse client-supplied styling: SLD documents are never fetched or parsed here."""
    for name in ("SLD", "SLD_BODY"):
        if name in params:
            raise WmsError(
                f"{name} is not supported; choose one of a layer's styles with STYLES",
                "InvalidParameterValue",
                name,
            )


def _crs(params: dict[str, str], version: str) -> tuple[str, int, bool]:
    """Return (CRS name, EPSG code, whether BBOX has latitude first)."""
    name = "CRS" if version == "1.3.0" else "SRS"
    value = _required(params, name).upper()
    if version == "1.3.0" and value == CRS84:
        return value, 4326, False
    if value not in CRS_CODES:
        code = "InvalidCRS" if version == "1.3.0" else "InvalidSRS"
        offered = ", ".join([*CRS_CODES, CRS84] if version == "1.3.0" else CRS_CODES)
        raise WmsError(f"{name} {shown(value)} is not offered; use one of {offered}", code, name)
    return value, CRS_CODES[value], version == "1.3.0" and value == "EPSG:4326"


def _bbox(
    params: dict[str, str], lat_first: bool, epsg: int, width: int, height: int
) -> tuple[float, float, float, float]:
    """Return a finite BBOX (x first) of positive size whose pixels are within the limits."""
    raw = _required(params, "BBOX")
    parts = [part.strip() for part in raw.split(",")]
    values = [float(p) for p in parts if is_double(p)]
    if len(parts) != 4 or len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise WmsError(
            f"BBOX '{shown(raw)}' must be four finite numbers minx,miny,maxx,maxy",
            "InvalidParameterValue",
            "BBOX",
        )
    if values[0] >= values[2] or values[1] >= values[3]:
        raise WmsError(
            f"BBOX '{shown(raw)}' must have min < max on both axes", "InvalidParameterValue", "BBOX"
        )
    minx, miny, maxx, maxy = (
        (values[1], values[0], values[3], values[2]) if lat_first else tuple(values)
    )
    limits = LIMITS_BY_EPSG[epsg]
    unit = limits.unit
    if max(abs(v) for v in values) > limits.max_coordinate:
        raise WmsError(
            f"BBOX '{shown(raw)}' lies outside the world: coordinates in this CRS are within "
            f"±{limits.max_coordinate:g} {unit}",
            "InvalidParameterValue",
            "BBOX",
        )
    if max(maxx - minx, maxy - miny) > limits.max_span:
        raise WmsError(
            f"BBOX '{shown(raw)}' is wider than the world ({limits.max_span:g} {unit})",
            "InvalidParameterValue",
            "BBOX",
        )
    pixel = min((maxx - minx) / width, (maxy - miny) / height)
    # A hair of slack, so a BBOX of exactly WIDTH x 1 mm is not refused for a rounding error.
    if pixel < limits.min_pixel * (1 - 1e-9):
        raise WmsError(
            f"BBOX and WIDTH/HEIGHT give pixels of {pixel:.3g} {unit}; the smallest allowed "
            f"is {limits.min_pixel:g} {unit}",
            "InvalidParameterValue",
            "BBOX",
        )
    return minx, miny, maxx, maxy


def _integer(params: dict[str, str], name: str, low: int, high: int, code: str) -> int:
    raw = _required(params, name)
    if not _INTEGER.fullmatch(raw) or not low <= int(raw) <= high:
        raise WmsError(f"{name} must be a whole number from {low} to {high}", code, name)
    return int(raw)


def _size(params: dict[str, str], name: str, limit: int) -> int:
    return _integer(params, name, 1, limit, "InvalidParameterValue")


def _layer_names(params: dict[str, str], name: str, settings: Settings) -> list[str]:
    names = _required(params, name).split(",")
    if len(names) > settings.wms_max_layers:
        raise WmsError(
            f"{name} names {len(names)} layers; at most {settings.wms_max_layers} may be named",
            "InvalidParameterValue",
            name,
        )
    return names


def _members(name: str, catalog: dict[str, WmsLayer], param: str) -> list[WmsLayer]:
    """Return the layers a name stands for: the layer, or a group's layers."""
    if name == FINDINGS_GROUP:
        # Least serious first, so conflicts are drawn on top.
        return list(reversed([x for x in catalog.values() if x.group == FINDINGS_GROUP]))
    if name in catalog:
        return [catalog[name]]
    raise WmsError(f"layer '{shown(name)}' is not offered", "LayerNotDefined", param)


def _styled(
    params: dict[str, str], catalog: dict[str, WmsLayer], settings: Settings
) -> list[tuple[WmsLayer, tuple[str, ...]]]:
    """Return the layers of LAYERS (groups expanded) with the styles STYLES names for them."""
    names = _layer_names(params, "LAYERS", settings)
    requested = params.get("STYLES", "")
    if requested.count(",") >= settings.wms_max_layers:
        raise WmsError(
            f"STYLES names {requested.count(',') + 1} styles; at most "
            f"{settings.wms_max_layers} may be named",
            "InvalidParameterValue",
            "STYLES",
        )
    styles = requested.split(",") if requested.strip(",") else [""] * len(names)
    if len(styles) != len(names):
        raise WmsError(
            "STYLES must name one style (or none) per layer in LAYERS", "StyleNotDefined", "STYLES"
        )
    styled: list[tuple[WmsLayer, tuple[str, ...]]] = []
    for name, style in zip(names, styles, strict=True):
        for layer in _members(name, catalog, "LAYERS"):
            if style in ("", "default"):
                styled.append((layer, layer.styles))
            elif style in layer.styles:
                styled.append((layer, (style,)))
            else:
                raise WmsError(
                    f"style '{shown(style)}' is not defined for layer '{layer.name}'",
                    "StyleNotDefined",
                    "STYLES",
                )
    if len(styled) > settings.wms_max_layers:
        raise WmsError(
            f"LAYERS stands for {len(styled)} layers (a group counts each of its layers); "
            f"at most {settings.wms_max_layers} may be drawn at once",
            "InvalidParameterValue",
            "LAYERS",
        )
    _require_raster_files(styled)
    return styled


def _require_raster_files(styled: list[tuple[WmsLayer, tuple[str, ...]]]) -> None:
    """Refuse a raster layer whose loaded version's file is gone (503 ServiceUnavailable, as
    app.routers.wms names it): drawn without it, the map would say "no data here"."""
    for layer, _ in styled:
        if layer.kind == "raster" and layer.raster_file and not layer.raster_file.is_file():
            logger.error("WMS layer %s: raster file %s is missing", layer.name, layer.raster_file)
            raise WmsError(
                f"the raster file of layer '{layer.name}' ({layer.raster_file.name}) is "
                "missing; the layer cannot be drawn until the file is restored",
                "ServiceUnavailable",
                "LAYERS",
                status=503,
            )


def _background(params: dict[str, str], opaque: bool = False) -> str | None:
    """The map's background colour, None for a transparent one; an `opaque` format (JPEG)
    is drawn on BGCOLOR whatever TRANSPARENT says (WMS 1.3.0 §7.3.3.9)."""
    transparent = _optional(params, "TRANSPARENT", "FALSE").upper()
    if transparent not in ("TRUE", "FALSE"):
        raise WmsError(
            f"TRANSPARENT '{shown(transparent)}' must be TRUE or FALSE",
            "InvalidParameterValue",
            "TRANSPARENT",
        )
    colour = _optional(params, "BGCOLOR", "0xFFFFFF")
    if not re.fullmatch(r"0x[0-9A-Fa-f]{6}", colour):
        raise WmsError(
            f"BGCOLOR '{shown(colour)}' must look like 0xRRGGBB", "InvalidParameterValue", "BGCOLOR"
        )
    return None if transparent == "TRUE" and not opaque else "#" + colour[2:]


def _legend_format(params: dict[str, str]) -> None:
    value = _optional(params, "FORMAT", PNG)
    # Legends are PNG; media type parameters (image/png; mode=8bit) are allowed and ignored.
    if value.split(";")[0].strip().lower() != PNG:
        raise WmsError(
            f"FORMAT {shown(value)} is not offered; use {PNG}", "InvalidFormat", "FORMAT"
        )


def _map_format(params: dict[str, str]) -> str:
    """Return the offered GetMap format FORMAT names (case and spaces around ';' aside)."""
    value = _required(params, "FORMAT")
    media_type = "; ".join(part.strip() for part in value.lower().split(";"))
    if media_type not in MAP_FORMATS:
        raise WmsError(
            f"FORMAT {shown(value)} is not offered; use one of {', '.join(MAP_FORMATS)}",
            "InvalidFormat",
            "FORMAT",
        )
    return media_type


def get_map(
    params: dict[str, str],
    version: str,
    catalog: dict[str, WmsLayer],
    settings: Settings,
    queue_deadline: float | None = None,
) -> Callable[[], WmsResponse]:
    """Check a GetMap request; return the render (in the render pool) that answers it.

    Checking needs no renderer, so a bad request is answered at once even while every
    renderer is busy; the caller waits for a renderer only to run the returned render.
    """
    refuse_sld(params)
    styled = _styled(params, catalog, settings)
    _, epsg, lat_first = _crs(params, version)
    width = _size(params, "WIDTH", settings.wms_max_size)
    height = _size(params, "HEIGHT", settings.wms_max_size)
    bbox = _bbox(params, lat_first, epsg, width, height)
    media_type = _map_format(params)
    image_format = MAP_FORMATS[media_type]
    background = _background(params, opaque=image_format == "jpeg")

    def render() -> WmsResponse:
        image = render_map(
            styled,
            f"epsg:{epsg}",
            bbox,
            width,
            height,
            settings.database_url,
            background,
            settings=settings,
            queue_deadline=queue_deadline,
            image_format=image_format,
        )
        return WmsResponse(image, media_type)

    return render


def _point(
    params: dict[str, str], version: str, bbox, width: int, height: int
) -> tuple[float, float, float]:
    """Return the map coordinates of the queried pixel's centre and the size of a pixel."""
    names = ("I", "J") if version == "1.3.0" else ("X", "Y")
    i = _integer(params, names[0], 0, width - 1, "InvalidPoint")
    j = _integer(params, names[1], 0, height - 1, "InvalidPoint")
    minx, miny, maxx, maxy = bbox
    x = minx + (i + 0.5) * (maxx - minx) / width
    y = maxy - (j + 0.5) * (maxy - miny) / height
    return x, y, (maxx - minx) / width


def _crs_name(epsg: int) -> str:
    """The pyproj name of an offered CRS, longitude first for EPSG:4326 (as x, y here)."""
    return "OGC:CRS84" if epsg == 4326 else f"EPSG:{epsg}"


@lru_cache(maxsize=16)
def _to_canonical(epsg: int) -> Transformer:
    return Transformer.from_crs(_crs_name(epsg), f"EPSG:{CANONICAL_SRID}", always_xy=True)


@lru_cache(maxsize=16)
def _from_canonical(epsg: int) -> Transformer:
    return Transformer.from_crs(f"EPSG:{CANONICAL_SRID}", _crs_name(epsg), always_xy=True)


def _feature_count(params: dict[str, str]) -> int:
    if not params.get("FEATURE_COUNT", "").strip():
        return 1
    return _integer(params, "FEATURE_COUNT", 1, MAX_FEATURE_COUNT, "InvalidParameterValue")


def get_feature_info(
    params: dict[str, str],
    version: str,
    catalog: dict[str, WmsLayer],
    settings: Settings,
    session: Session,
) -> WmsResponse:
    """Answer GetFeatureInfo: the features of the query layers under (and near) a pixel."""
    refuse_sld(params)
    map_layers = {layer.name for layer, _ in _styled(params, catalog, settings)}
    query_layers: dict[str, WmsLayer] = {}
    for name in _layer_names(params, "QUERY_LAYERS", settings):
        for layer in _members(name, catalog, "QUERY_LAYERS"):
            query_layers[layer.name] = layer
    for layer in query_layers.values():
        if layer.name not in map_layers:
            raise WmsError(
                f"query layer '{layer.name}' is not in LAYERS", "LayerNotDefined", "QUERY_LAYERS"
            )
        if not layer.queryable:
            raise WmsError(
                f"layer '{layer.name}' is not queryable", "LayerNotQueryable", "QUERY_LAYERS"
            )
    _, epsg, lat_first = _crs(params, version)
    width = _size(params, "WIDTH", settings.wms_max_size)
    height = _size(params, "HEIGHT", settings.wms_max_size)
    bbox = _bbox(params, lat_first, epsg, width, height)
    info_format = _optional(params, "INFO_FORMAT", "text/html")
    if info_format not in INFO_FORMATS:
        raise WmsError(
            f"INFO_FORMAT {shown(info_format)} is not offered; use one of "
            f"{', '.join(INFO_FORMATS)}",
            "InvalidFormat",
            "INFO_FORMAT",
        )
    feature_count = _feature_count(params)
    x, y, pixel = _point(params, version, bbox, width, height)
    transformer = _to_canonical(epsg)
    cx, cy = transformer.transform(x, y)
    px, _ = transformer.transform(x + pixel, y)
    results: list[dict[str, Any]] = []
    if all(math.isfinite(v) for v in (cx, cy, px)):  # else the point is off the projection
        # Three pixels around the click, so thin lines and points can be hit.
        tolerance = max(abs(px - cx) * 3, 0.5)
        # A query layer is a view (the G5 matrix cuts every municipality): bounded like a render.
        timeout_ms = max(1, round(settings.wms_render_timeout_s * 1000))
        session.execute(
            text("SELECT set_config('statement_timeout', :ms, true)"), {"ms": str(timeout_ms)}
        )
        # JSON answers with geometries, for highlighting: simplified to half a pixel, which
        # no highlight shows (a whole matrix cell stays small). HTML and XML list attributes.
        simplify = abs(px - cx) / 2 if info_format == "application/json" else None
        for layer in query_layers.values():
            results.extend(
                _query_layer(session, layer, (cx, cy), tolerance, simplify, feature_count, epsg)
            )
    return _info_response(results, info_format, epsg)


# The column GetFeatureInfo reads a feature's GeoJSON geometry from.
GEOMETRY_COLUMN = "gfi_geometry"


def _query_layer(
    session: Session,
    layer: WmsLayer,
    point: tuple[float, float],
    tolerance: float,
    simplify: float | None,
    limit: int,
    epsg: int,
) -> list[dict[str, Any]]:
    x, y = point
    if layer.kind == "raster":
        if layer.raster_file is None or not layer.raster_file.exists():
            return []
        value = sample_values(layer.raster_file, [(x, y)])[0]
        if value is None or not math.isfinite(value):
            return []
        properties = {"value": round(value, 1)}
        cell = raster_cell(layer.raster_file, x, y) if simplify is not None else None
        geometry = None
        if cell is not None:
            to_request = _from_canonical(epsg)
            ring = [_rounded(to_request.transform(*corner), epsg) for corner in cell]
            geometry = {"type": "Polygon", "coordinates": [ring]}
        return [
            {
                "layer": layer.name,
                "id": None,
                "properties": properties,
                "geometry": geometry,
                **raster_info(layer, value),
            }
        ]
    # layer.sql is built from the layer registry and integers only (app.wms.catalog); it is
    # wrapped because its alias differs between layers (t, z). ST_AsGeoJSON's options 0: no
    # `crs` member inside the geometry (the collection names it).
    geojson = (
        f"ST_AsGeoJSON(ST_Transform(ST_Simplify(q.geom, :simplify, true), {int(epsg)}), "
        f"{GEOJSON_DECIMALS[epsg]}, 0)"
        if simplify is not None
        else "NULL"
    )
    query = text(
        f"SELECT q.*, {geojson} AS {GEOMETRY_COLUMN} "
        f"FROM (SELECT * FROM {layer.sql}) AS q WHERE ST_DWithin(q.geom, "
        f"ST_SetSRID(ST_MakePoint(:x, :y), {CANONICAL_SRID}), :tolerance) LIMIT :limit"
    )
    rows = session.execute(
        query, {"x": x, "y": y, "tolerance": tolerance, "simplify": simplify, "limit": limit}
    ).mappings()
    out = []
    for row in rows:
        properties = {k: _plain(v) for k, v in row.items() if k not in ("geom", GEOMETRY_COLUMN)}
        shown = {k: v for k, v in properties.items() if k not in HIDDEN}
        geometry = row[GEOMETRY_COLUMN]
        # No internal row ids reach the client: the feature is named by its layer and title.
        out.append(
            {
                "layer": layer.name,
                "id": None,
                "properties": shown,
                "geometry": json.loads(geometry) if geometry else None,
                **vector_info(layer, shown),
            }
        )
    return out


def _rounded(xy: tuple[float, float], epsg: int) -> list[float]:
    return [round(v, GEOJSON_DECIMALS[epsg]) for v in xy]


def _plain(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # JSON has no NaN or Infinity
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _info_response(results: list[dict[str, Any]], info_format: str, epsg: int) -> WmsResponse:
    if info_format == "application/json":
        features = [
            {
                "type": "Feature",
                "id": None,
                "properties": {
                    "layer": r["layer"],
                    "layer_title": r["layer_title"],
                    "title": r["title"],
                    "fields": r["fields"],
                    **r["properties"],
                },
                "geometry": r["geometry"],
            }
            for r in results
        ]
        crs = {"type": "name", "properties": {"name": GEOJSON_CRS_NAMES[epsg]}}
        collection = {"type": "FeatureCollection", "crs": crs, "features": features}
        body = json.dumps(collection, ensure_ascii=False)
        return WmsResponse(body.encode(), "application/json")
    if info_format == "text/xml":
        parts = ['<?xml version="1.0" encoding="UTF-8"?><FeatureInfoResponse>']
        for r in results:
            attributes = "".join(
                f"<Attribute name={quoteattr(xml_text(str(k)))} "
                f"value={quoteattr(xml_text(_text(v)))}/>"
                for k, v in r["properties"].items()
            )
            parts.append(f"<Feature layer={quoteattr(r['layer'])}>{attributes}</Feature>")
        parts.append("</FeatureInfoResponse>")
        return WmsResponse("".join(parts).encode(), "text/xml")
    rows = []
    for r in results:
        cells = "".join(
            f"<tr><th>{html.escape(f['label'])}</th><td>{html.escape(f['value'])}</td></tr>"
            for f in r["fields"]
        )
        rows.append(
            f"<h3>{html.escape(r['title'])}</h3><p>{html.escape(r['layer_title'])}</p>"
            f"<table>{cells}</table>"
        )
    body = (
        '<!DOCTYPE html><html lang="nb"><head><meta charset="utf-8"></head><body>'
        + ("".join(rows) or "<p>Ingen objekter her.</p>")
        + "</body></html>"
    )
    return WmsResponse(body.encode(), "text/html")


def get_legend_graphic(
    params: dict[str, str],
    catalog: dict[str, WmsLayer],
    settings: Settings,
    queue_deadline: float | None = None,
) -> Callable[[], WmsResponse]:
    """Check a GetLegendGraphic request; return the render of the legend that answers it."""
    refuse_sld(params)
    name = _required(params, "LAYER")
    layer = catalog.get(name)
    if name == FINDINGS_GROUP:
        # The group's members share one style whose rules name every severity (QGIS asks for
        # the legend of a group it shows as one layer).
        layer = next((x for x in catalog.values() if x.group == FINDINGS_GROUP), None)
    if layer is None:
        raise WmsError(f"layer '{shown(name)}' is not offered", "LayerNotDefined", "LAYER")
    style = _optional(params, "STYLE", layer.style_file)
    if style not in layer.styles:
        raise WmsError(
            f"style '{shown(style)}' is not defined for layer '{name}'",
            "StyleNotDefined",
            "STYLE",
        )
    _legend_format(params)
    # The legend's size follows from its rows: WIDTH, HEIGHT, SCALE and RULE are not read.
    return lambda: WmsResponse(
        legend_png(layer, style, settings=settings, queue_deadline=queue_deadline), PNG
    )


def _outward(box: Extent, decimals: int) -> Extent:
    """Round a box outwards, so the rounded box still holds everything the exact one does."""
    scale = 10**decimals
    return (
        math.floor(box[0] * scale) / scale,
        math.floor(box[1] * scale) / scale,
        math.ceil(box[2] * scale) / scale,
        math.ceil(box[3] * scale) / scale,
    )


@lru_cache(maxsize=512)
def _extent_boxes(extent: Extent, version: str) -> dict[str, Any]:
    """An EPSG:25832 extent as capabilities give it: geographic (west, south, east, north)
    and one bounding box per offered CRS, in that CRS's axis order for the version."""
    boxes = []
    geo: Extent = extent
    for crs, epsg in CRS_CODES.items():
        decimals = 6 if epsg == 4326 else 2
        minx, miny, maxx, maxy = _outward(_from_canonical(epsg).transform_bounds(*extent), decimals)
        if epsg == 4326:
            geo = (minx, miny, maxx, maxy)
            if version == "1.3.0":  # latitude first, EPSG's axis order (as in a BBOX)
                minx, miny, maxx, maxy = miny, minx, maxy, maxx
        boxes.append({"crs": crs, "minx": minx, "miny": miny, "maxx": maxx, "maxy": maxy})
    return {
        "geo": {"west": geo[0], "south": geo[1], "east": geo[2], "north": geo[3]},
        "bboxes": boxes,
    }


# Vector extents are widened by how far a symbol reaches past its feature at county scale
# (an 11 px marker or a label at 1:1 000 000, 0.28 mm pixels): QGIS asks a WMS only for the
# part of the view inside a layer's advertised extent, so a box drawn tight around the data
# cuts the markers and outlines on its edges in half.
SYMBOL_REACH_M = 2_000.0


def _padded(extent: Extent, margin: float) -> Extent:
    """An extent widened by `margin` on every side."""
    return (extent[0] - margin, extent[1] - margin, extent[2] + margin, extent[3] + margin)


def _layer_extents(session: Session, catalog: dict[str, WmsLayer]) -> dict[str, Extent]:
    """Each layer's extent from its data (EPSG:25832); a layer without data gets the county's.
    Also under FINDINGS_GROUP (its layers together) and "" (everything, the county too)."""
    measured = data_extents(session)
    county = measured.get(COUNTY) or COUNTY_FALLBACK_25832
    extents: dict[str, Extent] = {}
    for layer in catalog.values():
        own = layer.extent or measured.get(layer.name)
        if layer.parts:  # the base map draws the municipalities over its rasters
            own = union_extent(county, *(part.extent for part, _ in layer.parts))
        if own is not None and layer.kind == "vector":
            own = _padded(own, SYMBOL_REACH_M)
        extents[layer.name] = own or county
    grouped = [extents[x.name] for x in catalog.values() if x.group == FINDINGS_GROUP]
    extents[FINDINGS_GROUP] = union_extent(*grouped) or county
    extents[""] = union_extent(county, *extents.values()) or county
    return extents


@lru_cache
def _templates() -> Environment:
    return Environment(
        loader=PackageLoader("app", "templates"),
        autoescape=select_autoescape(["xml"], default_for_string=True),
    )


def get_capabilities(
    version: str, url: str, catalog: dict[str, WmsLayer], settings: Settings, session: Session
) -> WmsResponse:
    """Describe the service and every layer, with its extent (from the data) in every CRS,
    and legend URLs."""
    extents = _layer_extents(session, catalog)
    boxes = {name: _extent_boxes(extent, version) for name, extent in extents.items()}
    tree: list[dict[str, Any]] = []
    grouped = [x for x in catalog.values() if x.group == FINDINGS_GROUP]
    for layer in catalog.values():
        if layer.group is None:
            tree.append({"layer": layer})
    tree.append(
        {
            "name": FINDINGS_GROUP,
            "title": "Funn fra kontrollene",
            "abstract": "Funn fra siste kontroll av siste versjon av hvert planforslag.",
            "children": grouped,
        }
    )
    legend_heights = {
        layer.name: LEGEND_ROW_PX * max(1, len(legend_rows(layer, layer.style_file)))
        for layer in catalog.values()
    }
    crs_list = [*CRS_CODES, CRS84] if version == "1.3.0" else list(CRS_CODES)
    body = (
        _templates()
        .get_template(f"wms_{version}.xml")
        .render(
            url=url,
            max_size=settings.wms_max_size,
            layer_limit=settings.wms_max_layers,
            info_formats=INFO_FORMATS,
            map_formats=MAP_FORMATS,
            crs_list=crs_list,
            root=boxes[""],
            boxes=boxes,
            tree=tree,
            legend_heights=legend_heights,
        )
    )
    media_type = "text/xml" if version == "1.3.0" else "application/vnd.ogc.wms_xml"
    return WmsResponse(body.encode("utf-8"), media_type)
