"""OGC API – Features beyond Core: queryables and schemas, CQL2 filters, HTML, OpenAPI."""

from spatial.errors import ArealsjekkError


class InvalidParameterError(ArealsjekkError):
    """A query parameter is unknown or has a value the OGC API cannot use (answered with 400)."""
