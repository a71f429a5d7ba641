"""Mapnik map definitions for WMS maps, legends and report maps, drawn in the render pool.

The map definitions are built here, in the service's process; Mapnik itself runs only in
the render processes of app.wms.pool (app.wms.worker), where a render can be stopped.
"""

import json
from functools import lru_cache
from xml.etree import ElementTree
from xml.sax.saxutils import escape, quoteattr

from sqlalchemy.engine import make_url

from app.settings import Settings, get_settings
from app.wms import pool
from app.wms.catalog import WmsLayer, style_rules, style_xml
from spatial.crs import CANONICAL_SRID
from spatial.plan_colours import EXISTING_STATUS, get_plan_colours

# The extent Mapnik is told each PostGIS layer has (EPSG:25832), so that it does not ask
# PostGIS on every request. Mapnik draws nothing of a layer where a map's BBOX misses this
# box, so it is far wider than Buskerud (national layers reach past the county): mainland
# Norway and its neighbours in the UTM 32 grid.
LAYER_EXTENT_25832 = (-1_000_000.0, 5_500_000.0, 2_500_000.0, 9_000_000.0)
LEGEND_ROW_PX = 22
# Pixels around a base map drawn too, for labels crossing its edge (Mapnik's buffer-size).
LABEL_BUFFER_PX = 128
LEGEND_WIDTH_PX = 320
# Mapnik's PostGIS plugin keeps a small connection pool per process; a render process draws
# one map at a time, its layers one after the other.
CONNECTIONS_PER_RENDERER = 2
# zlib's run-length strategy compresses flat-colour vector maps about as small as the default
# and much faster; continuous raster colours need the default's longer matches.
PNG_VECTOR = "png32:s=rle"
PNG_RASTER = "png32"
# The other formats render_map draws: a palette PNG (Mapnik's hextree quantizer keeps
# partial transparency) and JPEG at Mapnik's default quality.
IMAGE_FORMATS = {"png8": "png8:m=h", "jpeg": "jpeg85"}
# PostGIS drops each vertex nearer than this share of a pixel to the one kept before it:
# outlines move by less than half a pixel (MapServer's AGG renderer drops vertices within a
# whole pixel), while every vertex costs Mapnik a line join. A feature that fits inside one
# pixel (its box's diagonal is shorter than a pixel) is drawn as its bounding box instead, as
# GeoServer's renderer draws such features as one pixel: at county scale that is nearly every
# heritage feature, 5 vertices each. The styles join lines with mitres limited
# to twice the line width, so such a box shows as a dot of about one pixel, and at the sharp
# turns of a ring collapsed to a sliver the mitre is cut off one pixel out, not a long spike.
THIN_PIXELS = 0.5
# Mapnik draws a line unclipped by default, and lays a dashed line's dashes along its whole
# length: the work grows with the length in pixels, outside the image too, and without end
# for the micro BBOX of issue 16. Below this pixel size (in metres) dashed lines are clipped
# to the view: cheap at any scale, but the dash pattern then restarts at the image edge, so
# it is kept unclipped where tiles must join (the map page stops at ~0.3 m pixels).
CLIP_DASHES_BELOW_M = 0.25
# Metres per degree of latitude, to compare pixels of a geographic CRS with the limit above.
METRES_PER_DEGREE = 111_320.0


def postgis_parameters(database_url: str) -> dict[str, str]:
    """Translate the SQLAlchemy URL into Mapnik's PostGIS datasource parameters."""
    url = make_url(database_url)
    host = url.query.get("host") or url.host or ""
    params = {
        "host": host if isinstance(host, str) else host[0],
        "port": str(url.query.get("port") or url.port or 5432),
        "dbname": url.database or "",
        "user": url.username or "",
    }
    if url.password:
        params["password"] = str(url.password)
    return params


def _parameters(values: dict[str, str]) -> str:
    return "".join(
        f"<Parameter name={quoteattr(k)}>{escape(v)}</Parameter>" for k, v in values.items()
    )


def thinned_sql(sql: str) -> str:
    """Wrap a layer's subquery: its box filter, geometries without sub-pixel vertices, and
    features smaller than a pixel as their bounding box."""
    # With !bbox! in the table Mapnik adds no filter of its own; PostgreSQL pushes this one
    # into the layer's subquery, where the GiST index can serve it. OFFSET 0 plans the
    # filtered rows apart from the thinning: costed with it, a large view got a parallel scan
    # whose rows arrive in a varying order, so the same GetMap drew overlaps differently.
    # The size test and the box cost PostgreSQL no more than the thinning they replace.
    return (
        "(SELECT *, CASE WHEN ST_Length(ST_BoundingDiagonal(geom)) < !pixel_width! "
        "THEN ST_Envelope(geom) "
        f"ELSE ST_RemoveRepeatedPoints(geom, !pixel_width! * {THIN_PIXELS}) END AS px_geom "
        f"FROM (SELECT * FROM {sql} WHERE geom && !bbox! OFFSET 0) AS boxed) AS px"
    )


@lru_cache(maxsize=1)
def _plan_colour_values() -> str:
    """The tegneregler table as SQL VALUES rows: (code, framtidig fill, nåværende fill)."""
    table = get_plan_colours().arealformal.values()
    return ", ".join(f"({c.code}, '{c.fill}', '{c.fill_existing}')" for c in table)


def plan_fill_sql(sql: str) -> str:
    """Add a `fill` column to a layer's subquery: its arealformål's tegneregler colour, in the
    nåværende shade for arealbruksstatus 1 and the framtidig shade otherwise."""
    default = get_plan_colours().default
    return (
        "(SELECT q.*, CASE WHEN q.arealbruksstatus = "
        f"{EXISTING_STATUS} THEN COALESCE(pc.existing, '{default.fill_existing}') "
        f"ELSE COALESCE(pc.future, '{default.fill}') END AS fill "
        f"FROM (SELECT * FROM {sql}) AS q LEFT JOIN (VALUES {_plan_colour_values()}) "
        "AS pc(code, future, existing) ON pc.code = q.arealformal) AS pf"
    )


def _datasource(layer: WmsLayer, connection: dict[str, str]) -> str | None:
    if layer.kind == "raster":
        if layer.raster_file is None or not layer.raster_file.exists():
            return None
        return _parameters({"type": "gdal", "file": str(layer.raster_file), "band": "1"})
    sql = plan_fill_sql(layer.sql or "") if layer.plan_fill else layer.sql or ""
    return _parameters(
        {
            "type": "postgis",
            **connection,
            "table": thinned_sql(sql),
            "geometry_field": "px_geom",
            "srid": str(CANONICAL_SRID),
            "key_field": "id",
            "extent": ",".join(str(v) for v in LAYER_EXTENT_25832),
            "persist_connection": "true",
            "max_size": str(CONNECTIONS_PER_RENDERER),
        }
    )


@lru_cache(maxsize=128)
def _styles(style_file: str, clip_dashes: bool) -> str:
    """Return a layer's <Style> elements, with dashed lines clipped to the view if asked."""
    text = style_xml(style_file)
    if not clip_dashes:
        return text
    root = ElementTree.fromstring(f"<Styles>{text}</Styles>")
    for line in root.iter("LineSymbolizer"):
        if line.get("stroke-dasharray"):
            line.set("clip", "true")
    return "".join(ElementTree.tostring(style, encoding="unicode") for style in root)


def clips_dashes(
    srs: str, bbox: tuple[float, float, float, float], width: int, height: int
) -> bool:
    """Whether a map's pixels are small enough that dashed lines must be clipped to the view."""
    pixel = min((bbox[2] - bbox[0]) / width, (bbox[3] - bbox[1]) / height)
    if srs.lower() == "epsg:4326":
        pixel *= METRES_PER_DEGREE
    return pixel < CLIP_DASHES_BELOW_M


def map_xml(
    layers: list[tuple[WmsLayer, tuple[str, ...]]],
    srs: str,
    connection: dict[str, str],
    background: str | None,
    clip_dashes: bool = False,
) -> str:
    """Build the Mapnik map definition: styles from layers/styles, one Layer per WMS layer
    (one per part for a layer drawn from several sources)."""
    has_parts = any(layer.parts for layer, _ in layers)
    layers = [drawn for layer in layers for drawn in (layer[0].parts or (layer,))]
    styles = {layer.style_file: _styles(layer.style_file, clip_dashes) for layer, _ in layers}
    blocks = []
    for layer, style_names in layers:
        datasource = _datasource(layer, connection)
        if datasource is None:
            continue
        names = "".join(f"<StyleName>{escape(s)}</StyleName>" for s in style_names)
        blocks.append(
            f'<Layer name={quoteattr(layer.name)} srs="epsg:{CANONICAL_SRID}">'
            f"{names}<Datasource>{datasource}</Datasource></Layer>"
        )
    background_attr = f" background-color={quoteattr(background)}" if background else ""
    if has_parts:
        # Labels near a tile's edge are placed from the features around it too, so that
        # neighbouring tiles draw the same name whole.
        background_attr += f' buffer-size="{LABEL_BUFFER_PX}"'
    return (
        f"<Map srs={quoteattr(srs)}{background_attr}>"
        + "".join(styles.values())
        + "".join(blocks)
        + "</Map>"
    )


def render_map(
    layers: list[tuple[WmsLayer, tuple[str, ...]]],
    srs: str,
    bbox: tuple[float, float, float, float],
    width: int,
    height: int,
    database_url: str,
    background: str | None,
    *,
    settings: Settings | None = None,
    queue_deadline: float | None = None,
    image_format: str = "png",
) -> bytes:
    """Render the layers (bottom first) into an image of the given size and map extent, in
    the render pool (raises app.wms.pool.RenderError when it cannot): a PNG, or `png8` or
    `jpeg` (give JPEG a background: it has no transparency)."""
    clip = clips_dashes(srs, bbox, width, height)
    xml = map_xml(layers, srs, postgis_parameters(database_url), background, clip)
    has_raster = any(
        drawn.kind == "raster" for layer, _ in layers for drawn, _ in layer.parts or ((layer, ()),)
    )
    if image_format != "png" and image_format not in IMAGE_FORMATS:
        raise ValueError(f"no image format {image_format!r}")
    encoding = IMAGE_FORMATS.get(image_format) or (PNG_RASTER if has_raster else PNG_VECTOR)
    job = pool.RenderJob(xml, bbox, width, height, encoding)
    return pool.render(job, settings or get_settings(), queue_deadline)


def _swatch_feature(index: int, label: str) -> list[dict]:
    top = -index * LEGEND_ROW_PX
    box = [[4, top - 4], [26, top - 4], [26, top - 18], [4, top - 18], [4, top - 4]]
    return [
        {
            "type": "Feature",
            "properties": {"row": index},
            "geometry": {"type": "Polygon", "coordinates": [box]},
        },
        {
            "type": "Feature",
            "properties": {"row": index, "label": label},
            "geometry": {"type": "Point", "coordinates": [34, top - 11]},
        },
    ]


def legend_rows(layer: WmsLayer, style_name: str) -> list[tuple[str, str]]:
    """Return (label, symbolizer XML) per legend row: a style's rules, or a raster's stops."""
    rows: list[tuple[str, str]] = []
    for rule in style_rules(layer.style_file, style_name):
        label = rule.get("name") or layer.title
        raster = rule.find("RasterSymbolizer")
        if raster is not None:
            # A raster legend shows its colour stops: "800 moh." etc., or the stop's label.
            unit = label.split("(")[-1].rstrip(")") if "(" in label else ""
            for stop in raster.iter("stop"):
                if stop.get("color") == "transparent":
                    continue
                fill = quoteattr(stop.get("color", "#000000"))
                row_label = stop.get("label") or f"{stop.get('value')} {unit}".strip()
                rows.append((row_label, f"<PolygonSymbolizer fill={fill}/>"))
            continue
        if rule.find("TextSymbolizer") is not None and len(rule) == 1 + (
            rule.find("Filter") is not None
        ):
            continue  # labels alone have no swatch
        symbolizers = "".join(
            ElementTree.tostring(child, encoding="unicode")
            for child in rule
            if child.tag.endswith("Symbolizer") and child.tag != "TextSymbolizer"
        )
        if 'fill="[fill]"' in symbolizers:
            # The tegneregler colours (a SQL column on the map): one row per main arealformål.
            colours = get_plan_colours()
            for code, title in colours.legend.items():
                fill = quoteattr(colours.colour(code).fill)
                rows.append((title, symbolizers.replace('fill="[fill]"', f"fill={fill}")))
            continue
        rows.append((label, symbolizers))
    return rows


def legend_xml(layer: WmsLayer, style_name: str) -> tuple[str, int]:
    """Build a legend's map definition (one row per style rule or colour stop) and height."""
    rows = legend_rows(layer, style_name)
    features = [f for i, (label, _) in enumerate(rows) for f in _swatch_feature(i, label)]
    swatch_rules = "".join(
        f"<Rule><Filter>[row] = {i} and not ([label] != null)</Filter>{symbolizers}</Rule>"
        for i, (_, symbolizers) in enumerate(rows)
    )
    height = max(LEGEND_ROW_PX * len(rows), LEGEND_ROW_PX)
    inline = json.dumps({"type": "FeatureCollection", "features": features})
    xml = (
        '<Map srs="epsg:3857" background-color="white">'
        f'<Style name="swatches">{swatch_rules}</Style>'
        '<Style name="labels"><Rule><Filter>[label] != null</Filter>'
        '<TextSymbolizer face-name="DejaVu Sans Book" size="11" fill="#222222" '
        'horizontal-alignment="right" placement="point" allow-overlap="true">[label]'
        "</TextSymbolizer></Rule></Style>"
        '<Layer name="legend" srs="epsg:3857"><StyleName>swatches</StyleName>'
        "<StyleName>labels</StyleName><Datasource>"
        + _parameters({"type": "geojson", "inline": inline})
        + "</Datasource></Layer></Map>"
    )
    return xml, height


def legend_png(
    layer: WmsLayer,
    style_name: str,
    *,
    settings: Settings | None = None,
    queue_deadline: float | None = None,
) -> bytes:
    """Render a legend in the render pool: one row per style rule (or colour stop)."""
    xml, height = legend_xml(layer, style_name)
    job = pool.RenderJob(xml, (0, -height, LEGEND_WIDTH_PX, 0), LEGEND_WIDTH_PX, height, "png32")
    return pool.render(job, settings or get_settings(), queue_deadline)
