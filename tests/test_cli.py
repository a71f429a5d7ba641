"""The operator CLI against the real database: loading a layer, checking a file."""

import json

import geopandas as gpd
from shapely.geometry import box
from typer.testing import CliRunner

from app.cli import app as cli
from tests.plans import cabin_area, collection, encode


def test_cli_loads_a_layer_then_reports_it_unchanged(tmp_path, monkeypatch):
    """`arealsjekk layers load` loads with provenance; a second run says unchanged."""
    monkeypatch.setenv("AREALSJEKK_RASTER_DIR", str(tmp_path / "rasters"))
    path = tmp_path / "hubs.geojson"
    frame = gpd.GeoDataFrame(
        {"navn": ["Hokksund stasjon"], "type": ["jernbanestasjon"]},
        geometry=[box(553_000, 6_625_000, 553_001, 6_625_001).centroid],
        crs=25832,
    )
    frame.to_file(path, driver="GeoJSON", engine="pyogrio")
    runner = CliRunner()
    args = ["layers", "load", "transport_hubs", str(path), "--source-date", "2026-01-31"]
    first = runner.invoke(cli, [*args, "--licence", "NLOD 2.0"])
    assert first.exit_code == 0, first.output
    assert "transport_hubs: version 1 loaded (1 features)" in first.output
    second = runner.invoke(cli, [*args, "--licence", "NLOD 2.0"])
    assert "unchanged, version 1 is identical" in second.output
    listing = runner.invoke(cli, ["layers", "list"])
    assert "transport_hubs" in listing.output and "v1, 1 features, NLOD 2.0" in listing.output


def test_cli_check_prints_findings_and_json(tmp_path):
    """`arealsjekk check FILE` lists findings (unknown where no layers are loaded), --json too."""
    plan = tmp_path / "plan.geojson"
    plan.write_bytes(encode(collection(cabin_area())))
    runner = CliRunner()
    table = runner.invoke(cli, ["check", str(plan)])
    assert table.exit_code == 0, table.output
    assert "3326_2024001" in table.output
    assert "UNKNOWN  G1" in table.output  # no layers loaded in this test
    as_json = runner.invoke(cli, ["check", str(plan), "--json"])
    document = json.loads(as_json.output)
    assert document["summary"]["by_severity"]["unknown"] >= 5
    assert document["findings"]["type"] == "FeatureCollection"
