"""A finding as a record (stored, served) and as a GeoJSON feature; the rule set's own text."""

import hashlib
import json
from dataclasses import replace
from pathlib import Path

import pytest
from shapely.geometry import box

from app.check_runner import finding_feature
from app.repositories.checks import finding_geojson
from spatial.rules.model import FINDING_FIELDS, Finding, LayerRef
from spatial.rules.ruleset import parse_rule_set

SHIPPED = Path(__file__).parents[2] / "layers" / "rules" / "buskerudplanen-2026.yaml"

FINDING = Finding(
    rule_id="G3",
    check="deposit_buffer",
    paragraph="6.2.5",
    severity="warning",
    plan_feature_ids=(7,),
    plan_feature_keys=("0b7d6c1e-lokal-1",),
    plan_feature_names=("B1",),
    layer_refs=(LayerRef("mineral_deposits", 2, (11, 12), ("d-1", "d-2")),),
    measures={"area_m2": 2500.0, "deposit_names": ["Skollenborg"]},
    message="B1 (1110) ligger 70 m fra mineralforekomsten «Skollenborg».",
    suggested_action="Trekk området minst 100 m unna forekomsten.",
    geometry=box(470_000.004, 6_750_000.0, 470_010.0, 6_750_010.006),
)


def test_a_record_has_every_field_in_order_as_json_values():
    """The record holds FINDING_FIELDS in order, tuples as lists, layer refs as dicts."""
    record = FINDING.record()
    assert tuple(record) == FINDING_FIELDS
    assert record["plan_feature_ids"] == [7] and record["plan_feature_keys"] == ["0b7d6c1e-lokal-1"]
    assert record["plan_feature_names"] == ["B1"]
    assert record["layer_refs"] == [
        {
            "layer_id": "mineral_deposits",
            "version": 2,
            "feature_ids": [11, 12],
            "feature_keys": ["d-1", "d-2"],
        }
    ]
    assert record["fingerprint"] == "G3|deposit_buffer|0b7d6c1e-lokal-1|mineral_deposits:d-1,d-2"
    assert json.loads(json.dumps(record)) == record  # nothing that JSON would change


def test_a_stored_feature_carries_its_id_an_unstored_one_none():
    """Both shapes come from one builder: type, id (stored only), properties, geometry."""
    stored = finding_geojson({"id": 5, **FINDING.record()}, None, 5)
    assert list(stored) == ["type", "id", "properties", "geometry"]
    assert stored["id"] == 5 and stored["properties"]["id"] == 5
    unstored = finding_geojson(FINDING.record(), None)
    assert list(unstored) == ["type", "properties", "geometry"]


@pytest.mark.parametrize(("srid", "digits"), [(25832, 2), (4326, 7)])
def test_an_unstored_finding_is_projected_and_rounded_like_stored_ones(srid, digits):
    """About 1 cm either way: 2 decimals of a metre, 7 of a degree."""
    feature = finding_feature(FINDING, srid)
    assert feature["properties"] == FINDING.record()
    ring = feature["geometry"]["coordinates"][0]
    assert all(round(value, digits) == value for point in ring for value in point)
    if srid == 25832:
        assert {x for x, _ in ring} == {470_000.0, 470_010.0}
    else:
        assert all(8.0 < lon < 9.5 and 60.0 < lat < 61.5 for lon, lat in ring)
    assert finding_feature(replace(FINDING, geometry=None), srid)["geometry"] is None


def test_a_rule_set_keeps_the_text_it_was_read_from():
    """The text, re-hashed, gives the checksum: a stored copy identifies the same rules."""
    text = SHIPPED.read_text("utf-8")
    rule_set = parse_rule_set(text, SHIPPED.name)
    assert rule_set.text == text
    assert rule_set.checksum == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert parse_rule_set(rule_set.text, "stored").rules == rule_set.rules
