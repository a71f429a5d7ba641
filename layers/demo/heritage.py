"""Cultural heritage: protected sites, cultural environments, municipal heritage plans."""

import numpy as np
from shapely.geometry import Polygon

from layers.demo.base import (
    GRID_EAST,
    GRID_NORTH,
    GRID_SOUTH,
    GRID_WEST,
    MAX_ATTEMPTS,
    Feature,
    layer_rng,
    utm,
)
from layers.demo.geography import Geography
from layers.demo.sample_sites import HOLE_GRAVHAUG, STEINSLETTA, TUV_KULTURMILJO
from layers.demo.settlements import TETTSTEDER
from layers.demo.shapes import blob, ellipse

HERITAGE_KINDS = {
    "valley": [
        ("Gravhaug", 8, 18),
        ("Gravfelt", 30, 80),
        ("Bosetningsspor", 25, 90),
        ("Kokegrop", 5, 12),
        ("Rydningsrøysfelt", 30, 100),
        ("Kullgrop", 5, 10),
        ("Bygdeborg", 40, 90),
        ("Helleristning", 5, 15),
    ],
    "mountain": [
        ("Fangstgrop", 5, 10),
        ("Fangstanlegg", 30, 120),
        ("Steinalderlokalitet", 10, 40),
        ("Jernvinneanlegg", 10, 35),
        ("Buplass", 8, 25),
    ],
}


def heritage_protected(geo: Geography) -> list[Feature]:
    """Automatically protected sites with their 5 m safety zones, and one listed environment."""
    rng = layer_rng("heritage_protected")
    sites: list[tuple[Polygon, str, str]] = []
    gx, gy, radius = HOLE_GRAVHAUG
    sites.append(
        (blob(rng, gx, gy, radius, roughness=0.05, vertices=16), "Gravhaug ved Stein", "lokalitet")
    )
    centres = [utm(lon, lat) for _, _, parts in TETTSTEDER for lon, lat, _ in parts[:1]]
    for _attempt in range(MAX_ATTEMPTS):
        if len(sites) >= 150:
            break
        n = len(sites)
        if n % 5 == 4:  # in the mountains, around the tree line and above
            px = rng.uniform(GRID_WEST, GRID_EAST - 60_000)
            py = rng.uniform(GRID_SOUTH + 60_000, GRID_NORTH)
            if not geo.in_county(px, py) or geo.elevation(px, py) < geo.tree_line_at(px, py) - 150:
                continue
            kinds = HERITAGE_KINDS["mountain"]
        elif n % 5 == 3:  # near a town
            cx, cy = centres[int(rng.integers(len(centres)))]
            distance, bearing = rng.uniform(500, 3500), rng.uniform(0, 2 * np.pi)
            px, py = cx + distance * np.cos(bearing), cy + distance * np.sin(bearing)
            kinds = HERITAGE_KINDS["valley"]
        else:
            px, py, *_ = geo.along_valley(rng, (0.1, 1.3))
            kinds = HERITAGE_KINDS["valley"]
        name, smallest, largest = kinds[int(rng.integers(len(kinds)))]
        shape = blob(rng, px, py, rng.uniform(smallest, largest), roughness=0.1, vertices=14)
        if not geo.in_county(px, py) or not geo.free(shape.buffer(60)):
            continue
        if any(shape.distance(other) < 50 for other, _, _ in sites):
            continue
        category = "enkeltminne" if rng.uniform() < 0.3 else "lokalitet"
        sites.append((shape, name, category))

    features: list[Feature] = []
    for number, (shape, name, category) in enumerate(sites, start=1):
        site = geo.clip(shape)
        if site is None:
            continue
        heritage_id = f"DEMO-{number:05d}"
        features.append(
            (
                site,
                {
                    "name": name,
                    "heritage_id": heritage_id,
                    "category": category,
                    "vernetype": "AUT",
                },
            )
        )
        # The statutory 5 m safety zone around an automatically protected site (kml. § 6).
        ring = geo.clip(shape.buffer(5.0, quad_segs=4).difference(shape))
        if ring is not None:
            properties = {
                "name": f"Sikringssone, {name}",
                "heritage_id": heritage_id,
                "category": "sikringssone",
                "vernetype": "AUT",
            }
            features.append((ring, properties))
    miljo = geo.clip(blob(rng, *utm(9.128, 60.575), 380, aspect=1.6, angle=0.6, roughness=0.1))
    if miljo is not None:
        properties = {
            "name": "Nesbyen gamle tun",
            "heritage_id": "DEMO-90001",
            "category": "fredet kulturmiljø",
            "vernetype": "FOR",
        }
        features.append((miljo, properties))
    return features


def cultural_environments(geo: Geography) -> list[Feature]:
    """Cultural environments and landscapes of national and regional interest."""
    rng = layer_rng("cultural_environments")
    x, y, a, b, angle = STEINSLETTA
    entries = [
        ("Steinsletta", "utvalgt kulturlandskap", ellipse(x, y, a, b, angle, vertices=28)),
        (
            "Sølvverket med Saggrenda og gruvefeltet",
            "nasjonal interesse",
            blob(rng, *utm(9.585, 59.652), 1400, aspect=1.8, angle=0.3),
        ),
        (
            "Uvdal kirkested og stavkirke",
            "nasjonal interesse",
            blob(rng, *utm(8.735, 60.275), 650, aspect=1.4, angle=0.1),
        ),
        ("Nore kirkested", "regional interesse", blob(rng, *utm(9.015, 60.165), 450)),
        ("Torpo kirkested", "regional interesse", blob(rng, *utm(8.705, 60.662), 400)),
        (
            "Bragernes bykjerne",
            "regional interesse",
            blob(rng, *utm(10.200, 59.7465), 420, aspect=1.8, angle=0.2),
        ),
        ("Tuv", "regional interesse", TUV_KULTURMILJO),
    ]
    return [
        (geometry, {"name": name, "category": category})
        for name, category, shape in entries
        if (geometry := geo.clip(shape)) is not None
    ]


# Municipal cultural-heritage plans: kommunenummer, plan year, (name, lon, lat, radius m).
HERITAGE_PLANS = {
    "3301": (
        2021,
        [
            ("Tollbugata og Bragernes strand", 10.222, 59.7475, 250),
            ("Åssiden gamle arbeiderboliger", 10.145, 59.758, 350),
        ],
    ),
    "3303": (
        2019,
        [
            ("Nybyen", 9.640, 59.667, 400),
            ("Gamle Kongsberg", 9.660, 59.662, 300),
            ("Skrubbmoen", 9.629, 59.650, 250),
        ],
    ),
    "3305": (2020, [("Hønefoss sentrum", 10.258, 60.167, 350), ("Norderhov", 10.297, 60.139, 450)]),
    "3324": (2018, [("Gol sentrum og Heradsbygda", 8.940, 60.704, 500)]),
    "3330": (
        2022,
        [("Geilo stasjonsområde", 8.205, 60.533, 250), ("Hol kyrkjestad", 8.312, 60.614, 350)],
    ),
    "3338": (
        2017,
        [("Rødberg anleggssamfunn", 8.945, 60.270, 350), ("Kravik", 9.040, 60.165, 300)],
    ),
}


def municipal_heritage_plans(geo: Geography) -> list[Feature]:
    """Areas of the municipalities' cultural-heritage plans."""
    rng = layer_rng("municipal_heritage_plans")
    features: list[Feature] = []
    for kommunenummer, (year, areas) in HERITAGE_PLANS.items():
        kommune = geo.municipality_names[kommunenummer]
        for name, lon, lat, radius in areas:
            shape = blob(
                rng, *utm(lon, lat), radius, aspect=rng.uniform(1, 2), angle=rng.uniform(0, 3)
            )
            geometry = geo.clip(shape, geo.municipalities[kommunenummer])
            if geometry is None or not geo.free(geometry):
                continue
            properties = {
                "name": name,
                "kommunenummer": kommunenummer,
                "plan_name": f"Kulturminneplan for {kommune} {year}",
            }
            features.append((geometry, properties))
    return features
