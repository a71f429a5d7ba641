"""The WMS protocol (1.3.0 and 1.1.1): parameters, capabilities, GetMap, GetFeatureInfo, legends."""

import html
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from jinja2 import Environment, PackageLoader, select_autoescape
from pyproj import Transformer
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.settings import Settings
from app.wms.catalog import FINDINGS_GROUP, WmsLayer
from app.wms.render import (
    BUSKERUD_EXTENT_25832,
    LEGEND_ROW_PX,
    legend_png,
    legend_rows,
    render_map,
)
from spatial.crs import CANONICAL_SRID
from spatial.raster import sample_values

VERSIONS = ("1.3.0", "1.1.1")
# CRSs offered; in WMS 1.3.0 EPSG:4326 has latitude first (axis order of the EPSG registry).
CRS_CODES = {"EPSG:25832": 25832, "EPSG:25833": 25833, "EPSG:4326": 4326, "EPSG:3857": 3857}
CRS84 = "CRS:84"
INFO_FORMATS = ("text/html", "application/json", "text/xml")
PNG = "image/png"


class WmsError(Exception):
    """A WMS client error, answered with a ServiceExceptionReport."""

    def __init__(self, message: str, code: str | None = None, locator: str | None = None):
        super().__init__(message)
        self.message, self.code, self.locator = message, code, locator


@dataclass(frozen=True)
class WmsResponse:
    """Body, media type and HTTP status of a WMS answer."""

    body: bytes
    media_type: str
    status: int = 200


def exception_report(error: WmsError, version: str) -> WmsResponse:
    """Build the ServiceExceptionReport of the requested version."""
    code = f" code={quoteattr(error.code)}" if error.code else ""
    locator = f" locator={quoteattr(error.locator)}" if error.locator else ""
    exception = f"<ServiceException{code}{locator}>{escape(error.message)}</ServiceException>"
    if version == "1.1.1":
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<ServiceExceptionReport version="1.1.1">' + exception + "</ServiceExceptionReport>"
        )
        return WmsResponse(body.encode(), "application/vnd.ogc.se_xml", 400)
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<ServiceExceptionReport version="1.3.0" xmlns="http://www.opengis.net/ogc">'
        + exception
        + "</ServiceExceptionReport>"
    )
    return WmsResponse(body.encode(), "text/xml", 400)


def _required(params: dict[str, str], name: str) -> str:
    value = params.get(name, "").strip()
    if not value:
        raise WmsError(f"parameter {name} is missing", "MissingParameterValue", name)
    return value


def _crs(params: dict[str, str], version: str) -> tuple[str, int, bool]:
    """Return (CRS name, EPSG code, whether BBOX has latitude first)."""
    name = "CRS" if version == "1.3.0" else "SRS"
    value = _required(params, name).upper()
    if version == "1.3.0" and value == CRS84:
        return value, 4326, False
    if value not in CRS_CODES:
        code = "InvalidCRS" if version == "1.3.0" else "InvalidSRS"
        offered = ", ".join([*CRS_CODES, CRS84] if version == "1.3.0" else CRS_CODES)
        raise WmsError(f"{name} {value} is not offered; use one of {offered}", code, name)
    return value, CRS_CODES[value], version == "1.3.0" and value == "EPSG:4326"


def _bbox(params: dict[str, str], lat_first: bool) -> tuple[float, float, float, float]:
    raw = _required(params, "BBOX")
    try:
        values = [float(v) for v in raw.split(",")]
    except ValueError:
        values = []
    if len(values) != 4 or values[0] >= values[2] or values[1] >= values[3]:
        raise WmsError(
            f"BBOX '{raw}' must be four numbers minx,miny,maxx,maxy with min < max",
            "InvalidParameterValue",
            "BBOX",
        )
    if lat_first:
        return values[1], values[0], values[3], values[2]
    return values[0], values[1], values[2], values[3]


def _size(params: dict[str, str], name: str, limit: int) -> int:
    raw = _required(params, name)
    if not raw.isdigit() or not 1 <= int(raw) <= limit:
        raise WmsError(
            f"{name} must be a whole number from 1 to {limit}", "InvalidParameterValue", name
        )
    return int(raw)


def _layers(
    params: dict[str, str], catalog: dict[str, WmsLayer], name: str = "LAYERS"
) -> list[WmsLayer]:
    layers: list[WmsLayer] = []
    for layer_name in _required(params, name).split(","):
        if layer_name == FINDINGS_GROUP:
            # Least serious first, so conflicts are drawn on top.
            group = [x for x in catalog.values() if x.group == FINDINGS_GROUP]
            layers.extend(reversed(group))
        elif layer_name in catalog:
            layers.append(catalog[layer_name])
        else:
            raise WmsError(f"layer '{layer_name}' is not offered", "LayerNotDefined", name)
    return layers


def _styled(
    params: dict[str, str], layers: list[WmsLayer]
) -> list[tuple[WmsLayer, tuple[str, ...]]]:
    requested = params.get("STYLES", "")
    names = requested.split(",") if requested else [""] * len(layers)
    if len(names) != len(layers):
        names = [""] * len(layers) if requested.strip(",") == "" else names
    if len(names) != len(layers):
        raise WmsError(
            "STYLES must name one style (or none) per layer", "StyleNotDefined", "STYLES"
        )
    styled = []
    for layer, style in zip(layers, names, strict=True):
        if style in ("", "default"):
            styled.append((layer, layer.styles))
        elif style in layer.styles:
            styled.append((layer, (style,)))
        else:
            raise WmsError(
                f"style '{style}' is not defined for layer '{layer.name}'",
                "StyleNotDefined",
                "STYLES",
            )
    return styled


def _background(params: dict[str, str]) -> str | None:
    if params.get("TRANSPARENT", "FALSE").upper() == "TRUE":
        return None
    colour = params.get("BGCOLOR", "0xFFFFFF")
    if not re.fullmatch(r"0x[0-9A-Fa-f]{6}", colour):
        raise WmsError(
            f"BGCOLOR '{colour}' must look like 0xRRGGBB", "InvalidParameterValue", "BGCOLOR"
        )
    return "#" + colour[2:]


def get_map(
    params: dict[str, str], version: str, catalog: dict[str, WmsLayer], settings: Settings
) -> WmsResponse:
    """Render a GetMap request as a PNG."""
    layers = _layers(params, catalog)
    styled = _styled(params, layers)
    _, epsg, lat_first = _crs(params, version)
    bbox = _bbox(params, lat_first)
    width = _size(params, "WIDTH", settings.wms_max_size)
    height = _size(params, "HEIGHT", settings.wms_max_size)
    image_format = _required(params, "FORMAT")
    if not image_format.lower().startswith(PNG):
        raise WmsError(
            f"FORMAT {image_format} is not offered; use {PNG}", "InvalidFormat", "FORMAT"
        )
    png = render_map(
        styled, f"epsg:{epsg}", bbox, width, height, settings.database_url, _background(params)
    )
    return WmsResponse(png, PNG)


def _point(
    params: dict[str, str], version: str, bbox, width: int, height: int
) -> tuple[float, float, float]:
    """Return the map coordinates of the queried pixel's centre and the size of a pixel."""
    names = ("I", "J") if version == "1.3.0" else ("X", "Y")
    try:
        i, j = (int(_required(params, n)) for n in names)
    except ValueError:
        raise WmsError(
            f"{names[0]}/{names[1]} must be whole pixel numbers", "InvalidPoint", names[0]
        ) from None
    if not (0 <= i < width and 0 <= j < height):
        raise WmsError(
            f"pixel ({i}, {j}) lies outside the {width} x {height} map", "InvalidPoint", names[0]
        )
    minx, miny, maxx, maxy = bbox
    x = minx + (i + 0.5) * (maxx - minx) / width
    y = maxy - (j + 0.5) * (maxy - miny) / height
    return x, y, (maxx - minx) / width


@lru_cache(maxsize=16)
def _to_canonical(epsg: int) -> Transformer:
    source = "OGC:CRS84" if epsg == 4326 else f"EPSG:{epsg}"
    return Transformer.from_crs(source, f"EPSG:{CANONICAL_SRID}", always_xy=True)


def get_feature_info(
    params: dict[str, str],
    version: str,
    catalog: dict[str, WmsLayer],
    settings: Settings,
    session: Session,
) -> WmsResponse:
    """Answer GetFeatureInfo: the features of the query layers under (and near) a pixel."""
    map_layers = {layer.name for layer in _layers(params, catalog)}
    query_layers = _layers(params, catalog, "QUERY_LAYERS")
    for layer in query_layers:
        if layer.name not in map_layers:
            raise WmsError(
                f"query layer '{layer.name}' is not in LAYERS", "LayerNotDefined", "QUERY_LAYERS"
            )
        if not layer.queryable:
            raise WmsError(
                f"layer '{layer.name}' is not queryable", "LayerNotQueryable", "QUERY_LAYERS"
            )
    _, epsg, lat_first = _crs(params, version)
    bbox = _bbox(params, lat_first)
    width = _size(params, "WIDTH", settings.wms_max_size)
    height = _size(params, "HEIGHT", settings.wms_max_size)
    info_format = params.get("INFO_FORMAT", "text/html")
    if info_format not in INFO_FORMATS:
        raise WmsError(
            f"INFO_FORMAT {info_format} is not offered; use one of {', '.join(INFO_FORMATS)}",
            "InvalidFormat",
            "INFO_FORMAT",
        )
    count = params.get("FEATURE_COUNT", "1")
    feature_count = int(count) if count.isdigit() and int(count) > 0 else 1
    x, y, pixel = _point(params, version, bbox, width, height)
    transformer = _to_canonical(epsg)
    cx, cy = transformer.transform(x, y)
    px, _ = transformer.transform(x + pixel, y)
    # Three pixels around the click, so thin lines and points can be hit.
    tolerance = max(abs(px - cx) * 3, 0.5)
    results: list[dict[str, Any]] = []
    for layer in query_layers:
        results.extend(_query_layer(session, layer, cx, cy, tolerance, feature_count))
    return _info_response(results, info_format)


def _query_layer(
    session: Session, layer: WmsLayer, x: float, y: float, tolerance: float, limit: int
) -> list[dict[str, Any]]:
    if layer.kind == "raster":
        if layer.raster_file is None or not layer.raster_file.exists():
            return []
        value = sample_values(layer.raster_file, [(x, y)])[0]
        return (
            []
            if value is None
            else [{"layer": layer.name, "id": None, "properties": {"value": round(value, 1)}}]
        )
    # layer.sql is built from the layer registry and integers only (app.wms.catalog).
    query = text(
        f"SELECT * FROM {layer.sql} WHERE ST_DWithin(t.geom, "
        f"ST_SetSRID(ST_MakePoint(:x, :y), {CANONICAL_SRID}), :tolerance) LIMIT :limit"
    )
    rows = session.execute(
        query, {"x": x, "y": y, "tolerance": tolerance, "limit": limit}
    ).mappings()
    out = []
    for row in rows:
        properties = {k: _plain(v) for k, v in row.items() if k != "geom"}
        out.append({"layer": layer.name, "id": properties.get("id"), "properties": properties})
    return out


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _info_response(results: list[dict[str, Any]], info_format: str) -> WmsResponse:
    if info_format == "application/json":
        features = [
            {
                "type": "Feature",
                "id": r["id"],
                "properties": {"layer": r["layer"], **r["properties"]},
                "geometry": None,
            }
            for r in results
        ]
        body = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)
        return WmsResponse(body.encode(), "application/json")
    if info_format == "text/xml":
        parts = ['<?xml version="1.0" encoding="UTF-8"?><FeatureInfoResponse>']
        for r in results:
            attributes = "".join(
                f"<Attribute name={quoteattr(str(k))} value={quoteattr(_text(v))}/>"
                for k, v in r["properties"].items()
            )
            parts.append(f"<Feature layer={quoteattr(r['layer'])}>{attributes}</Feature>")
        parts.append("</FeatureInfoResponse>")
        return WmsResponse("".join(parts).encode(), "text/xml")
    rows = []
    for r in results:
        cells = "".join(
            f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(_text(v))}</td></tr>"
            for k, v in r["properties"].items()
        )
        rows.append(f"<h3>{html.escape(r['layer'])}</h3><table>{cells}</table>")
    body = (
        "<!DOCTYPE html><html><body>"
        + ("".join(rows) or "<p>Ingen objekter her.</p>")
        + "</body></html>"
    )
    return WmsResponse(body.encode(), "text/html")


def get_legend_graphic(params: dict[str, str], catalog: dict[str, WmsLayer]) -> WmsResponse:
    """Render the legend of one layer and style."""
    name = _required(params, "LAYER")
    layer = catalog.get(name)
    if layer is None:
        raise WmsError(f"layer '{name}' is not offered", "LayerNotDefined", "LAYER")
    style = params.get("STYLE") or layer.style_file
    if style not in layer.styles:
        raise WmsError(
            f"style '{style}' is not defined for layer '{name}'", "StyleNotDefined", "STYLE"
        )
    image_format = params.get("FORMAT", PNG)
    if not image_format.lower().startswith(PNG):
        raise WmsError(
            f"FORMAT {image_format} is not offered; use {PNG}", "InvalidFormat", "FORMAT"
        )
    return WmsResponse(legend_png(layer, style), PNG)


def _bounds_in(epsg: int) -> tuple[float, float, float, float]:
    transformer = Transformer.from_crs(
        f"EPSG:{CANONICAL_SRID}", "OGC:CRS84" if epsg == 4326 else f"EPSG:{epsg}", always_xy=True
    )
    return transformer.transform_bounds(*BUSKERUD_EXTENT_25832)


@lru_cache
def _templates() -> Environment:
    return Environment(
        loader=PackageLoader("app", "templates"),
        autoescape=select_autoescape(["xml"], default_for_string=True),
    )


def get_capabilities(
    version: str, url: str, catalog: dict[str, WmsLayer], settings: Settings
) -> WmsResponse:
    """Describe the service and every layer, with bounding boxes per CRS and legend URLs."""
    west, south, east, north = _bounds_in(4326)
    bboxes = []
    for crs, epsg in CRS_CODES.items():
        minx, miny, maxx, maxy = _bounds_in(epsg)
        if version == "1.3.0" and epsg == 4326:
            minx, miny, maxx, maxy = miny, minx, maxy, maxx
        bboxes.append(
            {
                "crs": crs,
                "minx": round(minx, 6),
                "miny": round(miny, 6),
                "maxx": round(maxx, 6),
                "maxy": round(maxy, 6),
            }
        )
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
            info_formats=INFO_FORMATS,
            crs_list=crs_list,
            geo={
                "west": round(west, 6),
                "east": round(east, 6),
                "south": round(south, 6),
                "north": round(north, 6),
            },
            bboxes=bboxes,
            tree=tree,
            legend_heights=legend_heights,
        )
    )
    media_type = "text/xml" if version == "1.3.0" else "application/vnd.ogc.wms_xml"
    return WmsResponse(body.encode("utf-8"), media_type)
