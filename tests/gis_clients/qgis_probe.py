"""Load the service's WMS, OGC API – Features and vector-tile layers in PyQGIS; print JSON.

Run by tests/test_gis_clients.py under Debian's /usr/bin/python3 (python3-qgis, QGIS 3.22)
with QT_QPA_PLATFORM=offscreen, never under the project's virtual environment:

    /usr/bin/python3 tests/gis_clients/qgis_probe.py PLAN.json

PLAN.json names the server and what to load (see `main`). Every check reports what QGIS
saw, or the error QGIS gave, so that one failing check does not hide the others; the test
decides what is right. Nothing here talks to any host but the one in the plan.
"""

import json
import sys
import traceback
from pathlib import Path

from qgis.core import (
    Qgis,
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsDataSourceUri,
    QgsFeatureRequest,
    QgsFillSymbol,
    QgsMapRendererSequentialJob,
    QgsMapSettings,
    QgsNetworkAccessManager,
    QgsPointXY,
    QgsRaster,
    QgsRasterDataProvider,
    QgsRasterLayer,
    QgsRectangle,
    QgsVectorLayer,
    QgsVectorTileBasicRenderer,
    QgsVectorTileBasicRendererStyle,
    QgsVectorTileLayer,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor, QImage

MESSAGES: list[str] = []


def log_message(message: str, tag: str, level: Qgis.MessageLevel) -> None:
    """Keep QGIS's log: the clients' own error texts go into the report."""
    if level >= Qgis.Warning:
        MESSAGES.append(f"{tag}: {message}")


def checked(function):
    """Run one check; an exception becomes {'error': ...} instead of ending the probe."""

    def run(*args, **kwargs) -> dict:
        start = len(MESSAGES)
        try:
            result = function(*args, **kwargs)
        except Exception as error:  # the report carries any failure to the test
            result = {"error": f"{type(error).__name__}: {error}", "trace": traceback.format_exc()}
        result["log"] = MESSAGES[start:]
        return result

    return run


def image_summary(image: QImage, path: Path) -> dict:
    """Save the image and count its drawn (non-transparent) pixels."""
    image = image.convertToFormat(QImage.Format_RGBA8888)
    image.save(str(path))
    width, height = image.width(), image.height()
    bits = image.constBits()
    bits.setsize(image.sizeInBytes())
    rows = bytes(bits)
    line = image.bytesPerLine()

    def rgba(x: int, y: int) -> list[int]:
        return list(rows[y * line + 4 * x : y * line + 4 * x + 4])

    def drawn_in(xs: range, ys: range) -> int:
        return sum(1 for y in ys for x in xs if rows[y * line + 4 * x + 3] > 0)

    mid_x, mid_y = width // 2, height // 2
    return {
        "width": width,
        "height": height,
        "drawn_pixels": drawn_in(range(width), range(height)),
        # Drawn pixels in each quarter around the centre (its row and column left out).
        "quarters": {
            "nw": drawn_in(range(mid_x), range(mid_y)),
            "ne": drawn_in(range(mid_x + 1, width), range(mid_y)),
            "sw": drawn_in(range(mid_x), range(mid_y + 1, height)),
            "se": drawn_in(range(mid_x + 1, width), range(mid_y + 1, height)),
        },
        "centre_rgba": rgba(width // 2, height // 2),
        "corner_rgba": rgba(2, 2),
        "path": str(path),
    }


def render(layer, crs: str, extent: list[float], size: int, path: Path) -> dict:
    """Render one layer offscreen, as QGIS's map canvas or a print layout does."""
    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setDestinationCrs(QgsCoordinateReferenceSystem(crs))
    settings.setExtent(QgsRectangle(*extent))
    settings.setOutputSize(QSize(size, size))
    settings.setBackgroundColor(QColor(0, 0, 0, 0))
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    summary = image_summary(job.renderedImage(), path)
    summary["errors"] = [f"{error.layerID}: {error.message}" for error in job.errors()]
    return summary


def wms_uri(base: str, layer: str, crs: str, image_format: str) -> str:
    """A WMS data source as QGIS's Add WMS layer dialog writes it."""
    uri = QgsDataSourceUri()
    for key, value in (
        ("contextualWMSLegend", "0"),
        ("crs", crs),
        ("dpiMode", "7"),
        ("format", image_format),
        ("layers", layer),
        ("styles", ""),
        ("url", f"{base}/wms"),
    ):
        uri.setParam(key, value)
    return bytes(uri.encodedUri()).decode()


@checked
def check_wms(plan: dict, out: Path) -> dict:
    """Load a WMS layer from GetCapabilities and render it; identify in feature mode."""
    wms = plan["wms"]
    layer = QgsRasterLayer(wms_uri(plan["base"], wms["layer"], wms["crs"], "image/png"), "w", "wms")
    result: dict = {"valid": layer.isValid()}
    if not layer.isValid():
        result["error"] = layer.error().summary() or layer.dataProvider().error().summary()
        return result
    provider = layer.dataProvider()
    extent = layer.extent()
    result["crs"] = layer.crs().authid()
    result["extent"] = [extent.xMinimum(), extent.yMinimum(), extent.xMaximum(), extent.yMaximum()]
    # Whether QGIS offers identify, in feature mode (from GetFeatureInfo's formats).
    result["can_identify"] = bool(provider.capabilities() & QgsRasterDataProvider.Identify)
    result["identifies_features"] = bool(
        provider.capabilities() & QgsRasterDataProvider.IdentifyFeature
    )
    result["render"] = render(layer, wms["crs"], wms["bbox"], wms["size"], out / "wms.png")
    result["identify"] = identify(provider, wms)
    return result


def identify(provider, wms: dict) -> dict:
    """Identify at a point in feature mode, as QGIS's Identify tool does on a WMS layer."""
    found = provider.identify(
        QgsPointXY(*wms["point"]),
        QgsRaster.IdentifyFormatFeature,
        QgsRectangle(*wms["bbox"]),
        wms["size"],
        wms["size"],
    )
    # error() of a valid result crashes PyQGIS 3.22: read it only when there is one.
    error = None if found.isValid() else found.error().summary()
    report: dict = {"valid": found.isValid(), "error": error, "features": []}
    strings = []
    for result in found.results().values():
        if isinstance(result, str):  # the provider reports a parse error as a string result
            strings.append(result)
            continue
        for store in result:
            for feature in store.features():
                geometry = feature.geometry()
                report["features"].append(
                    {
                        "store_crs": store.crs().authid(),
                        "sublayer": store.params().get("sublayer"),
                        "attributes": {
                            field.name(): str(attribute)
                            for field, attribute in zip(
                                feature.fields(), feature.attributes(), strict=True
                            )
                        },
                        "geometry_type": QgsWkbTypes.displayString(geometry.wkbType())
                        if not geometry.isNull()
                        else None,
                        "geometry_bbox": bbox_of(geometry) if not geometry.isNull() else None,
                    }
                )
    report["string_results"] = strings
    return report


def bbox_of(geometry) -> list[float]:
    """A geometry's bounding box as [minx, miny, maxx, maxy]."""
    box = geometry.boundingBox()
    return [box.xMinimum(), box.yMinimum(), box.xMaximum(), box.yMaximum()]


@checked
def check_wms_latitude_first(plan: dict) -> dict:
    """Identify on the WMS layer in EPSG:4326, whose WMS 1.3.0 BBOX is latitude first."""
    wms = plan["wms_4326"]
    uri = wms_uri(plan["base"], plan["wms"]["layer"], "EPSG:4326", "image/png")
    layer = QgsRasterLayer(uri, "w-4326", "wms")
    if not layer.isValid():
        return {"valid": False, "error": layer.error().summary()}
    return {"valid": True, "identify": identify(layer.dataProvider(), wms)}


@checked
def check_wms_layer_edge(plan: dict, out: Path) -> dict:
    """Draw a point at the corner of its layer's extent, where QGIS clips its GetMap."""
    edge = plan["wms_edge"]
    uri = wms_uri(plan["base"], edge["layer"], plan["wms"]["crs"], "image/png")
    layer = QgsRasterLayer(uri, "w-edge", "wms")
    if not layer.isValid():
        return {"valid": False, "error": layer.error().summary()}
    extent = layer.extent()
    return {
        "valid": True,
        "extent": [extent.xMinimum(), extent.yMinimum(), extent.xMaximum(), extent.yMaximum()],
        "render": render(layer, plan["wms"]["crs"], edge["bbox"], edge["size"], out / "edge.png"),
    }


@checked
def check_wms_jpeg(plan: dict, out: Path) -> dict:
    """Render the same WMS layer asking QGIS for JPEG images."""
    wms = plan["wms"]
    uri = wms_uri(plan["base"], wms["layer"], wms["crs"], "image/jpeg")
    layer = QgsRasterLayer(uri, "w-jpeg", "wms")
    if not layer.isValid():
        return {"valid": False, "error": layer.error().summary()}
    image = render(layer, wms["crs"], wms["bbox"], 64, out / "wms-jpeg.png")
    return {"valid": True, "render": image}


@checked
def check_oapif(plan: dict, collection: str) -> dict:
    """Load a collection with QGIS's OAPIF provider and read its features."""
    uri = QgsDataSourceUri()
    uri.setParam("url", f"{plan['base']}/ogcapi")
    uri.setParam("typename", collection)
    uri.setParam("pagingEnabled", "true")
    layer = QgsVectorLayer(uri.uri(False), collection, "OAPIF")
    result: dict = {"valid": layer.isValid()}
    if not layer.isValid():
        result["error"] = layer.error().summary() or layer.dataProvider().error().summary()
        return result
    extent = layer.extent()
    features = list(layer.getFeatures(QgsFeatureRequest()))
    result.update(
        {
            "feature_count": layer.featureCount(),
            "features_read": len(features),
            "fields": {field.name(): field.typeName() for field in layer.fields()},
            "wkb_type": QgsWkbTypes.displayString(layer.wkbType()),
            "crs": layer.crs().authid(),
            "extent": [
                extent.xMinimum(),
                extent.yMinimum(),
                extent.xMaximum(),
                extent.yMaximum(),
            ],
            "geometry_types": sorted(
                {QgsWkbTypes.displayString(f.geometry().wkbType()) for f in features}
            ),
            "geometry_bbox": bbox_of(features[0].geometry()) if features else None,
        }
    )
    return result


@checked
def check_raster_tiles(plan: dict, out: Path) -> dict:
    """Load the WMS layer's map tiles as an XYZ layer (QGIS's XYZ Tiles) and draw the map."""
    wms = plan["wms"]
    uri = QgsDataSourceUri()
    uri.setParam("type", "xyz")
    uri.setParam("url", plan["raster_tiles"]["template"])
    uri.setParam("zmin", "0")
    uri.setParam("zmax", str(plan["raster_tiles"]["zmax"]))
    layer = QgsRasterLayer(bytes(uri.encodedUri()).decode(), "xyz", "wms")
    if not layer.isValid():
        return {"valid": False, "error": layer.error().summary()}
    image = render(layer, wms["crs"], wms["bbox"], wms["size"], out / "xyz.png")
    return {"valid": True, "render": image}


@checked
def check_vector_tiles(plan: dict, out: Path) -> dict:
    """Load the collection's tiles as a QGIS vector tile layer and draw one tile's extent.

    QGIS 3.22 gives Python no tile decoder (getRawTile came later), so the decoding is shown
    by drawing: once with a style for every MVT layer, once with a style for the MVT layer
    named like the collection only.
    """
    tiles = plan["tiles"]
    uri = QgsDataSourceUri()
    uri.setParam("type", "xyz")
    uri.setParam("url", tiles["template"])
    uri.setParam("zmin", "0")
    uri.setParam("zmax", str(tiles["zmax"]))
    layer = QgsVectorTileLayer(bytes(uri.encodedUri()).decode(), "tiles")
    result: dict = {"valid": layer.isValid()}
    if not layer.isValid():
        result["error"] = layer.error().summary()
        return result
    result["source_type"] = layer.sourceType()
    for name, layer_name in (("render_all", ""), ("render_named", tiles["layer_name"])):
        layer.setRenderer(fill_renderer(layer_name))
        result[name] = render(layer, "EPSG:3857", tiles["extent"], 256, out / f"{name}.png")
    return result


def fill_renderer(layer_name: str) -> QgsVectorTileBasicRenderer:
    """Fill the polygons of one MVT layer (every layer when the name is empty) in red."""
    style = QgsVectorTileBasicRendererStyle("fill", layer_name, QgsWkbTypes.PolygonGeometry)
    style.setSymbol(QgsFillSymbol.createSimple({"color": "255,0,0,255", "outline_style": "no"}))
    renderer = QgsVectorTileBasicRenderer()
    renderer.setStyles([style])
    return renderer


def main() -> None:
    """Read the plan, run every check, print one JSON report."""
    plan = json.loads(Path(sys.argv[1]).read_text("utf-8"))
    out = Path(plan["out_dir"])
    app = QgsApplication([], False, str(out / "profile"))
    app.initQgis()
    QgsApplication.messageLog().messageReceived.connect(log_message)
    QgsNetworkAccessManager.setTimeout(plan.get("timeout_ms", 30_000))
    report = {
        "qgis_version": Qgis.QGIS_VERSION,
        "wms": check_wms(plan, out),
        "wms_jpeg": check_wms_jpeg(plan, out),
        "wms_4326": check_wms_latitude_first(plan),
        "wms_edge": check_wms_layer_edge(plan, out),
        "oapif": {name: check_oapif(plan, name) for name in plan["collections"]},
        "vector_tiles": check_vector_tiles(plan, out),
        "raster_tiles": check_raster_tiles(plan, out),
    }
    print(json.dumps(report))
    sys.stdout.flush()
    app.exitQgis()


if __name__ == "__main__":
    main()
