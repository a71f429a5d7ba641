"""NSR NeTEx, GTFS and DTM 10 tiles load with `arealsjekk layers load` as distributed."""

import zipfile

import pytest
import rasterio
from pyproj import Transformer
from rasterio.transform import from_origin
from sqlalchemy import select
from typer.testing import CliRunner

from app.cli import app as cli
from app.db import get_sessionmaker
from app.settings import get_settings
from db.models import LayerVersionOrm
from spatial.raster import sample_values
from tests.conftest import LAYER_TABLES, row_counts
from tests.fixtures.layers.make_real_fixtures_transit import (
    DTM_CELL,
    DTM_NODATA,
    DTM_ORIGIN,
    DTM_TILES,
    GTFS_HUBS,
    NETEX_HUBS,
    dtm_cell_centre,
    dtm_value,
    write_dtm,
    write_dtm_tile,
    write_gtfs,
    write_netex,
)

NOTHING = {"layer_version": 0, "layer_feature": 0}


def run(*args: str):
    """Run the CLI as an operator would; return the result."""
    return CliRunner().invoke(cli, list(args))


def version_row(layer: str) -> LayerVersionOrm:
    with get_sessionmaker()() as session:
        return session.execute(
            select(LayerVersionOrm)
            .where(LayerVersionOrm.layer_id == layer)
            .order_by(LayerVersionOrm.version.desc())
            .limit(1)
        ).scalar_one()


def hubs(client) -> dict[str, tuple[str, str]]:
    items = client.get("/api/v1/layers/transport_hubs/items", params={"limit": 100}).json()
    return {
        f["properties"]["name"]: (f["properties"]["hub_type"], f["properties"]["source_type"])
        for f in items["features"]
    }


# --- NSR NeTEx -----------------------------------------------------------------------


@pytest.mark.parametrize("form", ["xml", "zip"])
def test_nsr_netex_export_loads_the_configured_hub_types(tmp_path, client, form):
    """Rail stations and bus/coach terminals are kept, multimodal children merge into their
    parent, roadside stops and ferry quays are left out and counted."""
    path = write_netex(tmp_path)[form]
    first = run("layers", "load", "transport_hubs", str(path), "--source-date", "2026-12-01")
    assert first.exit_code == 0, first.output
    assert "transport_hubs: version 1 loaded (6 features)" in first.output
    assert "13 stops read, by source type: 'railStation': 4, 'onstreetBus': 3" in first.output
    assert "kept as hubs: jernbanestasjon: 4, regionalt knutepunkt: 2" in first.output
    assert hubs(client) == NETEX_HUBS
    drammen = client.get("/api/v1/layers/transport_hubs/items", params={"limit": 100}).json()[
        "features"
    ]
    parent = next(f for f in drammen if f["properties"]["name"] == "Drammen stasjon")
    # The multimodal parent's own centroid, not its rail child's or a quay's.
    assert parent["geometry"]["coordinates"] == pytest.approx([10.2040, 59.7404], abs=1e-6)
    summary = version_row("transport_hubs").details["stops"]
    assert summary["types"] == {
        "railStation": 4,
        "onstreetBus": 3,
        "(no type)": 2,
        "busStation": 2,
        "coachStation": 1,
        "ferryStop": 1,
    }
    assert summary["hubs"] == {"jernbanestasjon": 4, "regionalt knutepunkt": 2}
    assert summary["children_merged_into_parent"] == 2
    again = run("layers", "load", "transport_hubs", str(path), "--source-date", "2026-12-01")
    assert "unchanged, version 1 is identical" in again.output


def test_netex_xml_and_its_zip_are_the_same_version(tmp_path):
    files = write_netex(tmp_path)
    assert run("layers", "load", "transport_hubs", str(files["xml"])).exit_code == 0
    again = run("layers", "load", "transport_hubs", str(files["zip"]))
    assert "unchanged, version 1 is identical" in again.output


def test_unknown_stop_place_type_fails_with_its_count(tmp_path):
    """A StopPlaceType the config does not know is never guessed: the load fails listing it."""
    extra = [
        (
            "NSR:StopPlace:990001",
            1,
            "Mjøndalen",
            10.01,
            59.75,
            "rail",
            "railwayStation",
            None,
            False,
        ),
        ("NSR:StopPlace:990002", 1, "Darbu", 9.75, 59.70, "rail", "railwayStation", None, False),
    ]
    path = write_netex(tmp_path, extra)["zip"]
    result = run("layers", "load", "transport_hubs", str(path))
    assert result.exit_code == 1
    assert "'railwayStation': 2" in result.output
    assert "readers.netex" in result.output and "transport_hubs.yaml" in result.output
    assert row_counts(LAYER_TABLES) == NOTHING


def test_netex_with_a_dtd_is_refused(tmp_path):
    """Entity declarations are refused before any is expanded (billion laughs)."""
    body = (
        b'<?xml version="1.0"?>\n<!DOCTYPE PublicationDelivery [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>\n'
        b'<PublicationDelivery xmlns="http://www.netex.org.uk/netex"><dataObjects><SiteFrame>'
        b'<stopPlaces><StopPlace id="x" version="1"><Name>&b;</Name></StopPlace></stopPlaces>'
        b"</SiteFrame></dataObjects></PublicationDelivery>"
    )
    path = tmp_path / "hostile.xml"
    path.write_bytes(body)
    result = run("layers", "load", "transport_hubs", str(path))
    assert result.exit_code == 1
    assert "hostile.xml" in result.output and "refused" in result.output
    assert row_counts(LAYER_TABLES) == NOTHING


# --- GTFS ----------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["zip", "stops"])
def test_entur_gtfs_keeps_rail_stations_by_vehicle_type(tmp_path, client, form):
    """Entur's stops.txt: stations typed by vehicle_type; bus and museum rail are not hubs."""
    path = write_gtfs(tmp_path)[form]
    result = run("layers", "load", "transport_hubs", str(path))
    assert result.exit_code == 0, result.output
    assert "version 1 loaded (2 features)" in result.output
    assert hubs(client) == GTFS_HUBS
    summary = version_row("transport_hubs").details["stops"]
    assert summary["types"] == {"100": 5, "700": 3, "107": 1}
    assert summary["children_merged_into_parent"] == 3


def test_basic_gtfs_is_typed_by_the_routes_serving_each_station(tmp_path, client):
    """Without vehicle_type the route types decide: a station served by rail is a rail
    station; one with only buses, or none, is not a hub (counted without a type)."""
    path = write_gtfs(tmp_path)["basic"]
    result = run("layers", "load", "transport_hubs", str(path))
    assert result.exit_code == 0, result.output
    assert hubs(client) == {"Drammen stasjon": ("jernbanestasjon", "2")}
    summary = version_row("transport_hubs").details["stops"]
    assert summary["types"] == {"(no type)": 3, "3": 2, "2": 1}


def test_unknown_gtfs_vehicle_type_fails_with_its_count(tmp_path):
    extra = [("NSR:StopPlace:990010", "Noresund", 60.18, 9.62, "1", "", "", "1600")]
    path = write_gtfs(tmp_path, extra)["zip"]
    result = run("layers", "load", "transport_hubs", str(path))
    assert result.exit_code == 1
    assert "'1600': 1" in result.output and "readers.gtfs" in result.output
    assert row_counts(LAYER_TABLES) == NOTHING


# --- DTM 10 tiles --------------------------------------------------------------------

TO_25832 = Transformer.from_crs(25833, 25832, always_xy=True)
TO_25833 = Transformer.from_crs(25832, 25833, always_xy=True)


def expected_at(cog, x32: float, y32: float) -> float:
    """The plane's height at the centre of the COG cell holding (x32, y32)."""
    with rasterio.open(cog) as dataset:
        row, col = dataset.index(x32, y32)
        cx, cy = dataset.xy(row, col)
    return dtm_value(*TO_25833.transform(cx, cy))


@pytest.mark.parametrize("form", ["folder", "zip"])
def test_dtm_tiles_load_as_one_mosaic(tmp_path, form):
    """Overlapping UTM 33 tiles become one COG in EPSG:25832: a tile's empty margin does not
    hide its neighbour's data, cells no tile covers stay nodata, nodata comes from the files."""
    path = write_dtm(tmp_path)[form]
    result = run("layers", "load", "elevation", str(path), "--source-date", "2013-06-01")
    assert result.exit_code == 0, result.output
    assert "elevation: version 1 loaded" in result.output
    row = version_row("elevation")
    assert row.details["tiles"] == sorted(DTM_TILES)
    assert row.details["tile_nodata"] == [DTM_NODATA]
    assert row.file_name == path.name
    cog = get_settings().raster_dir / row.raster_file
    with rasterio.open(cog) as dataset:
        assert dataset.crs.to_epsg() == 25832 and dataset.nodata == DTM_NODATA
        assert dataset.profile["tiled"]

    def at(column: int, cell_row: int) -> tuple[float, float]:
        return TO_25832.transform(*dtm_cell_centre(column, cell_row))

    inside = {
        "tile 1 alone": at(5, 5),
        "under tile 2's empty margin, from tile 1": at(32, 12),
        "under tile 1's empty margin, from tile 2": at(37, 12),
        "tile 2 alone": at(60, 20),
        "tile 3": at(25, 38),
    }
    values = sample_values(cog, list(inside.values()))
    for (what, point), value in zip(inside.items(), values, strict=True):
        assert value == pytest.approx(expected_at(cog, *point), abs=0.1), what
    empty = [at(12, 42), at(55, 40)]  # tile 3's hole; south of tile 2, no tile at all
    assert sample_values(cog, empty) == [None, None]
    # The mosaic spans the tiles' union, 70 × 50 cells of 10 m in UTM 33, warped to UTM 32.
    assert row.details["source_crs"] == "EPSG:25833"
    x0, y0 = DTM_ORIGIN
    corners = [(x0, y0), (x0 + 700, y0), (x0, y0 - 500), (x0 + 700, y0 - 500)]
    xs, ys = TO_25832.transform(*zip(*corners, strict=True))
    expected = [min(xs), min(ys), max(xs), max(ys)]
    assert row.details["bounds"] == pytest.approx(expected, abs=2 * DTM_CELL)
    again = run("layers", "load", "elevation", str(path))
    assert "unchanged, version 1 is identical" in again.output


def test_dtm_folder_and_its_zip_are_the_same_version(tmp_path):
    """The checksum is over the tiles' names and bytes, not the container."""
    files = write_dtm(tmp_path)
    assert run("layers", "load", "elevation", str(files["folder"])).exit_code == 0
    assert "unchanged" in run("layers", "load", "elevation", str(files["zip"])).output


def refused(path, *expected: str) -> None:
    result = run("layers", "load", "elevation", str(path))
    assert result.exit_code == 1, result.output
    for text in expected:
        assert text in result.output
    assert row_counts(LAYER_TABLES) == NOTHING


def test_tiles_in_another_crs_are_refused_naming_the_tile(tmp_path):
    folder = write_dtm(tmp_path)["folder"]
    write_dtm_tile(folder / "6604_1_10m_z32.tif", 0, 60, 10, 10, crs="EPSG:25832")
    refused(folder, "tile 6604_1_10m_z32.tif", "EPSG:25832", "EPSG:25833", "one CRS")


def test_tiles_of_another_resolution_are_refused_naming_the_tile(tmp_path):
    folder = write_dtm(tmp_path)["folder"]
    write_dtm_tile(folder / "6604_1_20m_z33.tif", 0, 60, 10, 10, cell=20.0)
    refused(folder, "tile 6604_1_20m_z33.tif", "20 × 20", "one resolution")


def test_tiles_off_the_grid_are_refused(tmp_path):
    folder = write_dtm(tmp_path)["folder"]
    off = folder / "6604_1_10m_z33.tif"
    write_dtm_tile(off, 0, 60, 10, 10)
    with rasterio.open(off, "r+") as dataset:  # half a cell east of the others' grid
        shifted = dataset.transform
        dataset.transform = from_origin(shifted.c + DTM_CELL / 2, shifted.f, DTM_CELL, DTM_CELL)
    refused(folder, "tile 6604_1_10m_z33.tif", "not on the grid")


def test_zip_members_outside_the_archive_are_refused(tmp_path):
    tile = tmp_path / "tile.tif"
    write_dtm_tile(tile, 0, 0, 10, 10)
    archive = tmp_path / "dtm.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.write(tile, "../../6603_1_10m_z33.tif")
    refused(archive, "'../../6603_1_10m_z33.tif' points outside the archive")


def test_members_that_are_not_geotiffs_are_refused_but_sidecars_are_read_past(tmp_path):
    """Side files and documents are read past; a grid in another format is refused, as it
    may be terrain the mosaic would otherwise leave out."""
    files = write_dtm(tmp_path)
    with zipfile.ZipFile(files["zip"], "a") as out:
        out.writestr("dtm10/6603_1_10m_z33.tif.aux.xml", "<PAMDataset/>")
        out.writestr("dtm10/6603_1_10m_z33.prj", "PROJCS[...]")
        out.writestr("dtm10/les_meg.pdf", b"%PDF-1.4")
        out.writestr("metadata/dtm10.xml", "<gmd:MD_Metadata/>")
        out.writestr("dtm10/6604_1_10m_z33.asc", "ncols 1\nnrows 1\n")
    refused(files["zip"], "6604_1_10m_z33.asc", "not GeoTIFF tiles")
    with zipfile.ZipFile(files["zip"]) as source, zipfile.ZipFile(tmp_path / "b.zip", "w") as out:
        for info in source.infolist():
            if not info.filename.endswith(".asc"):
                out.writestr(info, source.read(info))
    result = run("layers", "load", "elevation", str(tmp_path / "b.zip"))
    assert result.exit_code == 0, result.output


def test_a_vrt_named_tif_is_not_opened(tmp_path):
    """GDAL opens files by content; a tile must be a GeoTIFF, not e.g. a VRT pointing at
    any file on the machine."""
    folder = write_dtm(tmp_path)["folder"]
    (folder / "6604_1_10m_z33.tif").write_text(
        '<VRTDataset rasterXSize="1" rasterYSize="1"><VRTRasterBand dataType="Byte" band="1">'
        "<SimpleSource><SourceFilename>/etc/passwd</SourceFilename></SimpleSource>"
        "</VRTRasterBand></VRTDataset>"
    )
    refused(folder, "6604_1_10m_z33.tif: cannot be read as a GeoTIFF")


def test_a_zip_bomb_member_is_refused_before_it_is_read(tmp_path):
    archive = tmp_path / "dtm.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr("6603_1_10m_z33.tif", bytes(64 * 1024 * 1024))
    refused(archive, "'6603_1_10m_z33.tif' unpacks to 67108864 bytes", "over 500 times")
