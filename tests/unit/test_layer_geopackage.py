"""Guideline-layer GeoPackages are read by our sqlite3 reader into the frame GDAL would give."""

import datetime
import os
import re
import sqlite3
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from shapely.geometry import Point, box

from layers.sources.files import SourceFileError, list_source_layers, read_vector_source
from spatial.errors import MalformedInputError, PayloadTooLargeError
from spatial.inputs.ogr import list_geopackage_tables, read_geopackage_table
from spatial.messages import english


def typed_frame(crs: str | int = 25833) -> gpd.GeoDataFrame:
    """Columns of each type GDAL maps (nulls included), 3D polygons and a missing geometry."""
    return gpd.GeoDataFrame(
        {
            "integer_gaps": [1, None, 3],
            "integer": [10, 20, 30],
            "real": [1.5, None, -2.25],
            "text": ["Eggemoen", None, "Sørmoen"],
            "flag": [True, False, True],
            "when": pd.to_datetime(
                ["2020-01-02T00:00:00", "2021-03-04T05:06:07", "2022-12-31T23:59:59"]
            ),
            "day": [datetime.date(2020, 1, 2), None, datetime.date(2024, 2, 29)],
        },
        geometry=[
            shapely.force_3d(box(571_000, 6_670_000, 571_400, 6_670_300), 12.5),
            None,
            shapely.force_3d(box(572_000, 6_671_000, 572_200, 6_671_500), 7.0),
        ],
        crs=crs,
    )


def assert_same_as_gdal(frame: gpd.GeoDataFrame, path: Path, layer: str, z: bool = True) -> None:
    gdal = pyogrio.read_dataframe(path, layer=layer)
    assert list(frame.columns) == list(gdal.columns)
    assert frame.dtypes.astype(str).tolist() == gdal.dtypes.astype(str).tolist()
    assert frame.crs == gdal.crs
    pd.testing.assert_frame_equal(
        pd.DataFrame(frame.drop(columns="geometry")), pd.DataFrame(gdal.drop(columns="geometry"))
    )
    assert frame.geometry.isna().tolist() == gdal.geometry.isna().tolist()
    present = gdal.geometry.notna()
    assert frame.geometry[present].geom_equals_exact(gdal.geometry[present], 0).all()
    assert (frame.geometry[present].has_z == z).all()


def test_a_geopackage_reads_as_gdal_reads_it(tmp_path):
    path = tmp_path / "typed.gpkg"
    typed_frame().to_file(path, driver="GPKG", layer="areas", engine="pyogrio")
    gpd.GeoDataFrame({"name": ["a"]}, geometry=[Point(10.2, 60.1)], crs=4258).to_file(
        path, driver="GPKG", layer="points", engine="pyogrio"
    )
    listed = [layer.describe() for layer in list_source_layers(path)]
    assert listed == ["areas (Polygon Z, 3 features)", "points (Point, 1 features)"]
    assert_same_as_gdal(read_vector_source(path, ["areas"]).frame, path, "areas")
    assert_same_as_gdal(read_vector_source(path, ["points"]).frame, path, "points", z=False)


def test_a_zipped_or_foldered_geopackage_reads_the_same(tmp_path):
    path = tmp_path / "data" / "typed.gpkg"
    path.parent.mkdir()
    typed_frame().to_file(path, driver="GPKG", layer="areas", engine="pyogrio")
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.write(path, "Kulturminner/typed.gpkg")
    for source in (path.parent, archive):
        assert_same_as_gdal(read_vector_source(source).frame, path, "areas")


def test_crs_from_wkt_and_none_when_undefined(tmp_path):
    """A CRS without EPSG code is taken from its WKT; an undefined one is no CRS."""
    wkt_crs = "+proj=tmerc +lat_0=58 +lon_0=10 +k=1 +x_0=0 +y_0=0 +ellps=GRS80 +units=m"
    path = tmp_path / "local.gpkg"
    typed_frame(wkt_crs).to_file(path, driver="GPKG", layer="areas", engine="pyogrio")
    assert_same_as_gdal(read_vector_source(path).frame, path, "areas")
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE gpkg_geometry_columns SET srs_id = -1")
    connection.close()
    with pytest.raises(SourceFileError, match="declares no CRS"):
        read_vector_source(path)


def test_limits_are_parameters(tmp_path):
    path = tmp_path / "typed.gpkg"
    typed_frame().to_file(path, driver="GPKG", layer="areas", engine="pyogrio")
    assert [t.features for t in list_geopackage_tables(path)] == [3]
    assert len(read_geopackage_table(path, "areas", 3, 10).geometries) == 3
    with pytest.raises(PayloadTooLargeError) as raised:
        read_geopackage_table(path, "areas", 2, 10)
    assert "has 3 features; the limit is 2" in english(raised.value.detail)
    assert "har 3 objekter; grensen er 2" in raised.value.detail.nb
    with pytest.raises(PayloadTooLargeError) as raised:
        read_geopackage_table(path, "areas", 3, 9)
    assert re.search("more than 9 vertices.*areas:3", english(raised.value.detail))


def test_a_broken_geometry_names_its_feature(tmp_path):
    path = tmp_path / "typed.gpkg"
    typed_frame().to_file(path, driver="GPKG", layer="areas", engine="pyogrio")
    with sqlite3.connect(path) as connection:
        # GDAL's R*Tree triggers call its SQL functions, which Python's sqlite3 lacks.
        triggers = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'areas'"
        for (name,) in connection.execute(triggers).fetchall():
            connection.execute(f'DROP TRIGGER "{name}"')
        connection.execute("UPDATE areas SET geom = X'47500003' || zeroblob(40) WHERE fid = 3")
    connection.close()
    with pytest.raises(SourceFileError, match="areas:3: geometry cannot be read"):
        read_vector_source(path)


def test_unsaved_changes_in_a_wal_file_are_refused_not_lost(tmp_path):
    path = tmp_path / "typed.gpkg"
    typed_frame().to_file(path, driver="GPKG", layer="areas", engine="pyogrio")
    Path(f"{path}-wal").write_bytes(b"\x37\x7f\x06\x82" + bytes(28))
    with pytest.raises(MalformedInputError) as raised:
        list_geopackage_tables(path)
    assert "unsaved changes in typed.gpkg-wal" in english(raised.value.detail)


def test_a_file_larger_than_sqlites_value_limit_opens(tmp_path):
    """A national theme's file may pass 2 GB; only its values are bounded (sparse file here)."""
    path = tmp_path / "typed.gpkg"
    typed_frame().to_file(path, driver="GPKG", layer="areas", engine="pyogrio")
    os.truncate(path, 3 * 1024**3)
    assert [t.features for t in list_geopackage_tables(path)] == [3]
