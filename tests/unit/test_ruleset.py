"""The rule set file: validation, registry of rule classes, and the `arealsjekk check` CLI."""

import pytest
import yaml
from typer.testing import CliRunner

from app.cli import app as cli
from layers.ruleset import default_rule_set
from spatial.rules.base import RULE_CLASSES
from spatial.rules.ruleset import RuleSetError, parse_rule_set
from tests.rule_fixtures import RULE_SET


def shipped() -> dict:
    return yaml.safe_load(RULE_SET.read_text("utf-8"))


def test_shipped_rule_set_has_g1_to_g5_each_param_with_a_reason():
    """Every rule cites its paragraph; every parameter has a value and a one-line reason."""
    rule_set = default_rule_set()
    assert [rule.id for rule in rule_set.rules] == ["G1", "G2", "G3", "G4", "G5"]
    assert rule_set.version == "2026.1" and len(rule_set.checksum) == 64
    for entry in shipped()["rules"]:
        assert entry["paragraph"].startswith("Buskerudplanen 2026 §6.")
        for name, param in entry["params"].items():
            assert param["reason"].strip(), (entry["id"], name)
    assert {"tree_line", "nature_recreation", "minerals", "heritage", "mobility_matrix"} <= set(
        RULE_CLASSES
    )


def mutate(change) -> str:
    document = shipped()
    change(document)
    return yaml.safe_dump(document, allow_unicode=True)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["rules"][0].update({"class": "nope"}), "rule G1: unknown class 'nope'"),
        (
            lambda d: d["rules"][0]["params"]["transition_zone_m"].update({"value": "high"}),
            "rule G1: transition_zone_m",
        ),
        (
            lambda d: d["rules"][0]["params"]["transition_zone_m"].pop("reason"),
            "params.transition_zone_m.reason",
        ),
        (lambda d: d["rules"][1].update({"id": "G1"}), "rule id 'G1' is used twice"),
        (lambda d: d["rules"][0]["params"].pop("conflict_min_area_m2"), "conflict_min_area_m2"),
        (
            lambda d: d["rules"][0]["params"].update(
                {"colour": {"value": 1, "reason": "not a parameter"}}
            ),
            "colour",
        ),
        (
            lambda d: d["rules"][4]["params"]["matrix"]["value"].pop("storbyområde"),
            "storbyområde",
        ),
    ],
)
def test_a_bad_rule_set_fails_with_a_clear_error(change, message):
    """Loading names the file, the rule and the parameter that is wrong."""
    with pytest.raises(RuleSetError, match=message) as error:
        parse_rule_set(mutate(change), "my-rules.yaml")
    assert error.value.detail.startswith("my-rules.yaml:")


def test_cli_check_reports_bad_input(tmp_path):
    """A broken plan file exits 1 with the problem named."""
    plan = tmp_path / "plan.geojson"
    plan.write_text('{"type": "FeatureCollection", "features": []}')
    result = CliRunner().invoke(cli, ["check", str(plan)])
    assert result.exit_code == 1
    # the CLI prints the problem as people read it (bokmål; "empty" in English)
    assert "tom" in result.output or "empty" in result.output
