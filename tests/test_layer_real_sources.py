"""Loading the agencies' downloads as they come, with the documented commands (docs/operator.md).

The downloads are written by tests/fixtures/layers/make_real_fixtures.py in the real schemas:
FileGDB, GML, SOSI and Shapefile, zipped a folder deep as Geonorge delivers them.
"""

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from app.cli import app as cli
from app.db import get_sessionmaker
from db.models import LayerFeatureOrm, LayerVersionOrm
from tests.fixtures.layers import make_real_fixtures as real


@pytest.fixture(scope="module")
def downloads(tmp_path_factory):
    """Every fixture download, written once for the module."""
    return real.write_fixtures(tmp_path_factory.mktemp("downloads"))


@pytest.fixture(autouse=True)
def raster_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("AREALSJEKK_RASTER_DIR", str(tmp_path / "rasters"))


def run(*args: str):
    """Run `arealsjekk ARGS` and return the result (output includes stderr)."""
    return CliRunner().invoke(cli, [str(arg) for arg in args])


def features(layer_id: str) -> list[dict]:
    """The attributes of the current version's features, in load order."""
    with get_sessionmaker()() as session:
        version = session.execute(
            select(LayerVersionOrm)
            .where(LayerVersionOrm.layer_id == layer_id)
            .order_by(LayerVersionOrm.version.desc())
            .limit(1)
        ).scalar_one()
        rows = session.execute(
            select(LayerFeatureOrm.attributes)
            .where(LayerFeatureOrm.layer_version_id == version.id)
            .order_by(LayerFeatureOrm.id)
        ).scalars()
        return list(rows)


def version_details(layer_id: str) -> dict:
    with get_sessionmaker()() as session:
        return session.execute(
            select(LayerVersionOrm.details).where(LayerVersionOrm.layer_id == layer_id)
        ).scalar_one()


def test_grus_og_pukk_fgdb_zip_lists_its_layers_when_none_is_chosen(downloads):
    """A multi-layer download without --source-layer names its layers and loads nothing."""
    result = run("layers", "load", "mineral_deposits", downloads["grus_pukk_fgdb"])
    assert result.exit_code == 1
    assert "holds 2 layers: SandGrusOmr (MultiPolygon, 3 features); PukkOmr" in result.output
    assert "--source-layer" in result.output
    wrong = run(
        "layers", "load", "mineral_deposits", downloads["grus_pukk_fgdb"],
        "--source-layer", "GrusOmr",
    )  # fmt: skip
    assert wrong.exit_code == 1 and "has no layer 'GrusOmr'" in wrong.output


def test_grus_og_pukk_fgdb_zip_loads_both_layers_into_one_version(downloads):
    """NGU's FileGDB zip: SandGrusOmr and PukkOmr in one version, resource type per layer."""
    result = run(
        "layers", "load", "mineral_deposits", downloads["grus_pukk_fgdb"],
        "--source-layer", "SandGrusOmr", "--source-layer", "PukkOmr",
        "--set", "SandGrusOmr:resource_type=grus", "--set", "PukkOmr:resource_type=pukk",
        "--source-date", "2026-03-01",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "mineral_deposits: version 1 loaded (5 features)" in result.output
    rows = features("mineral_deposits")
    assert [row["resource_type"] for row in rows] == ["grus"] * 3 + ["pukk"] * 2
    assert [row["name"] for row in rows][:2] == ["Eggemoen", "Hensmoen"]
    # rastoffBetydning's real values, mapped by the config's value map
    assert [row["importance"] for row in rows] == [
        "nasjonal", "regional", "liten eller ingen", "lokal", "ikke vurdert",
    ]  # fmt: skip
    details = version_details("mineral_deposits")
    assert details["source_layers"] == ["SandGrusOmr", "PukkOmr"]
    assert details["constants"]["PukkOmr"] == {"resource_type": "pukk"}


def test_grus_og_pukk_sosi_loads_the_same_deposits(downloads):
    """The SOSI edition (OBJTYPE as source layer, SOSI names) gives the same five deposits."""
    args = ["--source-layer", "SandGrusOmr", "--source-layer", "PukkOmr"]
    result = run("layers", "load", "mineral_deposits", downloads["grus_pukk_sosi"], *args)
    assert result.exit_code == 0, result.output
    assert "version 1 loaded (5 features)" in result.output
    rows = features("mineral_deposits")
    assert [row["importance"] for row in rows][:3] == ["nasjonal", "regional", "liten eller ingen"]
    assert rows[3]["name"] == "Kilemoen pukkverk"


@pytest.mark.parametrize("edition", ["kulturminner_fgdb", "kulturminner_gml"])
def test_kulturminner_take_their_category_from_the_source_layer(downloads, edition):
    """Riksantikvaren's lokalitet/enkeltminne/sikringssone, each with its --set category."""
    args = []
    for layer in ("lokalitet", "enkeltminne", "sikringssone"):
        args += ["--source-layer", layer, "--set", f"{layer}:category={layer}"]
    result = run("layers", "load", "heritage_protected", downloads[edition], *args)
    assert result.exit_code == 0, result.output
    assert "heritage_protected: version 1 loaded (6 features)" in result.output
    rows = features("heritage_protected")
    assert [row["category"] for row in rows] == (
        ["lokalitet"] * 2 + ["enkeltminne"] * 3 + ["sikringssone"]
    )
    assert [row["vernetype"] for row in rows] == ["AUT", "VED", "AUT", "LIST", "IKKEV", "AUT"]
    # Each source layer keeps the id under its own name: kulturminneId, lokalitetId.
    assert [row.get("heritage_id") for row in rows] == [
        "41907", "41908", "165570-6", "165571-1", "165572-2", "165570-6"
    ]  # fmt: skip


def test_set_must_be_given_for_every_chosen_layer(downloads):
    """A constant for some chosen layers only is refused before anything is written."""
    result = run(
        "layers", "load", "heritage_protected", downloads["kulturminner_fgdb"],
        "--source-layer", "lokalitet", "--source-layer", "enkeltminne",
        "--set", "lokalitet:category=lokalitet",
    )  # fmt: skip
    assert result.exit_code == 1
    assert "not for enkeltminne" in result.output
    unknown = run(
        "layers", "load", "heritage_protected", downloads["kulturminner_fgdb"],
        "--source-layer", "lokalitet", "--set", "kategori=lokalitet",
    )  # fmt: skip
    assert unknown.exit_code == 1 and "--set names ['kategori']" in unknown.output
    with get_sessionmaker()() as session:
        assert session.execute(select(LayerVersionOrm)).first() is None


def test_tettsteder_fgdb_loads_population(downloads):
    """SSB's tettsted layer: totalbefolkning becomes the population."""
    result = run("layers", "load", "tettsteder", downloads["tettsteder_fgdb"])
    assert result.exit_code == 0, result.output
    rows = features("tettsteder")
    assert [(row["name"], row["population"]) for row in rows] == [
        ("Hønefoss", 16_981),
        ("Vik", 1_342),
    ]


def test_inon_zipped_shapefile_loads(downloads):
    """Miljødirektoratet's INON statusPolygon.shp, zipped two folders deep; vsone mapped."""
    result = run("layers", "load", "intact_nature", downloads["inon_shape"])
    assert result.exit_code == 0, result.output
    assert "intact_nature: version 1 loaded (3 features)" in result.output
    zones = [row["zone"] for row in features("intact_nature")]
    assert zones == ["villmarkspreget", "sone 1", "sone 2"]


def test_friluftsliv_fgdb_loads_with_omraadeverdi_mapped(downloads):
    """The kartlagte friluftslivsområder FileGDB: omraadeverdi's codes become A, B and C."""
    result = run("layers", "load", "recreation_areas", downloads["friluftsliv_fgdb"])
    assert result.exit_code == 0, result.output
    assert "recreation_areas: version 1 loaded (3 features)" in result.output
    rows = features("recreation_areas")
    assert [(row["recreation_id"], row["value"]) for row in rows] == [
        ("FK00016784", "A"),
        ("FK00016785", "B"),
        ("FK00016786", "C"),
    ]


def test_layers_status_names_missing_layers_and_partial_coverage(downloads):
    """`layers status` lists versions and, per municipality, what cannot be fully checked."""
    path = downloads["tettsteder_fgdb"]
    loaded = run("layers", "load", "tettsteder", path, "--source-date", "2024-01-01")
    assert loaded.exit_code == 0, loaded.output
    result = run("layers", "status")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    tettsteder = next(line for line in lines if line.startswith("tettsteder "))
    assert tettsteder.split()[1:4] == ["v1", "2024-01-01", "2"]
    assert tettsteder.endswith(f"CC BY 4.0; {path.name}")
    assert any(line.startswith("elevation") and "not loaded" in line for line in lines)
    assert "everywhere: G1: layer elevation not loaded" in result.output
    assert "everywhere: G5: layer transport_hubs not loaded" in result.output
    # The two synthetic tettsteder near Hønefoss cover a few km², not Hol or Drammen.
    assert "3330 Hol: G5: tettsteder version 1 covers 0 %" in result.output
    only = run("layers", "status", "--kommunenummer", "3305")
    assert "3330 Hol" not in only.output and "3305 Ringerike: G5: tettsteder" in only.output


def test_the_configs_constants_apply_without_set(downloads):
    """heritage_protected.yaml names each source layer's category: --set is then optional."""
    args = []
    for layer in ("lokalitet", "enkeltminne", "sikringssone"):
        args += ["--source-layer", layer]
    result = run("layers", "load", "heritage_protected", downloads["kulturminner_fgdb"], *args)
    assert result.exit_code == 0, result.output
    rows = features("heritage_protected")
    assert [row["category"] for row in rows] == (
        ["lokalitet"] * 2 + ["enkeltminne"] * 3 + ["sikringssone"]
    )
    # an explicit --set wins over the config
    override = run(
        "layers", "load", "heritage_protected", downloads["kulturminner_fgdb"],
        "--source-layer", "lokalitet", "--set", "category=fredet kulturmiljø",
    )  # fmt: skip
    assert override.exit_code == 0, override.output
    assert {row["category"] for row in features("heritage_protected")} == {"fredet kulturmiljø"}
