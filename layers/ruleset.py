"""The rule set the service runs: the shipped Buskerudplanen 2026 file, or one given in settings."""

from functools import lru_cache
from importlib import resources
from pathlib import Path

from layers.registry import check_guidelines
from spatial.land_account import LandAccountMethod, load_method, parse_method
from spatial.rules.ruleset import RuleSet, load_rule_set, parse_rule_set

DEFAULT_RULE_SET = "buskerudplanen-2026.yaml"


@lru_cache
def default_rule_set() -> RuleSet:
    """Return the shipped Buskerudplanen 2026 rule set (layers/rules/)."""
    entry = resources.files("layers").joinpath("rules", DEFAULT_RULE_SET)
    return parse_rule_set(entry.read_text("utf-8"), DEFAULT_RULE_SET)


def configured_rule_set(rule_set_file: Path | None) -> RuleSet:
    """Return the rule set in `rule_set_file` (or the shipped one), checked against the layers."""
    rule_set = default_rule_set() if rule_set_file is None else load_rule_set(rule_set_file)
    check_guidelines(rule_set)
    return rule_set


DEFAULT_LAND_ACCOUNT_METHOD = "arealregnskap-2026.yaml"


@lru_cache
def default_land_account_method() -> LandAccountMethod:
    """Return the shipped land-account method (layers/rules/arealregnskap-2026.yaml)."""
    entry = resources.files("layers").joinpath("rules", DEFAULT_LAND_ACCOUNT_METHOD)
    return parse_method(entry.read_text("utf-8"), DEFAULT_LAND_ACCOUNT_METHOD)


def configured_land_account_method(method_file: Path | None) -> LandAccountMethod:
    """Return the land-account method in `method_file` (or the shipped one)."""
    return default_land_account_method() if method_file is None else load_method(method_file)
