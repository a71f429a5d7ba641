"""The layer registry's validation and the operator CLI for layers."""

import pytest
from typer.testing import CliRunner

from app.cli import app as cli
from layers.registry import LayerConfigError, get_registry, parse_layer_config
from layers.ruleset import default_rule_set

VALID = """
id: test_layer
title: Test
description: A layer for tests
kind: vector
geometry_type: Polygon
guidelines: [G3]
source: {name: n, owner: o, licence: NLOD 2.0, attribution: a}
"""


def test_every_shipped_config_is_valid_and_covers_the_guidelines():
    """All configs load, and name exactly the shipped rules that read layers."""
    registry = get_registry()
    assert len(registry) >= 13
    used = {g for config in registry.values() for g in config.guidelines}
    assert used == {rule.id for rule in default_rule_set().rules if type(rule).layers}
    assert registry["tree_line"].kind == "raster"
    assert registry["villrein_corridors"].geometry_type == "LineString"
    assert "internasjonal" in registry["mineral_deposits"].attributes["importance"].allowed


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (VALID.replace("kind: vector", "kind: tile"), "kind"),
        (VALID.replace("guidelines: [G3]", "guidelines: [g3]"), "guidelines.0"),
        (VALID.replace("geometry_type: Polygon\n", ""), "needs geometry_type"),
        (VALID + "colour: red\n", "colour"),
        ("id: [unclosed", "not valid YAML"),
    ],
)
def test_a_bad_config_fails_with_a_clear_error(text, message):
    """Validation names the file and what is wrong."""
    with pytest.raises(LayerConfigError, match=message) as error:
        parse_layer_config(text, "broken.yaml")
    assert error.value.detail.startswith("broken.yaml:")


def test_cli_reports_a_bad_file_and_exits_non_zero(tmp_path):
    """A broken file gives exit code 1 and a message naming it."""
    path = tmp_path / "broken.gpkg"
    path.write_bytes(b"not a geopackage")
    result = CliRunner().invoke(cli, ["layers", "load", "mineral_deposits", str(path)])
    assert result.exit_code == 1
    assert "broken.gpkg" in result.output


def test_cli_rejects_a_malformed_attr_map(tmp_path):
    """--attr-map must be ATTRIBUTE=COLUMN."""
    path = tmp_path / "x.geojson"
    path.write_text("{}")
    result = CliRunner().invoke(
        cli, ["layers", "load", "mineral_deposits", str(path), "--attr-map", "importance"]
    )
    assert result.exit_code == 2
    assert "ATTRIBUTE=COLUMN" in result.output
