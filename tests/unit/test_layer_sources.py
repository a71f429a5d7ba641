"""Reading downloads as the agencies distribute them (layers/sources/files.py), no database."""

import shutil
import stat
import zipfile

import pytest

from layers.sources.files import (
    Constant,
    SourceFileError,
    list_source_layers,
    parse_constant,
    read_vector_source,
)
from tests.fixtures.layers import make_real_fixtures as real

VRT = b"""<OGRVRTDataSource><OGRVRTLayer name="x"><SrcDataSource>/etc/passwd</SrcDataSource>
</OGRVRTLayer></OGRVRTDataSource>"""


@pytest.fixture(scope="module")
def downloads(tmp_path_factory):
    return real.write_fixtures(tmp_path_factory.mktemp("downloads"))


def test_parse_constant():
    """--set takes ATTRIBUTE=VALUE for every source layer or LAYER:ATTRIBUTE=VALUE for one."""
    assert parse_constant("category=sikringssone") == Constant("category", "sikringssone")
    assert parse_constant("lokalitet:category=lokalitet") == Constant(
        "category", "lokalitet", "lokalitet"
    )
    assert parse_constant(" category = fredet kulturmiljø ").value == "fredet kulturmiljø"
    with pytest.raises(ValueError, match="is not"):
        parse_constant("category")


def test_fgdb_zip_layers_are_listed_with_type_and_count(downloads, tmp_path):
    """A zipped FileGDB a folder deep lists its feature classes; none chosen is an error."""
    with pytest.raises(SourceFileError) as error:
        read_vector_source(downloads["grus_pukk_fgdb"])
    assert "SandGrusOmr (MultiPolygon, 3 features); PukkOmr (MultiPolygon, 2 features)" in (
        error.value.detail
    )
    with zipfile.ZipFile(downloads["grus_pukk_fgdb"]) as archive:
        archive.extractall(tmp_path)
    gdb = next(tmp_path.rglob("*.gdb"))
    assert [layer.name for layer in list_source_layers(gdb)] == ["SandGrusOmr", "PukkOmr"]
    # the unpacked download folder reads like the zip
    source = read_vector_source(tmp_path, ["PukkOmr"])
    assert source.layers == ["PukkOmr"] and len(source.frame) == 2
    assert source.frame.crs.to_epsg() == 25833


def test_several_layers_one_frame_with_constants(downloads):
    """Chosen layers are concatenated in order; --set applies per layer, a named one wins."""
    source = read_vector_source(
        downloads["kulturminner_gml"],
        ["Lokalitet", "enkeltminne", "SIKRINGSSONE"],  # names match case-insensitively
        [
            Constant("category", "enkeltminne"),
            Constant("category", "lokalitet", "lokalitet"),
            Constant("category", "sikringssone", "sikringssone"),
        ],
        attributes=["category", "name"],
    )
    assert source.layers == ["Lokalitet", "Enkeltminne", "Sikringssone"]
    assert list(source.frame[source.constant_columns["category"]]) == (
        ["lokalitet"] * 2 + ["enkeltminne"] * 3 + ["sikringssone"]
    )
    # the lokalitet layer's integer ids stay integers beside the other layers' gaps
    assert list(source.frame["lokalitetId"][:2]) == [41907, 41908]
    assert source.frame.crs.to_epsg() == 4258
    x, y = source.frame.geometry.iloc[0].exterior.coords[0]
    assert 10 < x < 11 and 60 < y < 61  # GML's latitude-first order read correctly


def test_constant_errors(downloads):
    """A --set for an unchosen layer, an unknown attribute or only some layers is refused."""
    path = downloads["kulturminner_fgdb"]
    with pytest.raises(SourceFileError, match="'enkeltminne' is not a chosen source layer"):
        read_vector_source(path, ["lokalitet"], [Constant("category", "x", "enkeltminne")])
    with pytest.raises(SourceFileError, match=r"--set names \['kategori'\]"):
        read_vector_source(path, ["lokalitet"], [Constant("kategori", "x")], ["category"])
    with pytest.raises(SourceFileError, match="not for sikringssone"):
        read_vector_source(
            path,
            ["lokalitet", "sikringssone"],
            [Constant("category", "lokalitet", "lokalitet")],
        )
    with pytest.raises(SourceFileError, match="given twice"):
        read_vector_source(path, ["lokalitet", "LOKALITET"])


def test_sosi_object_types_are_the_source_layers(downloads):
    """A SOSI file's OBJTYPE values are its layers; boundary curves of areas are not listed."""
    layers = list_source_layers(downloads["grus_pukk_sosi"])
    assert [(layer.name, layer.features) for layer in layers] == [
        ("SandGrusOmr", 3),
        ("PukkOmr", 2),
    ]
    source = read_vector_source(downloads["grus_pukk_sosi"], ["PukkOmr"])
    assert list(source.frame["RASTOFFBETYDNING"]) == ["Lokal betydning", "Ikke vurdert"]
    assert source.frame.crs.to_epsg() == 25832
    assert source.frame.geometry.iloc[0].area == pytest.approx(300 * 300)


def test_single_layer_downloads_need_no_choice(downloads):
    """Shapefile zip (two folders deep), FileGDB with one layer: read without --source-layer."""
    inon = read_vector_source(downloads["inon_shape"])
    assert inon.layers == ["statusPolygon"] and list(inon.frame["vsone"]) == ["v", "1", "2"]
    tettsteder = read_vector_source(downloads["tettsteder_fgdb"])
    assert list(tettsteder.frame["totalbefolkning"]) == [16_981, 1_342]


def test_gml_read_leaves_no_schema_file_beside_it(downloads, tmp_path):
    """GDAL's GML driver writes a .gfs beside the file unless told not to."""
    with zipfile.ZipFile(downloads["kulturminner_gml"]) as archive:
        archive.extractall(tmp_path)
    gml = next(tmp_path.glob("*.gml"))
    assert len(read_vector_source(gml, ["Enkeltminne"]).frame) == 3
    assert [p.suffix for p in tmp_path.iterdir()] == [".gml"]


def _zip(path, members: dict[str, bytes]):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("../../etc/evil.gml", "'..' component"),
        ("/tmp/evil.gml", "absolute path"),
        ("C:/evil.gml", "absolute path"),
    ],
)
def test_unsafe_zip_member_names_are_refused(tmp_path, name, message):
    path = _zip(tmp_path / "download.zip", {name: b"<x/>"})
    with pytest.raises(SourceFileError, match=message):
        read_vector_source(path)


def test_zip_symlink_member_is_refused(tmp_path):
    path = tmp_path / "download.zip"
    with zipfile.ZipFile(path, "w") as archive:
        info = zipfile.ZipInfo("data/link.gml")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(info, "/etc/passwd")
    with pytest.raises(SourceFileError, match="symbolic link"):
        read_vector_source(path)


def test_zip_bomb_is_refused(tmp_path):
    """A member unpacking to over 500 times its packed size is refused before unpacking."""
    path = _zip(tmp_path / "download.zip", {"data/big.gml": b"\0" * (4 << 20)})
    with pytest.raises(SourceFileError, match="times its packed size"):
        read_vector_source(path)


@pytest.mark.parametrize("name", ["kulturminner.gml", "data.geojson", "sikring.shp"])
def test_vrt_under_another_name_never_reaches_gdal(tmp_path, name):
    """GDAL opens files by content: a VRT (which reads any file it names) is refused."""
    path = _zip(tmp_path / "download.zip", {f"folder/{name}": VRT})
    with pytest.raises(SourceFileError, match="its content is not"):
        read_vector_source(path)
    direct = tmp_path / name
    direct.write_bytes(VRT)
    with pytest.raises(SourceFileError, match="its content is not"):
        read_vector_source(direct)


def test_vrt_and_other_files_in_a_zip_are_not_unpacked(tmp_path, downloads):
    """Only dataset files and their companions are unpacked; a .vrt is not a dataset."""
    path = tmp_path / "mixed.zip"
    shutil.copy(downloads["tettsteder_fgdb"], path)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("x/readme.pdf", b"%PDF")
        archive.writestr("x/layer.vrt", VRT)
    assert read_vector_source(path).layers == ["tettsted"]


def test_fake_gdb_folder_is_refused(tmp_path):
    gdb = tmp_path / "data.gdb"
    gdb.mkdir()
    (gdb / "a00000001.gdbtable").write_bytes(VRT)
    with pytest.raises(SourceFileError, match="is not a File Geodatabase"):
        read_vector_source(gdb)


def test_zip_without_datasets_names_what_is_read(tmp_path):
    path = _zip(tmp_path / "download.zip", {"readme.txt": b"hei"})
    with pytest.raises(SourceFileError, match=r"holds no dataset Arealsjekk reads \(.gdb"):
        read_vector_source(path)


def test_config_constants_fill_only_where_every_chosen_layer_has_one(downloads):
    """Defaults per source layer apply when all chosen layers have one; --set replaces them."""
    defaults = {"SandGrusOmr": {"resource_type": "grus"}, "pukkomr": {"resource_type": "pukk"}}
    both = read_vector_source(downloads["grus_pukk_sosi"], ["SandGrusOmr", "PukkOmr"], (), None,
                              defaults)  # fmt: skip
    assert list(both.frame[both.constant_columns["resource_type"]]) == ["grus"] * 3 + ["pukk"] * 2
    only_one = read_vector_source(
        downloads["grus_pukk_sosi"], ["SandGrusOmr", "PukkOmr"], (), None,
        {"SandGrusOmr": {"resource_type": "grus"}},
    )  # fmt: skip
    assert only_one.constant_columns == {}  # the file's MATRTYPE decides
    given = read_vector_source(
        downloads["grus_pukk_sosi"], ["PukkOmr"], [Constant("resource_type", "naturstein")],
        None, defaults,
    )  # fmt: skip
    assert set(given.frame[given.constant_columns["resource_type"]]) == {"naturstein"}


def test_zipped_sosi_and_gdb_folder_read_like_the_files(downloads, tmp_path):
    """A SOSI file zipped a folder deep, and a .gdb folder given directly, read as themselves."""
    archive = _zip(
        tmp_path / "GrusPukk_SOSI.zip",
        {"GrusPukk/GrusPukk_33_Buskerud.sos": downloads["grus_pukk_sosi"].read_bytes()},
    )
    zipped = read_vector_source(archive, ["SandGrusOmr", "PukkOmr"])
    assert len(zipped.frame) == 5 and zipped.frame.crs.to_epsg() == 25832
    with zipfile.ZipFile(downloads["kulturminner_fgdb"]) as fgdb:
        fgdb.extractall(tmp_path / "unpacked")
    gdb = next((tmp_path / "unpacked").rglob("Kulturminner.gdb"))
    assert read_vector_source(gdb, ["sikringssone"]).layers == ["sikringssone"]
