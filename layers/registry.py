"""The layer registry: one validated YAML file per guideline layer in layers/config/."""

from functools import lru_cache
from importlib import resources
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from spatial.errors import ArealsjekkError, NotFoundError
from spatial.rules.ruleset import RULE_ID_PATTERN, RuleSet

GeometryType = Literal["Polygon", "LineString", "Point"]
# A layer names the rules using it by their rule-set ids; which ids exist is the rule set's
# business (check_guidelines), so the config itself checks only their form.
GuidelineId = Annotated[str, Field(pattern=RULE_ID_PATTERN)]


class LayerConfigError(ArealsjekkError):
    """A layer configuration file is invalid."""


class AttributeConfig(BaseModel):
    """An attribute kept from the source data."""

    model_config = ConfigDict(extra="forbid")

    description: str
    type: Literal["text", "integer", "number", "date"] = "text"
    required: bool = False
    allowed: list[str] | None = Field(None, description="allowed values (text attributes)")
    source_names: list[str] = Field(
        default_factory=list, description="attribute names in the official data set"
    )


class SourceConfig(BaseModel):
    """Where the real data come from."""

    model_config = ConfigDict(extra="forbid")

    name: str
    owner: str
    url: str | None = None
    licence: str
    attribution: str


class RasterConfig(BaseModel):
    """What the cells of a raster layer mean."""

    model_config = ConfigDict(extra="forbid")

    unit: str
    description: str
    nodata: float | None = None


class LayerConfig(BaseModel):
    """One guideline layer: identity, geometry, attributes, source and the rules using it."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{1,40}$")
    title: str
    description: str
    kind: Literal["vector", "raster"]
    geometry_type: GeometryType | None = None
    guidelines: list[GuidelineId] = Field(min_length=1)
    optional: bool = False
    attributes: dict[str, AttributeConfig] = Field(default_factory=dict)
    raster: RasterConfig | None = None
    source: SourceConfig

    def model_post_init(self, __context: object) -> None:
        """Check that vector layers have a geometry type and raster layers a cell meaning."""
        if self.kind == "vector" and self.geometry_type is None:
            raise ValueError(f"layer '{self.id}': a vector layer needs geometry_type")
        if self.kind == "raster" and self.raster is None:
            raise ValueError(f"layer '{self.id}': a raster layer needs a 'raster' section")


def parse_layer_config(text: str, name: str) -> LayerConfig:
    """Parse and validate one layer config; raise LayerConfigError naming the file."""
    try:
        raw = yaml.safe_load(text)
        return LayerConfig.model_validate(raw)
    except yaml.YAMLError as exc:
        raise LayerConfigError(f"{name}: not valid YAML: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise LayerConfigError(f"{name}: {where}: {first['msg']}") from None


@lru_cache
def get_registry() -> dict[str, LayerConfig]:
    """Load every layers/config/*.yaml once, keyed by layer id."""
    registry: dict[str, LayerConfig] = {}
    folder = resources.files("layers").joinpath("config")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        config = parse_layer_config(entry.read_text("utf-8"), entry.name)
        if entry.name != f"{config.id}.yaml":
            raise LayerConfigError(f"{entry.name}: file name must be '{config.id}.yaml'")
        registry[config.id] = config
    return registry


def get_layer_config(layer_id: str) -> LayerConfig:
    """Return one layer's config, or raise NotFoundError listing the known ids."""
    registry = get_registry()
    if layer_id not in registry:
        raise NotFoundError(f"no layer '{layer_id}'; known layers: {', '.join(sorted(registry))}")
    return registry[layer_id]


def check_guidelines(rule_set: RuleSet, registry: dict[str, LayerConfig] | None = None) -> None:
    """Raise LayerConfigError if a layer names an unknown rule or a rule reads an unknown layer."""
    registry = get_registry() if registry is None else registry
    rule_ids = [rule.id for rule in rule_set.rules]
    for config in registry.values():
        for guideline in config.guidelines:
            if guideline not in rule_ids:
                raise LayerConfigError(
                    f"{config.id}.yaml: guidelines: '{guideline}' is not a rule of rule set "
                    f"{rule_set.id} {rule_set.version} (its rules: {', '.join(rule_ids)})"
                )
    for rule in rule_set.rules:
        for layer_id in type(rule).layers:
            if layer_id not in registry:
                raise LayerConfigError(
                    f"rule set {rule_set.id}: rule {rule.id} reads layer '{layer_id}', which "
                    f"has no layers/config/{layer_id}.yaml"
                )
