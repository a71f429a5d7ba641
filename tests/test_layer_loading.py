"""Loading guideline layers from each file format into versions, against the real PostGIS."""

import zipfile

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin
from shapely.geometry import Point, box

from app.db import get_sessionmaker
from layers.loader import LayerLoadError, LoadOptions, load_layer
from spatial.raster import sample_values
from tests.conftest import LAYER_TABLES, row_counts

NOTHING = {"layer_version": 0, "layer_feature": 0}
# Two gravel deposits near Hønefoss (EPSG:25832 metres).
DEPOSITS_25832 = [
    box(571_000, 6_670_000, 571_400, 6_670_300),
    box(572_000, 6_671_000, 572_200, 6_671_500),
]


def deposits_frame(crs: str = "EPSG:25832") -> gpd.GeoDataFrame:
    frame = gpd.GeoDataFrame(
        {
            "navn": ["Eggemoen", "Hensmoen"],
            "betydning": ["Nasjonal", "regional"],
            "ressurstype": ["grus", "grus"],
        },
        geometry=DEPOSITS_25832,
        crs="EPSG:25832",
    )
    return frame.to_crs(crs)


def load(path, layer="mineral_deposits", **options):
    with get_sessionmaker()() as session:
        return load_layer(session, layer, path, LoadOptions(**options), raster_dir=path.parent)


@pytest.fixture
def files(tmp_path):
    """The same two deposits as GeoJSON (CRS84), GeoPackage (25833), zipped Shapefile, GML."""
    paths = {}
    paths["geojson"] = tmp_path / "deposits.geojson"
    deposits_frame("EPSG:4326").to_file(paths["geojson"], driver="GeoJSON", engine="pyogrio")
    paths["gpkg"] = tmp_path / "deposits.gpkg"
    deposits_frame("EPSG:25833").to_file(paths["gpkg"], driver="GPKG", engine="pyogrio")
    shp_dir = tmp_path / "shp"
    shp_dir.mkdir()
    # Shapefile field names stop at 10 characters, so leave out "ressurstype".
    shp_frame = deposits_frame("EPSG:25833").drop(columns="ressurstype")
    shp_frame.to_file(shp_dir / "deposits.shp", engine="pyogrio")
    paths["zip"] = tmp_path / "deposits.zip"
    with zipfile.ZipFile(paths["zip"], "w") as archive:
        for member in shp_dir.iterdir():
            archive.write(member, member.name)
    paths["gml"] = tmp_path / "deposits.gml"
    deposits_frame("EPSG:25832").to_file(paths["gml"], driver="GML", engine="pyogrio")
    return paths


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "zip", "gml"])
def test_each_vector_format_loads_reprojected_to_utm32(files, fmt, client):
    """Every format gives the same two deposits in EPSG:25832, attributes mapped to the config."""
    result = load(files[fmt], source_date=None)
    assert result.created and result.version == 1 and result.feature_count == 2
    items = client.get("/api/v1/layers/mineral_deposits/items", params={"crs": "EPSG:25832"}).json()
    assert items["numberMatched"] == 2
    first = items["features"][0]
    assert first["properties"]["importance"] == "nasjonal"  # matched case-insensitively
    assert first["properties"]["name"] == "Eggemoen"
    coords = np.array(
        first["geometry"]["coordinates"][0][0]
        if first["geometry"]["type"] == "MultiPolygon"
        else first["geometry"]["coordinates"][0]
    )
    assert coords[:, 0].min() == pytest.approx(571_000, abs=0.01)
    assert coords[:, 1].max() == pytest.approx(6_670_300, abs=0.01)


def test_reloading_identical_data_creates_no_new_version(files, client):
    """The same content again, even in another format, keeps version 1; a change makes v2."""
    assert load(files["geojson"]).version == 1
    again = load(files["gml"])
    assert not again.created and again.version == 1
    changed = deposits_frame()
    changed.loc[1, "betydning"] = "lokal"
    path = files["gml"].parent / "changed.geojson"
    changed.to_file(path, driver="GeoJSON", engine="pyogrio")
    assert load(path).version == 2
    versions = client.get("/api/v1/layers/mineral_deposits/versions").json()
    assert [v["version"] for v in versions] == [2, 1]
    old = client.get("/api/v1/layers/mineral_deposits/items", params={"version": 1}).json()
    new = client.get("/api/v1/layers/mineral_deposits/items").json()
    assert old["features"][1]["properties"]["importance"] == "regional"
    assert new["features"][1]["properties"]["importance"] == "lokal"


def test_provenance_and_attr_map(tmp_path, client):
    """--attr-map picks a differently named column; source, date and licence are kept."""
    frame = deposits_frame().rename(columns={"betydning": "verdi_ngu"})
    path = tmp_path / "renamed.geojson"
    frame.to_file(path, driver="GeoJSON", engine="pyogrio")
    with pytest.raises(LayerLoadError, match="needs attribute 'importance'"):
        load(path)
    from datetime import date

    load(
        path,
        attr_map={"importance": "verdi_ngu"},
        source="NGU test extract",
        source_date=date(2025, 6, 1),
        licence="NLOD 2.0",
    )
    layer = client.get("/api/v1/layers/mineral_deposits").json()
    current = layer["current_version"]
    assert current["source"] == "NGU test extract"
    assert current["source_date"] == "2025-06-01"
    assert current["licence"] == "NLOD 2.0"
    assert current["feature_count"] == 2 and len(current["checksum"]) == 64
    # What an operator needs to prepare a download: the real names and the value map.
    importance = layer["attributes"]["importance"]
    assert "rastoffBetydning" in importance["source_names"]
    assert importance["values"]["Liten lokal betydning"] == "liten eller ingen"


def test_bbox_filter_and_paging(files, client):
    """bbox (CRS84 by default, or in bbox-crs) and limit/offset select features."""
    load(files["geojson"])
    url = "/api/v1/layers/mineral_deposits/items"
    only_first = client.get(
        url, params={"bbox": "570900,6669900,571500,6670400", "bbox-crs": "EPSG:25832"}
    ).json()
    assert [f["properties"]["name"] for f in only_first["features"]] == ["Eggemoen"]
    everywhere = client.get(url, params={"bbox": "7,59,11,61.5"}).json()
    assert everywhere["numberMatched"] == 2
    paged = client.get(url, params={"limit": 1, "offset": 1}).json()
    assert paged["numberReturned"] == 1 and paged["features"][0]["properties"]["name"] == "Hensmoen"
    assert client.get(url, params={"bbox": "1,2,3"}).status_code == 422


def test_layers_listing(files, client):
    """Every registry layer is listed; loaded ones carry their current version."""
    load(files["geojson"])
    layers = {layer["id"]: layer for layer in client.get("/api/v1/layers").json()}
    assert {
        "tree_line",
        "elevation",
        "mineral_deposits",
        "villrein_corridors",
        "tettsteder",
    } <= set(layers)
    assert layers["mineral_deposits"]["current_version"]["feature_count"] == 2
    assert layers["tree_line"]["current_version"] is None
    assert layers["tree_line"]["kind"] == "raster"
    assert client.get("/api/v1/layers/nope").status_code == 404


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.geojson", b'{"type": "FeatureCollection", "features": [', "cannot be read"),
        ("bad.gpkg", b"SQLite format 3\x00 but not really", "cannot be read"),
        ("bad.zip", b"PK\x03\x04 broken zip", "cannot be read"),
        ("bad.gml", b"<gml:FeatureCollection><unclosed>", "cannot be read"),
        ("bad.tif", b"II*\x00 not a tiff", "cannot be read as a GeoTIFF"),
    ],
)
def test_a_bad_file_of_each_format_is_rejected_with_nothing_written(
    tmp_path, name, content, message
):
    """Unreadable files name the file; no version, no feature and no raster file is left."""
    path = tmp_path / name
    path.write_bytes(content)
    layer = "elevation" if name.endswith(".tif") else "mineral_deposits"
    with pytest.raises(LayerLoadError, match=message) as error:
        load(path, layer=layer)
    assert name in str(error.value)
    assert row_counts(LAYER_TABLES) == NOTHING
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_bad_feature_rejects_the_whole_file(tmp_path):
    """One feature with a value the config does not map stops the load; nothing is written."""
    frame = deposits_frame()
    frame.loc[1, "betydning"] = "svært viktig"
    path = tmp_path / "one-bad.geojson"
    frame.to_file(path, driver="GeoJSON", engine="pyogrio")
    unmapped = r"'importance' \(column 'betydning'\): 'svært viktig': 1"
    with pytest.raises(LayerLoadError, match=unmapped):
        load(path)
    assert row_counts(LAYER_TABLES) == NOTHING


def test_wrong_geometry_type_is_rejected(tmp_path):
    """Points are not loaded into a polygon layer."""
    frame = gpd.GeoDataFrame(
        {"betydning": ["regional"]}, geometry=[Point(571_000, 6_670_000)], crs=25832
    )
    path = tmp_path / "points.geojson"
    frame.to_file(path, driver="GeoJSON", engine="pyogrio")
    with pytest.raises(LayerLoadError, match="feature 0: geometry is a Point"):
        load(path)
    assert row_counts(LAYER_TABLES) == NOTHING


def write_dem(path, crs="EPSG:25832", origin=(470_000.0, 6_760_000.0), size=10.0):
    """A 100 x 80 DEM whose cell (row r, col c) holds 500 + 10 c + r."""
    rows, cols = 80, 100
    values = (500 + 10 * np.arange(cols)[None, :] + np.arange(rows)[:, None]).astype("float32")
    profile = {
        "driver": "GTiff",
        "width": cols,
        "height": rows,
        "count": 1,
        "dtype": "float32",
        "crs": crs,
        "transform": from_origin(*origin, size, size),
        "nodata": -9999.0,
    }
    with rasterio.open(path, "w", **profile) as dataset:
        dataset.write(values, 1)
    return values


def test_raster_is_stored_as_cog_and_samples_known_cells(tmp_path, client):
    """A GeoTIFF becomes a tiled COG; sampling cell centres returns the written values."""
    write_dem(tmp_path / "dem.tif")
    result = load(tmp_path / "dem.tif", layer="elevation")
    assert result.created and result.version == 1
    layer = client.get("/api/v1/layers/elevation").json()
    raster = layer["current_version"]["raster"]
    assert (
        raster["width"] == 100 and raster["height"] == 80 and raster["resolution"] == [10.0, 10.0]
    )
    cog = next(tmp_path.glob("elevation-*.tif"))
    with rasterio.open(cog) as dataset:
        assert dataset.profile["tiled"] and dataset.crs.to_epsg() == 25832
    # Cell (row 3, col 7) has its centre at x0 + 75 m, y0 - 35 m.
    assert sample_values(cog, [(470_075.0, 6_759_965.0), (470_005.0, 6_759_205.0)]) == [
        573.0,
        579.0,
    ]
    assert sample_values(cog, [(460_000.0, 6_759_965.0)]) == [None]
    assert not load(tmp_path / "dem.tif", layer="elevation").created  # identical: no new version


def test_raster_in_another_crs_is_reprojected(tmp_path):
    """A UTM 33 raster is warped to EPSG:25832."""
    write_dem(tmp_path / "dem33.tif", crs="EPSG:25833", origin=(150_000.0, 6_760_000.0))
    load(tmp_path / "dem33.tif", layer="elevation")
    cog = next(tmp_path.glob("elevation-*.tif"))
    with rasterio.open(cog) as dataset:
        assert dataset.crs.to_epsg() == 25832
        left, bottom, right, top = dataset.bounds
    assert 300_000 < left < right < 500_000
