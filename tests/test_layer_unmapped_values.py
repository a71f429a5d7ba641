"""Loading data in the agencies' schemas: codes mapped, unknown values counted, not guessed."""

import geopandas as gpd
import pytest
from shapely.geometry import box
from sqlalchemy import select
from typer.testing import CliRunner

from app.cli import app as cli
from app.db import get_sessionmaker
from db.models import LayerFeatureOrm, LayerVersionOrm
from layers.loader import LayerLoadError, LoadOptions, load_layer
from layers.sources.files import Constant
from tests.conftest import LAYER_TABLES, row_counts


def grus_og_pukk(path, importance: list[str], material: list[str]) -> None:
    """NGU-style deposits near Hønefoss with the real GML/FileGDB field names."""
    boxes = [box(571_000 + 500 * i, 6_670_000, 571_300 + 500 * i, 6_670_300) for i in range(4)]
    gpd.GeoDataFrame(
        {
            "navnRastoffobj": [f"Forekomst {i}" for i in range(4)],
            "identRastoffobj": [17290010101 + i for i in range(4)],
            "rastoffBetydning": importance,
            "materialType": material,
        },
        geometry=boxes,
        crs="EPSG:25833",
    ).to_file(path, driver="GeoJSON", engine="pyogrio")


def load(path):
    with get_sessionmaker()() as session:
        return load_layer(session, "mineral_deposits", path, LoadOptions())


def stored() -> tuple[list[dict], dict]:
    with get_sessionmaker()() as session:
        version = session.execute(select(LayerVersionOrm)).scalar_one()
        rows = session.execute(
            select(LayerFeatureOrm.attributes)
            .where(LayerFeatureOrm.layer_version_id == version.id)
            .order_by(LayerFeatureOrm.id)
        ).scalars()
        return list(rows), version.details


def test_real_codes_are_mapped_and_unknown_optional_values_reported(tmp_path):
    """rastoffBetydning's labels become our values; an unknown materialType is left empty."""
    path = tmp_path / "grus_pukk.geojson"
    importance = [
        "Nasjonal betydning",
        "regional betydning",
        "Liten lokal betydning",
        "Ikke vurdert",
    ]
    material = ["Sand og grus", "Pukk/knust fjell", "Morene", "Morene"]
    grus_og_pukk(path, importance, material)
    result = load(path)
    assert result.created and result.feature_count == 4
    assert result.unmapped == {"resource_type": {"Morene": 2}}
    rows, details = stored()
    assert [row["importance"] for row in rows] == [
        "nasjonal", "regional", "liten eller ingen", "ikke vurdert",
    ]  # fmt: skip
    assert [row.get("resource_type") for row in rows] == ["grus", "pukk", None, None]
    assert rows[0]["deposit_id"] == "17290010101" and rows[0]["name"] == "Forekomst 0"
    assert details["attribute_columns"]["importance"] == "rastoffBetydning"
    assert details["unmapped_values"] == {"resource_type": {"Morene": 2}}


def test_unknown_values_of_a_required_attribute_fail_with_their_counts(tmp_path):
    """Every unmapped importance value is listed with how many features have it."""
    path = tmp_path / "grus_pukk.geojson"
    importance = ["Nasjonal betydning", "Stor betydning", "Stor betydning", "Liten betydning"]
    grus_og_pukk(path, importance, ["Sand og grus"] * 4)
    with pytest.raises(LayerLoadError) as error:
        load(path)
    message = str(error.value)
    assert (
        "'importance' (column 'rastoffBetydning'): 'Stor betydning': 2, 'Liten betydning': 1"
        in message
    )
    assert "'Liten lokal betydning'" in message  # the known values are named
    assert row_counts(LAYER_TABLES) == {"layer_version": 0, "layer_feature": 0}


def test_cli_prints_the_unmapped_values(tmp_path, monkeypatch):
    monkeypatch.setenv("AREALSJEKK_RASTER_DIR", str(tmp_path / "rasters"))
    path = tmp_path / "grus_pukk.geojson"
    grus_og_pukk(path, ["Lokal betydning"] * 4, ["Sand og grus", "Morene", "Leire", "Morene"])
    result = CliRunner().invoke(cli, ["layers", "load", "mineral_deposits", str(path)])
    assert result.exit_code == 0, result.output
    assert "mineral_deposits: version 1 loaded (4 features)" in result.output
    assert (
        "resource_type: values with no mapping, left empty (value: features): "
        "'Morene': 2, 'Leire': 1"
    ) in result.output


def test_a_set_value_outside_the_vocabulary_fails_naming_set(tmp_path):
    """--set category=… must be one of the internal values (or a mapped real one)."""
    path = tmp_path / "lokalitet.geojson"
    gpd.GeoDataFrame(
        {"navn": ["Gravhaug"], "vernetype": ["AUT"]},
        geometry=[box(571_000, 6_670_000, 571_020, 6_670_020)],
        crs="EPSG:25833",
    ).to_file(path, driver="GeoJSON", engine="pyogrio")
    options = LoadOptions(constants=(Constant("category", "gravminne"),))
    with pytest.raises(LayerLoadError, match="'category' \\(given with --set\\): 'gravminne': 1"):
        with get_sessionmaker()() as session:
            load_layer(session, "heritage_protected", path, options)
    assert row_counts(LAYER_TABLES) == {"layer_version": 0, "layer_feature": 0}
