"""The layer registry: one validated YAML file per guideline layer in layers/config/."""

from functools import lru_cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from spatial.errors import ArealsjekkError, NotFoundError

GeometryType = Literal["Polygon", "LineString", "Point"]


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
    guidelines: list[str] = Field(min_length=1)
    optional: bool = False
    attributes: dict[str, AttributeConfig] = Field(default_factory=dict)
    raster: RasterConfig | None = None
    source: SourceConfig

    @field_validator("guidelines")
    @classmethod
    def _known_guidelines(cls, value: list[str]) -> list[str]:
        unknown = [g for g in value if g not in {"G1", "G2", "G3", "G4", "G5"}]
        if unknown:
            raise ValueError(f"unknown guideline(s) {unknown}; use G1-G5")
        return value

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
