"""Layer configs and the rule set must name each other: guideline ids and rules' layers."""

from pathlib import Path

import pytest
import yaml

from layers.registry import LayerConfigError, check_guidelines, get_registry
from layers.ruleset import configured_rule_set, default_rule_set

SHIPPED = Path(__file__).parents[2] / "layers" / "rules" / "buskerudplanen-2026.yaml"


def test_the_shipped_layers_and_rules_agree():
    """Every guideline a shipped layer names is a shipped rule, and every rule's layer exists."""
    check_guidelines(default_rule_set(), get_registry())
    assert configured_rule_set(None) is default_rule_set()


def test_a_layer_naming_a_rule_the_rule_set_lacks_fails_naming_file_and_id(tmp_path):
    """A rule set without G5 leaves tettsteder.yaml naming an unknown guideline."""
    document = yaml.safe_load(SHIPPED.read_text("utf-8"))
    document["rules"] = [rule for rule in document["rules"] if rule["id"] != "G5"]
    path = tmp_path / "without-g5.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), "utf-8")
    with pytest.raises(LayerConfigError) as error:
        configured_rule_set(path)
    assert "'G5' is not a rule of rule set buskerudplanen-2026" in error.value.detail
    assert error.value.detail.split(":")[0] in {
        f"{config.id}.yaml" for config in get_registry().values() if "G5" in config.guidelines
    }


def test_a_rule_reading_an_unregistered_layer_fails_naming_rule_and_layer():
    """Without tree_line.yaml, G1 reads a layer the registry does not have."""
    registry = {k: v for k, v in get_registry().items() if k != "tree_line"}
    with pytest.raises(LayerConfigError, match="rule G1 reads layer 'tree_line'"):
        check_guidelines(default_rule_set(), registry)
