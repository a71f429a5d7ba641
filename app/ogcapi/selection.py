"""`sortby` (OGC API – Features Part 8, draft) and `properties` (Part 6, draft) of items."""

from typing import Any

from sqlalchemy import ColumnElement

from app.ogcapi import InvalidParameterError
from app.ogcapi.queryables import FeatureSchema
from spatial.errors import Problem
from spatial.messages import Text


def _unknown(names: list[str], schema: FeatureSchema, parameter: str) -> InvalidParameterError:
    listed = ", ".join(f"«{n}»" for n in names)
    listed_en = ", ".join(f"'{n}'" for n in names)
    known = ", ".join(schema.names)
    return InvalidParameterError(
        Text(
            f"{parameter}: {listed} er ikke egenskaper i samlingen; den har {known}",
            f"{parameter}: {listed_en} are not properties of the collection; it has {known}",
        ),
        [Problem(Text("ukjent egenskap", "unknown property"), field=parameter)],
    )


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",")]


def sort_keys(text: str, schema: FeatureSchema) -> tuple[ColumnElement[Any], ...]:
    """The ORDER BY terms of `sortby`: names, each with an optional + (ascending) or -."""
    keys: list[ColumnElement[Any]] = []
    unknown: list[str] = []
    for item in _names(text):
        # An unencoded + arrives as a space, which strip() has removed: ascending either way.
        descending = item.startswith("-")
        name = item[1:] if item[:1] in "+-" and item else item
        prop = schema.get(name)
        if prop is None:
            unknown.append(name)
            continue
        keys.append(prop.expression.desc() if descending else prop.expression.asc())
    if unknown:
        raise _unknown(unknown, schema, "sortby")
    return tuple(keys)


def selected_properties(text: str, schema: FeatureSchema) -> frozenset[str]:
    """The property names `properties` keeps (an empty value keeps none)."""
    names = [name for name in _names(text) if name]
    unknown = [name for name in names if schema.get(name) is None]
    if unknown:
        raise _unknown(unknown, schema, "properties")
    return frozenset(names)
