"""Examples of the WMS: GetMap, GetCapabilities, GetFeatureInfo, exceptions."""

from typing import Any

from app.openapi_examples.layers import DEPOSIT_PROPERTIES

WMS_GETMAP_URL = (
    "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=elevation,mineral_deposits,"
    "municipalities&STYLES=&CRS=EPSG:25832&BBOX=420000,6570000,620000,6800000&WIDTH=900"
    "&HEIGHT=1035&FORMAT=image/png"
)

WMS_DESCRIPTION = (
    "Answer GetCapabilities, GetMap (PNG, PNG8, JPEG), GetFeatureInfo and GetLegendGraphic. "
    "A service for GIS clients (QGIS: *Add WMS/WMTS Layer*, URL `/wms`) rather than a JSON "
    "API: parameter names are case-insensitive and errors are OGC ServiceExceptionReports. "
    "Start with `/wms?SERVICE=WMS&REQUEST=GetCapabilities`; a map of the terrain, mineral "
    f"deposits and municipalities: `{WMS_GETMAP_URL}`."
)

WMS_CAPABILITIES = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<WMS_Capabilities version="1.3.0" xmlns="http://www.opengis.net/wms" …>\n'
    "  <Service><Name>WMS</Name><Title>Arealsjekk – Buskerudplanen</Title>…</Service>\n"
    "  <Capability>…<Layer><Name>mineral_deposits</Name>…</Layer>…</Capability>\n"
    "</WMS_Capabilities>"
)

WMS_EXCEPTION = (
    '<?xml version="1.0" encoding="UTF-8"?><ServiceExceptionReport version="1.3.0" '
    'xmlns="http://www.opengis.net/ogc"><ServiceException code="OperationNotSupported" '
    'locator="REQUEST">REQUEST GetTile is not supported</ServiceException>'
    "</ServiceExceptionReport>"
)

WMS_FEATURE_INFO = {
    "type": "FeatureCollection",
    # The CRS of the request (EPSG:4326 and CRS:84 answer in CRS84, longitude first).
    "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::25832"}},
    "features": [
        {
            "type": "Feature",
            "id": None,
            "properties": {
                "layer": "mineral_deposits",
                "layer_title": "Mineralressurser (grus, pukk, industrimineraler, naturstein)",
                "title": "Skollenborg",
                "fields": [
                    {"label": "Navn", "value": "Skollenborg"},
                    {"label": "Betydning", "value": "regional"},
                ],
                **{k: v for k, v in DEPOSIT_PROPERTIES.items() if k != "source_fid"},
            },
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [
                        [543120.0, 6613480.0],
                        [543610.0, 6613480.0],
                        [543610.0, 6613890.0],
                        [543120.0, 6613890.0],
                        [543120.0, 6613480.0],
                    ]
                ],
            },
        }
    ],
}


def _wms_param(name: str, description: str, example: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": "string"},
        "example": example,
    }


WMS_OPENAPI: dict[str, Any] = {
    "parameters": [
        _wms_param("SERVICE", "WMS", "WMS"),
        _wms_param(
            "REQUEST", "GetCapabilities, GetMap, GetFeatureInfo or GetLegendGraphic", "GetMap"
        ),
        _wms_param("VERSION", "1.3.0 (default) or 1.1.1", "1.3.0"),
        _wms_param("LAYERS", "comma-separated layer names (see GetCapabilities)", "elevation"),
        _wms_param("STYLES", "one style per layer; empty for the defaults", ""),
        _wms_param(
            "CRS",
            "EPSG:25832, EPSG:25833, EPSG:4326 (latitude first) or EPSG:3857; SRS in 1.1.1",
            "EPSG:25832",
        ),
        _wms_param("BBOX", "minx,miny,maxx,maxy in CRS", "420000,6570000,620000,6800000"),
        _wms_param("WIDTH", "pixels, at most 4096", "900"),
        _wms_param("HEIGHT", "pixels, at most 4096", "1035"),
        _wms_param("FORMAT", "image/png", "image/png"),
        _wms_param("TRANSPARENT", "TRUE for a transparent background", "FALSE"),
    ]
}
