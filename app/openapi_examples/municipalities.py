"""Examples of Buskerud's municipalities."""

from typing import Any

from app.openapi_examples.common import problem

MUNICIPALITY: dict[str, Any] = {
    "type": "Feature",
    "id": "3326",
    "properties": {
        "kommunenummer": "3326",
        "name": "Hemsedal",
        "region": "Hallingdal",
        "centrality_class": 4,
        "source": "Kartverket, administrative enheter 2024, CC BY 4.0",
    },
    "geometry": {
        "type": "MultiPolygon",
        "coordinates": [
            [
                [
                    [8.0409, 60.8932],
                    [8.7243, 60.764],
                    [8.8275, 60.8712],
                    [8.919, 60.8634],
                    [8.3092, 61.0917],
                    [8.2144, 61.0539],
                    [8.2827, 61.0333],
                    [8.2231, 60.9681],
                    [8.1539, 60.9822],
                    [8.0409, 60.8932],
                ]
            ]
        ],
    },
}

MUNICIPALITIES: dict[str, Any] = {
    "type": "FeatureCollection",
    "attribution": "© Kartverket, CC BY 4.0 (administrative boundaries 2024)",
    "features": [MUNICIPALITY],
}

NO_MUNICIPALITY = problem(
    404,
    "not-found",
    "no Buskerud municipality has kommunenummer '3399'",
    "/api/v1/municipalities/3399",
    summary="No Buskerud municipality has this kommunenummer",
)
