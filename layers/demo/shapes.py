"""Shape helpers for the demo layers: random blobs, ellipses, tidying to a 1 cm grid."""

from collections.abc import Iterable

import numpy as np
import shapely
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from layers.demo.base import utm


def tidy(geometry: BaseGeometry) -> BaseGeometry | None:
    """Keep the polygons (or lines, points) of a geometry, snapped to a 1 cm grid."""
    if geometry.is_empty:
        return None
    geometry = shapely.set_precision(geometry, 0.01)
    dimension = shapely.get_dimensions(geometry)
    parts = [
        part
        for part in shapely.get_parts(shapely.get_parts(geometry))
        if not part.is_empty
        and shapely.get_dimensions(part) == dimension
        and (dimension != 2 or part.area >= 1.0)
    ]
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    return shapely.union_all(parts) if dimension == 2 else shapely.multilinestrings(parts)


def blob(
    rng: np.random.Generator,
    x: float,
    y: float,
    radius: float,
    aspect: float = 1.0,
    angle: float = 0.0,
    roughness: float = 0.15,
    vertices: int = 24,
) -> Polygon:
    """An irregular, star-shaped (so always valid) polygon of about `radius`."""
    theta = np.linspace(0.0, 2 * np.pi, vertices, endpoint=False)
    r = np.ones(vertices)
    for k in (2, 3, 5):
        r += rng.uniform(0.0, roughness / k * 2) * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    r = np.maximum(r, 0.35) * radius
    px = r * np.cos(theta) * np.sqrt(aspect)
    py = r * np.sin(theta) / np.sqrt(aspect)
    cos, sin = np.cos(angle), np.sin(angle)
    return Polygon(np.column_stack([x + px * cos - py * sin, y + px * sin + py * cos]))


def ellipse(
    x: float, y: float, a: float, b: float, angle_deg: float, vertices: int = 32
) -> Polygon:
    """A rotated ellipse with semi-axes a (along angle) and b."""
    theta = np.linspace(0.0, 2 * np.pi, vertices, endpoint=False)
    angle = np.radians(angle_deg)
    px, py = a * np.cos(theta), b * np.sin(theta)
    return Polygon(
        np.column_stack(
            [
                x + px * np.cos(angle) - py * np.sin(angle),
                y + px * np.sin(angle) + py * np.cos(angle),
            ]
        )
    )


def lonlat_polygon(points: Iterable[tuple[float, float]]) -> Polygon:
    """A polygon from lon/lat vertices, in the canonical CRS."""
    return Polygon([utm(lon, lat) for lon, lat in points])
