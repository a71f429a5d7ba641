"""One small plan in every format Arealsjekk reads: three areas of the Hemsedal kommuneplan.

The areas are an excerpt of `samples/hemsedal-kpa-2026.geojson` (3326_KPA2026, EPSG:25832).
The format table (spatial.inputs.formats) gives each format its example from here; the API
document shows them and the tests read each with its reader.
"""

import io
import json
import tempfile
import warnings
import zipfile
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import geopandas as gpd
import pyogrio
from shapely.geometry import shape

PLAN: dict[str, Any] = {
    "kommunenummer": "3326",
    "planidentifikasjon": "KPA2026",
    "plantype": 20,
    "planstatus": 2,
    "plannavn": "Kommuneplanens arealdel 2026-2038, høringsforslag",
}
EPSG = 25832

EXAMPLE_GEOJSON: dict[str, Any] = {
    "type": "FeatureCollection",
    "name": "Hemsedal kommuneplan 2026-2038, høringsforslag",
    "crs": {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{EPSG}"}},
    "plan": PLAN,
    "features": [
        {
            "type": "Feature",
            "id": "BFR10",
            "properties": {
                "objtype": "KpArealformålOmråde",
                "arealformal": 1120,
                "arealbruksstatus": 2,
                "omradenavn": "BFR10 Storeli øvre",
            },
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [
                        [477231, 6750440],
                        [477332, 6750553],
                        [477402, 6750710],
                        [477186, 6750835],
                        [476969, 6750960],
                        [476868, 6750847],
                        [476798, 6750690],
                        [477028, 6750586],
                        [477231, 6750440],
                    ]
                ],
            },
        },
        {
            "type": "Feature",
            "id": "BFR11",
            "properties": {
                "objtype": "KpArealformålOmråde",
                "arealformal": 1120,
                "arealbruksstatus": 2,
                "omradenavn": "BFR11 Vestlia",
            },
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [
                        [474949, 6751234],
                        [475000, 6751321],
                        [475026, 6751429],
                        [474838, 6751498],
                        [474651, 6751566],
                        [474600, 6751479],
                        [474574, 6751371],
                        [474767, 6751316],
                        [474949, 6751234],
                    ]
                ],
            },
        },
        {
            "type": "Feature",
            "id": "H570_1",
            "properties": {
                "objtype": "KpAngittHensynSone",
                "angitthensyn": 570,
                "hensynsonenavn": "H570_1 Tuv",
            },
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [
                        [469900, 6746150],
                        [469900, 6746850],
                        [468950, 6746850],
                        [468950, 6746150],
                        [469900, 6746150],
                    ]
                ],
            },
        },
    ],
}

_FEATURES: list[dict[str, Any]] = EXAMPLE_GEOJSON["features"]
_APP = "http://skjema.geonorge.no/SOSI/produktspesifikasjon/Kommuneplan/5.0"


def geojson_example() -> bytes:
    """The example plan as GeoJSON (the 2008 `crs` member names EPSG:25832)."""
    return json.dumps(EXAMPLE_GEOJSON, ensure_ascii=False, indent=1).encode("utf-8")


def gml_example() -> bytes:
    """The example plan as Plan-GML 5.0: an Arealplan object and the three areas."""
    srs = f"http://www.opengis.net/def/crs/EPSG/0/{EPSG}"
    plan = "".join(f"<app:{key}>{escape(str(value))}</app:{key}>" for key, value in PLAN.items())
    members = [f'<app:Arealplan gml:id="plan">{plan}</app:Arealplan>']
    for feature in _FEATURES:
        properties = dict(feature["properties"])
        objtype = properties.pop("objtype")
        values = "".join(f"<app:{k}>{escape(str(v))}</app:{k}>" for k, v in properties.items())
        ring = " ".join(f"{x} {y}" for x, y in feature["geometry"]["coordinates"][0])
        members.append(
            f"<app:{objtype} gml:id={quoteattr(feature['id'])}>{values}"
            f"<app:område><gml:Polygon gml:id={quoteattr(feature['id'] + '-flate')} "
            f'srsName="{srs}"><gml:exterior><gml:LinearRing><gml:posList>{ring}'
            "</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></app:område>"
            f"</app:{objtype}>"
        )
    body = "\n  ".join(f"<gml:featureMember>{m}</gml:featureMember>" for m in members)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<gml:FeatureCollection xmlns:gml="http://www.opengis.net/gml/3.2" '
        f'xmlns:app="{_APP}" gml:id="example">\n  {body}\n</gml:FeatureCollection>\n'
    ).encode()


def sosi_example() -> bytes:
    """The example plan as SOSI 4.5: each area a .FLATE bounded by one .KURVE (metres)."""
    lines = [
        ".HODE",
        "..TEGNSETT UTF-8",
        "..TRANSPAR",
        "...KOORDSYS 22",  # EUREF89 UTM zone 32, EPSG:25832
        "...ORIGO-NØ 0 0",
        "...ENHET 1",
        "..SOSI-VERSJON 4.5",
    ]
    curves = []
    for serial, feature in enumerate(_FEATURES, start=1):
        curve = 100 + serial
        ring = feature["geometry"]["coordinates"][0]
        lines.append(f".FLATE {serial}:")
        for key, value in feature["properties"].items():
            text = f'"{value}"' if isinstance(value, str) and " " in value else value
            lines.append(f"..{key.upper()} {text}")
        lines += [f"..REF :{curve}", "..NØ", f"{ring[0][1]} {ring[0][0]}"]
        curves += [f".KURVE {curve}:", "..OBJTYPE KpGrense", "..NØ"]
        curves += [f"{y} {x}" for x, y in ring]
    return "\n".join([*lines, *curves, ".SLUTT", ""]).encode("utf-8")


def _frame() -> gpd.GeoDataFrame:
    rows = [{"id": f["id"], **f["properties"]} for f in _FEATURES]
    geometries = [shape(f["geometry"]) for f in _FEATURES]
    return gpd.GeoDataFrame(rows, geometry=geometries, crs=f"EPSG:{EPSG}")


def geopackage_example() -> bytes:
    """The example plan as a GeoPackage of one layer."""
    with tempfile.TemporaryDirectory(prefix="arealsjekk-example-") as directory:
        path = Path(directory) / "plan.gpkg"
        pyogrio.write_dataframe(_frame(), path, layer="KpArealformalOmrade", driver="GPKG")
        return path.read_bytes()


def zipped_shapefile_example() -> bytes:
    """The example plan as a zipped Shapefile (.shp, .shx, .dbf, .prj and .cpg)."""
    with tempfile.TemporaryDirectory(prefix="arealsjekk-example-") as directory:
        path = Path(directory) / "plan.shp"
        with warnings.catch_warnings():
            # A .dbf holds names of up to 10 characters; the reader restores the plan's.
            warnings.filterwarnings("ignore", "Normalized/laundered field name")
            pyogrio.write_dataframe(_frame(), path, driver="ESRI Shapefile", encoding="UTF-8")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for part in sorted(Path(directory).iterdir()):
                archive.write(part, part.name)
        return buffer.getvalue()
