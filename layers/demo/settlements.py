"""Urban settlements (SSB tettsteder) and public transport hubs."""

import shapely
from shapely.geometry import Point, Polygon
from shapely.geometry.base import BaseGeometry

from layers.demo.base import Feature, layer_rng, utm
from layers.demo.geography import Geography
from layers.demo.shapes import blob, tidy

# Urban settlements: name, population, (lon, lat, radius m) of the built-up parts.
TETTSTEDER: list[tuple[str, int, list[tuple[float, float, float]]]] = [
    (
        "Drammen",
        121_000,
        [
            (10.204, 59.742, 3000),
            (10.140, 59.742, 2000),
            (10.100, 59.748, 1300),
            (10.070, 59.752, 1500),
            (10.040, 59.749, 1300),
            (10.010, 59.748, 1500),
            (10.140, 59.715, 1500),
            (10.150, 59.762, 1300),
            (10.240, 59.765, 1200),
        ],
    ),
    ("Kongsberg", 23_200, [(9.652, 59.665, 2200), (9.615, 59.676, 1200)]),
    ("Hønefoss", 16_500, [(10.256, 60.168, 2000), (10.222, 60.182, 1100)]),
    ("Lierbyen", 9_800, [(10.243, 59.795, 1300)]),
    ("Hokksund", 9_400, [(9.910, 59.770, 1600)]),
    ("Svelvik", 6_900, [(10.407, 59.612, 1200)]),
    ("Tranby", 6_300, [(10.260, 59.822, 1200)]),
    ("Åmot", 4_600, [(9.905, 59.890, 1200)]),
    ("Vikersund", 3_600, [(10.002, 59.970, 1100)]),
    ("Vestfossen", 3_300, [(9.873, 59.734, 1000)]),
    ("Gol", 2_800, [(8.945, 60.700, 1200)]),
    ("Geilo", 2_600, [(8.206, 60.534, 1200)]),
    ("Ål", 2_400, [(8.562, 60.629, 1100)]),
    ("Vik", 2_300, [(10.290, 60.080, 900)]),
    ("Geithus", 2_100, [(9.950, 59.922, 800)]),
    ("Nesbyen", 2_000, [(9.105, 60.568, 1000)]),
    ("Hvittingfoss", 1_200, [(9.930, 59.490, 700)]),
    ("Sylling", 1_200, [(10.220, 59.900, 700)]),
    ("Darbu", 900, [(9.754, 59.701, 500)]),
    ("Trøym", 900, [(8.562, 60.863, 700)]),
    ("Lampeland", 900, [(9.573, 59.835, 600)]),
    ("Sokna", 800, [(9.917, 60.236, 500)]),
    ("Sundvollen", 700, [(10.308, 60.059, 500)]),
    ("Krøderen", 600, [(9.800, 60.130, 500)]),
    ("Prestfoss", 600, [(9.624, 60.050, 550)]),
    ("Flå", 500, [(9.459, 60.427, 500)]),
    ("Rødberg", 500, [(8.945, 60.268, 500)]),
    ("Noresund", 350, [(9.622, 60.180, 400)]),
    ("Veggli", 300, [(9.170, 60.040, 350)]),
]

# Railway stations with passenger trains (Hol closed in 1983; Vikersund has a few Bergen
# Line trains a day) and bus hubs: name, type, lon, lat. They are written as NSR stop places
# (demo/stops.py): stations as railStation, every bus hub as busStation. NSR has no stop
# place type a small bus hub could be told by (in layers/config/transport_hubs.yaml only
# metro, tram and ferry ports are lokalt knutepunkt, and Buskerud has none), so Åmot
# bussterminal, Sundvollen and the others are bus terminals like Drammen's and load as
# regionalt knutepunkt. G5 measures to the nearest hub of any type.
TRANSPORT_HUBS = [
    ("Drammen stasjon", "jernbanestasjon", 10.2040, 59.7404),
    ("Gulskogen stasjon", "jernbanestasjon", 10.1413, 59.7402),
    ("Mjøndalen stasjon", "jernbanestasjon", 10.0115, 59.7463),
    ("Hokksund stasjon", "jernbanestasjon", 9.9102, 59.7703),
    ("Vestfossen stasjon", "jernbanestasjon", 9.8727, 59.7340),
    ("Darbu stasjon", "jernbanestasjon", 9.7540, 59.7010),
    ("Kongsberg stasjon", "jernbanestasjon", 9.6522, 59.6695),
    ("Lier stasjon", "jernbanestasjon", 10.2419, 59.7867),
    ("Hønefoss stasjon", "jernbanestasjon", 10.2445, 60.1614),
    ("Vikersund stasjon", "jernbanestasjon", 9.9986, 59.9695),
    ("Flå stasjon", "jernbanestasjon", 9.4597, 60.4238),
    ("Nesbyen stasjon", "jernbanestasjon", 9.1048, 60.5673),
    ("Gol stasjon", "jernbanestasjon", 8.9615, 60.7047),
    ("Ål stasjon", "jernbanestasjon", 8.5618, 60.6289),
    ("Geilo stasjon", "jernbanestasjon", 8.2066, 60.5343),
    ("Ustaoset stasjon", "jernbanestasjon", 8.0448, 60.4996),
    ("Haugastøl stasjon", "jernbanestasjon", 7.8693, 60.5108),
    ("Drammen bussterminal", "regionalt knutepunkt", 10.2072, 59.7437),
    ("Hemsedal skysstasjon", "regionalt knutepunkt", 8.5617, 60.8627),
    ("Rødberg skysstasjon", "regionalt knutepunkt", 8.9448, 60.2679),
    ("Åmot bussterminal", "regionalt knutepunkt", 9.9050, 59.8900),
    ("Sundvollen", "regionalt knutepunkt", 10.3085, 60.0594),
    ("Prestfoss", "regionalt knutepunkt", 9.6240, 60.0500),
    ("Noresund", "regionalt knutepunkt", 9.6220, 60.1800),
    ("Lampeland", "regionalt knutepunkt", 9.5730, 59.8350),
    ("Veggli", "regionalt knutepunkt", 9.1700, 60.0400),
    ("Sylling", "regionalt knutepunkt", 10.2200, 59.9000),
    ("Svelvik", "regionalt knutepunkt", 10.4070, 59.6120),
]


def tettsteder(geo: Geography) -> list[Feature]:
    """Urban settlements at real places, kept apart from each other."""
    rng = layer_rng("tettsteder")
    features: list[Feature] = []
    taken: BaseGeometry = Polygon()
    for number, (name, population, parts) in enumerate(TETTSTEDER, start=1):
        shape = shapely.union_all(
            [blob(rng, *utm(lon, lat), radius, roughness=0.12) for lon, lat, radius in parts]
        )
        # Neighbouring settlements stay apart, as SSB's polygons do.
        geometry = geo.clip(shape.difference(taken.buffer(100)))
        if geometry is None:
            continue
        taken = taken.union(geometry)
        geo.tettsteder.append(geometry)
        properties = {"name": name, "tettsted_id": f"DEMO-{number:02d}", "population": population}
        features.append((geometry, properties))
    return features


def transport_hubs(geo: Geography) -> list[Feature]:
    """Railway stations and bus hubs inside the county."""
    features: list[Feature] = []
    for name, hub_type, lon, lat in TRANSPORT_HUBS:
        point = tidy(Point(utm(lon, lat)))
        if point is not None and geo.in_county(point.x, point.y):
            features.append((point, {"name": name, "hub_type": hub_type}))
    return features
