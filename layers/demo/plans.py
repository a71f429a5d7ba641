"""The adopted kommuneplaner's cabin, housing and business areas."""

import numpy as np
import shapely
from shapely.geometry import Point, Polygon
from shapely.geometry.base import BaseGeometry

from layers.demo.base import MAX_ATTEMPTS, Feature, layer_rng
from layers.demo.geography import Geography
from layers.demo.sample_sites import HEMSEDAL_ADOPTED_CABINS
from layers.demo.shapes import blob

# Adopted kommuneplaner: kommunenummer -> (planidentifikasjon, number of cabin areas).
EXISTING_PLANS = {
    "3326": ("KPA2019", 8),
    "3330": ("KPA2017", 8),
    "3328": ("KPA2020", 6),
    "3324": ("KPA2018", 6),
    "3322": ("KPA2021", 5),
    "3338": ("KPA2016", 6),
    "3332": ("KPA2019", 5),
    "3318": ("KPA2022", 5),
    "3320": ("KPA2020", 4),
}


def existing_kommuneplan(geo: Geography) -> list[Feature]:
    """Cabin, housing and business areas of the adopted kommuneplaner."""
    rng = layer_rng("existing_kommuneplan")
    features: list[Feature] = []
    taken: list[BaseGeometry] = []

    def add(geometry: BaseGeometry | None, kommunenummer: str, formal: int, status: int) -> None:
        if geometry is None:
            return
        taken.append(geometry)
        planid = EXISTING_PLANS[kommunenummer][0]
        properties = {
            "kommunenummer": kommunenummer,
            "planidentifikasjon": planid,
            "arealformal": formal,
            "arealbruksstatus": status,
        }
        features.append((geometry, properties))

    hemsedal = geo.municipalities["3326"]
    for outline in HEMSEDAL_ADOPTED_CABINS.values():
        add(geo.clip(Polygon(outline), hemsedal), "3326", 1120, 1)

    towns = shapely.union_all(geo.tettsteder)
    for kommunenummer, (_, cabins) in EXISTING_PLANS.items():
        kommune = geo.municipalities[kommunenummer]
        inner = kommune.buffer(-500)
        minx, miny, maxx, maxy = inner.bounds
        placed = 0
        for _attempt in range(MAX_ATTEMPTS):
            if placed >= cabins:
                break
            px, py = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
            if not inner.contains(Point(px, py)) or not geo.in_county(px, py):
                continue
            height = geo.elevation(px, py) - geo.tree_line_at(px, py)
            if not -350 < height < 40:
                continue
            shape = blob(
                rng,
                px,
                py,
                rng.uniform(250, 700),
                aspect=rng.uniform(1, 2.5),
                angle=rng.uniform(0, np.pi),
            )
            if not geo.free(shape) or shape.intersects(towns):
                continue
            if any(shape.distance(other) < 200 for other in taken):
                continue
            add(geo.clip(shape, kommune), kommunenummer, 1120, 1 if rng.uniform() < 0.8 else 2)
            placed += 1
        # Housing and business at the edge of the municipality's main settlement.
        town = max(
            (g for g in geo.tettsteder if g.intersects(kommune)),
            key=lambda g: g.intersection(kommune).area,
            default=None,
        )
        if town is None:
            continue
        centre = town.centroid
        for formal, status in ((1110, 1), (1110, 2), (1300, 1)):
            for _ in range(200):
                bearing = rng.uniform(0, 2 * np.pi)
                reach = np.sqrt(town.area / np.pi) + rng.uniform(100, 600)
                px, py = centre.x + reach * np.cos(bearing), centre.y + reach * np.sin(bearing)
                shape = blob(rng, px, py, rng.uniform(150, 350), roughness=0.1)
                if geo.free(shape) and not any(shape.distance(o) < 50 for o in taken):
                    add(geo.clip(shape, kommune), kommunenummer, formal, status)
                    break
    return features
