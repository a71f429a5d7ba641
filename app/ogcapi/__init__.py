"""OGC API – Features beyond Core: queryables and schemas, CQL2 filters, HTML, OpenAPI."""

from spatial.errors import ArealsjekkError


class InvalidParameterError(ArealsjekkError):
    """A query parameter is unknown or has a value the OGC API cannot use (answered with 400)."""


# The query parameters of an items request (Core, Part 2 CRS, Part 3 filters, sorting and
# property selection), besides `f`: checked by the route and described by /ogcapi/api.
ITEMS_PARAMETERS = (
    "bbox",
    "bbox-crs",
    "crs",
    "limit",
    "offset",
    "datetime",
    "filter",
    "filter-lang",
    "filter-crs",
    "sortby",
    "properties",
)
