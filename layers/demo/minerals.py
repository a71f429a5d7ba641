"""Mineral deposits (NGU grus og pukk)."""

import shapely

from layers.demo.base import MAX_ATTEMPTS, Feature, layer_rng
from layers.demo.geography import Geography
from layers.demo.sample_sites import KONGSBERG_DEPOSIT
from layers.demo.shapes import blob, ellipse


def mineral_deposits(geo: Geography) -> list[Feature]:
    """Gravel deposits on valley floors and hard-rock quarries on valley sides."""
    rng = layer_rng("mineral_deposits")
    x, y, a, b, angle = KONGSBERG_DEPOSIT
    anchor = geo.clip(ellipse(x, y, a, b, angle, vertices=20))
    features: list[Feature] = [
        (
            anchor,
            {
                "name": "Skollenborg",
                "deposit_id": "DEMO-0001",
                "importance": "regional",
                "resource_type": "grus",
            },
        )
    ]
    taken = [anchor]
    towns = shapely.union_all(geo.tettsteder)
    gravel = ["nasjonal", "regional", "regional", "lokal", "lokal", "lokal", "ikke vurdert"]
    gravel += ["ikke vurdert", "liten eller ingen"]
    for _attempt in range(MAX_ATTEMPTS):
        if len(features) >= 40:
            break
        hard_rock = len(features) % 5 == 0
        lateral = (0.45, 0.9) if hard_rock else (0.0, 0.12)
        px, py, valley, _, direction = geo.along_valley(rng, lateral)
        if hard_rock:
            shape = blob(rng, px, py, rng.uniform(150, 350), roughness=0.2, vertices=16)
        else:
            length = rng.uniform(200, 550)
            shape = blob(rng, px, py, length, aspect=rng.uniform(3, 6), angle=direction)
        if not geo.in_county(px, py) or not geo.free(shape) or shape.intersects(towns):
            continue
        if any(shape.distance(other) < 300 for other in taken):
            continue
        geometry = geo.clip(shape)
        if geometry is None:
            continue
        taken.append(geometry)
        number = len(features) + 1
        properties = {
            "name": f"{valley} {number:02d}",
            "deposit_id": f"DEMO-{number:04d}",
            "importance": str(
                rng.choice(["regional", "lokal", "ikke vurdert"] if hard_rock else gravel)
            ),
            "resource_type": "pukk" if hard_rock else "grus",
        }
        features.append((geometry, properties))
    return features
