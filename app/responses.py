"""Response classes."""

from fastapi.responses import JSONResponse


class GeoJSONResponse(JSONResponse):
    """JSON response with the GeoJSON media type (RFC 7946 §12)."""

    media_type = "application/geo+json"
