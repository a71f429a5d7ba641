"""Layer configs' value maps: real code values onto the internal values the rules use."""

import pytest

from layers.registry import LayerConfigError, get_registry, normalise_value, parse_layer_config

BASE = """
id: demo_layer
title: t
description: d
kind: vector
geometry_type: Polygon
guidelines: [G3]
source: {name: n, owner: o, licence: l, attribution: a}
"""


def config(attributes: str, extra: str = "") -> str:
    return BASE + "attributes:\n" + attributes + extra


def test_real_values_map_ignoring_case_and_whitespace():
    """'Nasjonal betydning' in any case or spacing is nasjonal; our own value stands for itself."""
    importance = get_registry()["mineral_deposits"].attributes["importance"]
    assert importance.map_value("Nasjonal betydning") == "nasjonal"
    assert importance.map_value("  NASJONAL\tbetydning ") == "nasjonal"
    assert importance.map_value("Liten lokal betydning") == "liten eller ingen"
    assert importance.map_value("regional") == "regional"
    # never guessed: near misses are not mapped
    assert importance.map_value("Liten betydning") is None
    assert importance.map_value("Nasjonal betydning.") is None
    assert normalise_value(" Svært  Viktig ") == "svært viktig"


def test_the_shipped_maps_know_the_agencies_codes():
    registry = get_registry()
    value = registry["recreation_areas"].attributes["value"]
    assert [value.map_value(code) for code in (
        "SvaertViktigFriluftslivsomraade", "ViktigFriluftslivsomraade",
        "RegistrertFriluftslivsomraade", "IkkeKlassifisert",
    )] == ["A", "B", "C", "D"]  # fmt: skip
    vernetype = registry["heritage_protected"].attributes["vernetype"]
    assert vernetype.map_value("IKKE") == "IKKEV"
    assert vernetype.map_value("Automatisk fredet") == "AUT"
    zone = registry["intact_nature"].attributes["zone"]
    assert [zone.map_value(code) for code in ("v", "1", "2")] == [
        "villmarkspreget", "sone 1", "sone 2",
    ]  # fmt: skip


def test_riksantikvaren_source_layers_set_the_category():
    layers = get_registry()["heritage_protected"].source_layers
    sets = {layer.names[0]: layer.set.get("category") for layer in layers}
    assert sets == {
        "lokaliteter": "lokalitet",
        "enkeltminner": "enkeltminne",
        "sikringssoner": "sikringssone",
        "kulturmiljo": "fredet kulturmiljø",
    }


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        (
            "  a: {description: x, allowed: [ja], values: {Jepp: nei}}\n",
            "'Jepp' maps to 'nei', which is not in allowed",
        ),
        ("  a: {description: x, values: {Jepp: ja}}\n", "'allowed' must be given"),
        (
            "  a: {description: x, allowed: [ja, nei], values: {' JA ': nei}}\n",
            "matches 'ja' when case and whitespace are ignored",
        ),
        (
            "  a: {description: x, allowed: [ja, nei], values: {Jepp: ja, jepp: nei}}\n",
            "matches 'ja' when case and whitespace are ignored",
        ),
        (
            "  a: {description: x, type: integer, allowed: ['1']}\n",
            "apply to text attributes only",
        ),
    ],
)
def test_a_value_map_that_does_not_fit_allowed_is_refused(attributes, message):
    with pytest.raises(LayerConfigError, match=message):
        parse_layer_config(config(attributes), "demo_layer.yaml")


@pytest.mark.parametrize(
    ("source_layers", "message"),
    [
        ("  - {names: [L], where: w, set: {b: ja}}\n", "sets 'b', which layer 'demo_layer' does"),
        ("  - {names: [L], where: w, set: {a: kanskje}}\n", "sets a='kanskje', which is not one"),
        ("  - {names: [], where: w}\n", "source_layers.0.names"),
    ],
)
def test_source_layers_set_only_known_attributes_and_values(source_layers, message):
    text = config("  a: {description: x, allowed: [ja]}\n", "source_layers:\n" + source_layers)
    with pytest.raises(LayerConfigError, match=message):
        parse_layer_config(text, "demo_layer.yaml")
