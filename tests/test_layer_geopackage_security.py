"""`arealsjekk layers load` reads GeoPackages without running the SQL a file defines.

GDAL's GPKG driver would run a view listed as a layer (a recursive CTE that never ends,
randomblob(900000000)) or a generated column whenever it reads the table; the loader reads
GeoPackages with the upload path's own sqlite3 reader instead (spatial/inputs/ogr.py).
"""

import sqlite3
import time
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import app as cli
from tests.conftest import LAYER_TABLES, row_counts
from tests.test_layer_loading import NOTHING, deposits_frame

RECURSIVE = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c)"
# Far below what the hostile SQL would take (forever, or 900 MB per row), far above a refusal.
SECONDS = 10


def run(*args: object):
    """Run the CLI as an operator would."""
    return CliRunner().invoke(cli, [str(arg) for arg in args])


def deposits_gpkg(folder: Path, *statements: str) -> Path:
    """The two test deposits written by GDAL (layer 'deposits'), then `statements` run on it."""
    path = folder / "deposits.gpkg"
    deposits_frame().to_file(path, driver="GPKG", layer="deposits", engine="pyogrio")
    with sqlite3.connect(path) as connection:
        for statement in statements:
            connection.execute(statement)
    connection.close()
    return path


def register(table: str) -> tuple[str, str]:
    """The statements that list `table` in gpkg_contents as a feature table."""
    return (
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) "
        f"VALUES ('{table}', 'features', '{table}', 25832)",
        f"INSERT INTO gpkg_geometry_columns VALUES ('{table}', 'geom', 'POLYGON', 25832, 0, 0)",
    )


HOSTILE = {
    "recursive-view": (
        (
            f"CREATE VIEW evil AS {RECURSIVE} SELECT x AS fid, NULL AS geom FROM c",
            *register("evil"),
        ),
        "evil: is a view (SQL), not a table",
    ),
    "randomblob-view": (
        (
            "CREATE VIEW evil AS SELECT 1 AS fid, randomblob(900000000) AS geom",
            *register("evil"),
        ),
        "evil: is a view (SQL), not a table",
    ),
    "generated-column": (
        (
            "ALTER TABLE deposits ADD COLUMN bomb BLOB "
            "GENERATED ALWAYS AS (zeroblob(900000000)) VIRTUAL",
        ),
        "column 'bomb' is computed when it is read (a generated column)",
    ),
    "contents-view": (
        (
            "ALTER TABLE gpkg_contents RENAME TO contents_data",
            f"CREATE VIEW gpkg_contents AS {RECURSIVE} SELECT contents_data.* "
            "FROM contents_data, c",
        ),
        "gpkg_contents: is a view (SQL), not a table",
    ),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_geopackage_is_refused_quickly_with_nothing_written(tmp_path, name):
    statements, message = HOSTILE[name]
    path = deposits_gpkg(tmp_path, *statements)
    started = time.monotonic()
    result = run("layers", "load", "mineral_deposits", path, "--source-layer", "deposits")
    seconds = time.monotonic() - started
    assert result.exit_code != 0
    assert message in result.output, result.output
    assert "deposits.gpkg" in result.output
    assert seconds < SECONDS
    assert row_counts(LAYER_TABLES) == NOTHING


def test_hostile_geopackage_is_refused_when_zipped_too(tmp_path):
    """A zip from a download is unpacked and its GeoPackage read by the same reader."""
    statements, message = HOSTILE["randomblob-view"]
    path = deposits_gpkg(tmp_path, *statements)
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.write(path, f"data/{path.name}")
    result = run("layers", "load", "mineral_deposits", archive, "--source-layer", "deposits")
    assert result.exit_code != 0 and message in result.output, result.output
    assert row_counts(LAYER_TABLES) == NOTHING


def test_triggers_in_a_geopackage_never_run(tmp_path, client):
    """GDAL writes triggers into every GeoPackage (R*Tree upkeep), so files with triggers are
    loaded; SQLite is opened read-only and immutable, so none fires. These would abort the
    read, or allocate 900 MB, on any write."""
    hostile = [
        f"CREATE TRIGGER t{n}_{when}_{event} {when} {event} ON {table} BEGIN "
        "SELECT RAISE(ABORT, 'trigger ran'); SELECT randomblob(900000000); END"
        for n, table in enumerate(("deposits", "gpkg_contents", "gpkg_spatial_ref_sys"))
        for when in ("BEFORE", "AFTER")
        for event in ("INSERT", "UPDATE", "DELETE")
    ]
    path = deposits_gpkg(tmp_path, *hostile)
    result = run("layers", "load", "mineral_deposits", path)
    assert result.exit_code == 0, result.output
    items = client.get("/api/v1/layers/mineral_deposits/items", params={"crs": "EPSG:25832"})
    names = sorted(f["properties"]["name"] for f in items.json()["features"])
    assert names == ["Eggemoen", "Hensmoen"]
    with sqlite3.connect(path) as connection:
        triggers = connection.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name GLOB 't[0-9]_*'"
        ).fetchone()[0]
    connection.close()
    assert triggers == len(hostile)


def test_a_plain_geopackage_loads_the_same_features_as_gdal_read(tmp_path, client):
    """Two layers in one file: the chosen one loads, attributes mapped, coordinates kept."""
    path = deposits_gpkg(tmp_path)
    deposits_frame("EPSG:25833").to_file(path, driver="GPKG", layer="other", engine="pyogrio")
    listing = run("layers", "load", "mineral_deposits", path)
    assert listing.exit_code != 0
    assert "deposits (Polygon, 2 features)" in listing.output, listing.output
    assert "other (Polygon, 2 features)" in listing.output
    result = run("layers", "load", "mineral_deposits", path, "--source-layer", "other")
    assert result.exit_code == 0, result.output
    items = client.get("/api/v1/layers/mineral_deposits/items", params={"crs": "EPSG:25832"})
    features = items.json()["features"]
    assert [f["properties"]["importance"] for f in features] == ["nasjonal", "regional"]
    expected = deposits_frame()
    for feature, geometry in zip(features, expected.geometry, strict=True):
        ring = feature["geometry"]["coordinates"]
        ring = ring[0][0] if feature["geometry"]["type"] == "MultiPolygon" else ring[0]
        xs = [x for x, _ in ring]
        assert min(xs) == pytest.approx(geometry.bounds[0], abs=0.01)
        assert max(xs) == pytest.approx(geometry.bounds[2], abs=0.01)
