"""The layer registry: one validated YAML file per guideline layer in layers/config/."""

from functools import lru_cache
from importlib import resources
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from spatial.errors import ArealsjekkError, NotFoundError
from spatial.rules.ruleset import RULE_ID_PATTERN, RuleSet

GeometryType = Literal["Polygon", "LineString", "Point"]
# A layer names the rules using it by their rule-set ids; which ids exist is the rule set's
# business (check_guidelines), so the config itself checks only their form.
GuidelineId = Annotated[str, Field(pattern=RULE_ID_PATTERN)]


class LayerConfigError(ArealsjekkError):
    """A layer configuration file is invalid."""


def normalise_value(value: str) -> str:
    """The form values are matched in: whitespace runs collapsed and trimmed, case folded."""
    return " ".join(value.split()).casefold()


class AttributeConfig(BaseModel):
    """An attribute kept from the source data, with the map from its real codes to ours."""

    model_config = ConfigDict(extra="forbid")

    description: str
    type: Literal["text", "integer", "number", "date"] = "text"
    required: bool = False
    allowed: list[str] | None = Field(None, description="internal values the rules use")
    source_names: list[str] = Field(
        default_factory=list,
        description="column names in the distributed data (FileGDB, Shape, SOSI, GML, APIs)",
    )
    values: dict[str, str] = Field(
        default_factory=dict,
        description="real code value -> internal value (one of `allowed`)",
    )
    _lookup: dict[str, str] = PrivateAttr(default_factory=dict)

    def model_post_init(self, __context: object) -> None:
        """Check the value map against `allowed` and build the matching table."""
        if self.values and self.allowed is None:
            raise ValueError("'values' maps onto 'allowed', so 'allowed' must be given")
        if self.allowed is not None and self.type != "text":
            raise ValueError("'allowed' and 'values' apply to text attributes only")
        lookup: dict[str, str] = {}
        # An internal value stands for itself (files already in our vocabulary, --set).
        for internal in self.allowed or []:
            lookup[normalise_value(internal)] = internal
        for real, internal in self.values.items():
            if internal not in (self.allowed or []):
                raise ValueError(
                    f"values: '{real}' maps to '{internal}', which is not in allowed {self.allowed}"
                )
            key = normalise_value(real)
            if lookup.get(key, internal) != internal:
                raise ValueError(
                    f"values: '{real}' maps to '{internal}' but matches '{lookup[key]}' "
                    "when case and whitespace are ignored"
                )
            lookup[key] = internal
        self._lookup = lookup

    def map_value(self, value: str) -> str | None:
        """The internal value for a source value, or None if it is not in the map."""
        if self.allowed is None:
            return value
        return self._lookup.get(normalise_value(value))


class SourceLayerConfig(BaseModel):
    """A layer of the distributed data (feature class, GML feature type, API collection)."""

    model_config = ConfigDict(extra="forbid")

    names: list[str] = Field(min_length=1, description="its names, one per format or edition")
    where: str = Field(description="the downloads and formats that hold it, with evidence")
    set: dict[str, str] = Field(
        default_factory=dict, description="constant attributes to give it with --set"
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
    # Empty for a layer no rule reads (the land account's buildings, spatial.land_account).
    guidelines: list[GuidelineId] = Field(default_factory=list)
    optional: bool = False
    attributes: dict[str, AttributeConfig] = Field(default_factory=dict)
    source_layers: list[SourceLayerConfig] = Field(
        default_factory=list, description="the layers of the distributed data that feed it"
    )
    raster: RasterConfig | None = None
    readers: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="settings of a format reader in layers/sources/ (e.g. NSR NeTEx, GTFS), "
        "checked by that reader",
    )
    source: SourceConfig

    def model_post_init(self, __context: object) -> None:
        """Check geometry/raster sections and that source layers set known attribute values."""
        if self.kind == "vector" and self.geometry_type is None:
            raise ValueError(f"layer '{self.id}': a vector layer needs geometry_type")
        if self.kind == "raster" and self.raster is None:
            raise ValueError(f"layer '{self.id}': a raster layer needs a 'raster' section")
        for source_layer in self.source_layers:
            for name, value in source_layer.set.items():
                attribute = self.attributes.get(name)
                if attribute is None:
                    raise ValueError(
                        f"source layer '{source_layer.names[0]}' sets '{name}', which layer "
                        f"'{self.id}' does not keep"
                    )
                if attribute.map_value(value) is None:
                    raise ValueError(
                        f"source layer '{source_layer.names[0]}' sets {name}='{value}', which is "
                        f"not one of {attribute.allowed}"
                    )


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
