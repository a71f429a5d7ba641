"""The land account from the data as the agencies distribute them: an adopted kommuneplan
as SOSI (Geonorge «Kommuneplaner», KpArealformålOmråde) and the matrikkel's building points
as a zipped FileGDB (Geonorge «Matrikkelen – Bygningspunkt», layer `bygning`), loaded with
the commands docs/operator.md gives (issue 23, item 1)."""

import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
from geoalchemy2.shape import to_shape
from shapely.geometry import Point
from sqlalchemy import select
from typer.testing import CliRunner

from app.cli import app as cli
from app.db import get_sessionmaker
from db.models import LandAccountAreaOrm, LandAccountOrm, LayerFeatureOrm, LayerVersionOrm

pytestmark = pytest.mark.db

KOMMUNEPLAN = Path(__file__).parent / "fixtures" / "plans" / "hole-kpa-2026.sos"


def run(*args: object):
    """Run `arealsjekk ARGS` and return the result (output includes stderr)."""
    return CliRunner().invoke(cli, [str(arg) for arg in args])


@pytest.fixture(autouse=True)
def raster_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("AREALSJEKK_RASTER_DIR", str(tmp_path / "rasters"))


def matrikkel_fgdb(folder: Path, points: list[tuple[Point, dict]]) -> Path:
    """Building points as Kartverket distributes them: a zipped FileGDB, EPSG:25833, layer
    `bygning` with the matrikkel's field names."""
    gdb = folder / "Basisdata_3310_Hole_25833_MatrikkelenBygning_FGDB.gdb"
    frame = gpd.GeoDataFrame(
        [attributes for _, attributes in points],
        geometry=[point for point, _ in points],
        crs=25832,
    ).to_crs(25833)
    frame = frame.astype({"bygningstype": "int32", "bygningsnummer": "int32"})
    frame.to_file(gdb, layer="bygning", driver="OpenFileGDB", engine="pyogrio")
    archive = folder / "Basisdata_3310_Hole_25833_MatrikkelenBygning_FGDB.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for member in sorted(gdb.rglob("*")):
            out.write(
                member,
                f"Basisdata_3310_Hole_25833_MatrikkelenBygning_FGDB/{gdb.name}/{member.name}",
            )
    return archive


def test_the_account_of_a_sosi_kommuneplan_and_matrikkel_points(tmp_path):
    """Loaded as distributed, the cabin area keeps its name, codes and plan id; a building
    point cuts its 10 m out of the reserve; a demolished one (BR) does not."""
    loaded = run(
        "layers", "load", "existing_kommuneplan", KOMMUNEPLAN,
        "--source-layer", "KpArealformålOmråde",
    )  # fmt: skip
    assert loaded.exit_code == 0, loaded.output
    with get_sessionmaker()() as session:
        rows = session.execute(
            select(LayerFeatureOrm.attributes, LayerFeatureOrm.geom)
            .join(LayerVersionOrm)
            .where(LayerVersionOrm.layer_id == "existing_kommuneplan")
        ).all()
    cabin, geom = next((a, g) for a, g in rows if a["arealformal"] == 1120)
    assert cabin["name"] == "BFR1 Åsbråten"
    assert cabin["kommunenummer"] == "3310" and cabin["planidentifikasjon"] == "2026001"
    assert cabin["arealbruksstatus"] == 2

    area = to_shape(geom)
    inside = area.representative_point()
    far = Point(inside.x + 1, inside.y + 1)
    archive = matrikkel_fgdb(
        tmp_path,
        [
            (inside, {"bygningsnummer": 300000001, "bygningstype": 161,
                      "bygningsstatus": "TB", "kommunenummer": "3310"}),
            (far, {"bygningsnummer": 300000002, "bygningstype": 161,
                   "bygningsstatus": "BR", "kommunenummer": "3310"}),
        ],
    )  # fmt: skip
    buildings = run("layers", "load", "buildings", archive, "--source-layer", "bygning")
    assert buildings.exit_code == 0, buildings.output
    assert "buildings: version 1 loaded (2 features)" in buildings.output

    computed = run("land-account", "--kommune", "3310")
    assert computed.exit_code == 0, computed.output
    with get_sessionmaker()() as session:
        account = session.scalars(select(LandAccountOrm)).one()
        reserve = session.scalars(
            select(LandAccountAreaOrm).where(LandAccountAreaOrm.is_reserve)
        ).one()
    assert account.layer_versions["buildings"] == 1
    assert reserve.name == "BFR1 Åsbråten"
    assert reserve.building_count == 1  # the demolished one is not counted
    # One circle of 10 m (as GEOS draws it) is built; the reprojection moves the point
    # by well under a centimetre.
    circle = inside.buffer(10).intersection(area).area
    assert reserve.unbuilt_m2 == pytest.approx(area.area - circle, abs=1)
