"""What a collection's features hold: their properties with types, as SQL and as JSON Schema.

One `FeatureSchema` per collection serves the queryables (OGC API – Features Part 3 §6), the
schema (Part 5 draft, /req/schemas), sorting and property selection, the HTML tables and the
item schemas of the OpenAPI document, so that they all name the same properties. A layer's
properties come from its config in layers/config/ (present before the layer is loaded, so
clients get the fields of an empty collection); those of municipalities, proposals and
findings from their columns.
"""

from dataclasses import dataclass
from typing import Any, Literal, get_args

from sqlalchemy import Date, Numeric, case, cast, func
from sqlalchemy.sql.elements import ColumnElement, Label

from app.repositories.ogcapi import FeatureSource
from db.models import LayerFeatureOrm
from layers.registry import AttributeConfig, LayerConfig
from spatial.plan_model import FeatureKind
from spatial.rules.model import Severity

PropertyType = Literal["string", "integer", "number", "date"]
JSON_SCHEMA = "https://json-schema.org/draft/2020-12/schema"
GEOMETRY = "geometry"  # the name filters give the geometry (as pygeoapi and ldproxy do)


@dataclass(frozen=True)
class Property:
    """One property of a collection's features: its name, title, type and SQL value."""

    name: str
    title: str
    type: PropertyType
    expression: ColumnElement[Any]
    enum: tuple[str, ...] | None = None
    minimum: int | None = None
    maximum: int | None = None


@dataclass(frozen=True)
class FeatureSchema:
    """The properties of a collection's features, its id type and its one geometry type."""

    properties: tuple[Property, ...]
    id_type: Literal["integer", "string"]
    geometry_type: str | None  # a GeoJSON type, or None for any

    def get(self, name: str) -> Property | None:
        """The property of that name, if the collection has one."""
        return next((p for p in self.properties if p.name == name), None)

    @property
    def names(self) -> list[str]:
        """The property names, in the order features carry them."""
        return [p.name for p in self.properties]


def _attribute_value(name: str, attribute: AttributeConfig) -> ColumnElement[Any]:
    value = LayerFeatureOrm.attributes[name]
    text = value.astext
    if attribute.type in ("integer", "number"):
        # The loader writes JSON numbers; the guard keeps a stray string from failing the cast.
        return case((func.jsonb_typeof(value) == "number", cast(text, Numeric)))
    if attribute.type == "date":
        return case(
            (text.regexp_match("^[0-9]{4}-[0-9]{2}-[0-9]{2}"), cast(func.left(text, 10), Date))
        )
    return text


_LAYER_TYPES: dict[str, PropertyType] = {
    "text": "string",
    "integer": "integer",
    "number": "number",
    "date": "date",
}


def layer_schema(config: LayerConfig, source: FeatureSource) -> FeatureSchema:
    """The schema of a guideline layer's collection, from the attributes its config keeps."""
    properties = [
        Property(
            name=name,
            title=attribute.description,
            type=_LAYER_TYPES[attribute.type],
            expression=_attribute_value(name, attribute),
            enum=tuple(attribute.allowed) if attribute.allowed else None,
        )
        for name, attribute in config.attributes.items()
    ]
    properties.append(
        Property("source_fid", "objekt-id i kildedata", "string", source.properties[0])
    )
    return FeatureSchema(tuple(properties), "integer", source.geometry_type)


# Titles of the columns of the fixed collections, with the value lists the database keeps.
_COLUMNS: dict[str, dict[str, dict[str, Any]]] = {
    "municipalities": {
        "kommunenummer": {"title": "kommunenummer"},
        "name": {"title": "kommunenavn"},
        "region": {"title": "region i Buskerud"},
        "centrality_class": {"title": "SSBs sentralitetsklasse", "minimum": 1, "maximum": 6},
        "source": {"title": "kilde"},
    },
    "proposals": {
        "proposal_id": {"title": "planforslag (kommunenummer_planidentifikasjon)"},
        "version": {"title": "versjon av planforslaget"},
        "kind": {"title": "type område", "enum": get_args(FeatureKind)},
        "arealformal": {"title": "arealformål (SOSI-kode)"},
        "arealbruksstatus": {"title": "arealbruksstatus (SOSI-kode)"},
        "feltnavn": {"title": "feltnavn"},
        "lokal_id": {"title": "lokal id"},
        "hensynssone": {"title": "hensynssone (SOSI-kode)"},
    },
    "findings": {
        "check_id": {"title": "kontroll"},
        "proposal_id": {"title": "planforslag (kommunenummer_planidentifikasjon)"},
        "rule_id": {"title": "regel i Buskerudplanen"},
        "severity": {"title": "alvorlighet", "enum": get_args(Severity)},
        "message": {"title": "funnet"},
        "paragraph": {"title": "retningslinje"},
    },
}
_COLUMNS["finding_lines"] = _COLUMNS["findings"]


def _column_type(column: ColumnElement[Any]) -> PropertyType:
    python_type = column.type.python_type
    if issubclass(python_type, bool):
        raise TypeError(f"no queryable type for {column.key}")  # none of ours is boolean
    if issubclass(python_type, int):
        return "integer"
    if issubclass(python_type, float):
        return "number"
    return "string"


def fixed_schema(collection_id: str, source: FeatureSource) -> FeatureSchema:
    """The schema of municipalities, proposals or findings, from the source's columns."""
    titles = _COLUMNS[collection_id]
    properties = []
    for column in source.properties:
        info = titles[column.key]
        # A label (proposal_id) is filtered and sorted by the expression it names.
        expression = column.element if isinstance(column, Label) else column
        properties.append(
            Property(
                name=column.key,
                title=info["title"],
                type=_column_type(column),
                expression=expression,
                enum=info.get("enum"),
                minimum=info.get("minimum"),
                maximum=info.get("maximum"),
            )
        )
    id_type = "string" if not source.numeric_ids else "integer"
    return FeatureSchema(tuple(properties), id_type, source.geometry_type)


def _value_schema(prop: Property) -> dict[str, Any]:
    schema: dict[str, Any] = {"title": prop.title}
    if prop.type == "date":
        schema |= {"type": "string", "format": "date"}
    else:
        schema["type"] = prop.type
    if prop.enum:
        schema["enum"] = list(prop.enum)
    if prop.minimum is not None:
        schema["minimum"] = prop.minimum
    if prop.maximum is not None:
        schema["maximum"] = prop.maximum
    return schema


def geometry_format(geometry_type: str | None) -> str:
    """The JSON Schema format of a geometry property (Part 3 /req/queryables, Part 5)."""
    return f"geometry-{(geometry_type or 'any').lower()}"


def queryables_json(schema: FeatureSchema, schema_id: str, title: str) -> dict[str, Any]:
    """The queryables as JSON Schema (OGC API – Features Part 3, /req/queryables)."""
    properties: dict[str, Any] = {
        GEOMETRY: {"title": "geometri", "format": geometry_format(schema.geometry_type)}
    }
    for prop in schema.properties:
        properties[prop.name] = _value_schema(prop)
    # additionalProperties false: a name outside this list in a filter is a 400 (§6.2 G).
    return {
        "$schema": JSON_SCHEMA,
        "$id": schema_id,
        "type": "object",
        "title": title,
        "properties": properties,
        "additionalProperties": False,
    }


def sortables_json(schema: FeatureSchema, schema_id: str, title: str) -> dict[str, Any]:
    """The properties `sortby` takes, as JSON Schema (Part 8 draft, /req/sortables)."""
    properties = {prop.name: _value_schema(prop) for prop in schema.properties}
    return {
        "$schema": JSON_SCHEMA,
        "$id": schema_id,
        "type": "object",
        "title": title,
        "properties": properties,
        "additionalProperties": False,
    }


def feature_schema_json(schema: FeatureSchema, schema_id: str, title: str) -> dict[str, Any]:
    """The features' schema (Part 5 draft, /req/schemas): id, geometry and properties."""
    properties: dict[str, Any] = {
        "id": {"title": "id", "type": schema.id_type, "x-ogc-role": "id"},
        GEOMETRY: {
            "title": "geometri",
            "format": geometry_format(schema.geometry_type),
            "x-ogc-role": "primary-geometry",
        },
    }
    for sequence, prop in enumerate(schema.properties, start=1):
        properties[prop.name] = _value_schema(prop) | {"x-ogc-propertySeq": sequence}
    return {
        "$schema": JSON_SCHEMA,
        "$id": schema_id,
        "type": "object",
        "title": title,
        "properties": properties,
    }


def geojson_schema_json(schema: FeatureSchema, schema_id: str, title: str) -> dict[str, Any]:
    """A GeoJSON Feature of the collection as JSON Schema, for the collection's describedBy link.

    GDAL's OAPIF driver builds its fields from this (so an empty collection has them too);
    it reads a plain `type` only, so the types are those of the values present, as in the
    schema above: a property without a value is null.
    """
    geometry: dict[str, Any] = {"type": "object", "required": ["type", "coordinates"]}
    if schema.geometry_type:
        geometry["properties"] = {"type": {"type": "string", "enum": [schema.geometry_type]}}
    return {
        "$schema": JSON_SCHEMA,
        "$id": schema_id,
        "type": "object",
        "title": title,
        "required": ["type", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {"type": schema.id_type},
            "geometry": geometry,
            "properties": {
                "type": "object",
                "properties": {prop.name: _value_schema(prop) for prop in schema.properties},
            },
        },
    }


def _openapi_value(prop: Property) -> dict[str, Any]:
    schema = _value_schema(prop)
    schema["nullable"] = True  # OpenAPI 3.0: no null type; any property may be missing a value
    return schema


def geojson_feature_openapi(schema: FeatureSchema) -> dict[str, Any]:
    """A GeoJSON Feature of the collection as an OpenAPI 3.0 schema."""
    geometry_types = [schema.geometry_type] if schema.geometry_type else None
    geometry: dict[str, Any] = {
        "type": "object",
        "required": ["type", "coordinates"],
        "properties": {
            "type": {"type": "string"} | ({"enum": geometry_types} if geometry_types else {}),
            "coordinates": {"type": "array", "items": {}},
        },
        "nullable": True,
    }
    return {
        "type": "object",
        "required": ["type", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {"type": schema.id_type},
            "geometry": geometry,
            "properties": {
                "type": "object",
                "properties": {prop.name: _openapi_value(prop) for prop in schema.properties},
            },
            "links": {"type": "array", "items": {"$ref": "#/components/schemas/Link"}},
        },
    }
