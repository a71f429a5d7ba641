import pytest
import shapely
from shapely.geometry import shape


def test_lists_the_18_municipalities_with_region_and_centrality(client):
    """All 18 Buskerud municipalities come back as CRS84 GeoJSON with their attributes."""
    response = client.get("/api/v1/municipalities")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/geo+json"
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert "crs" not in body  # RFC 7946: CRS84 is implied
    assert "Kartverket" in body["attribution"]
    numbers = [f["properties"]["kommunenummer"] for f in body["features"]]
    assert len(numbers) == 18
    assert numbers[0] == "3301" and numbers[-1] == "3338"
    drammen = body["features"][0]["properties"]
    assert drammen == {
        "kommunenummer": "3301",
        "name": "Drammen",
        "region": "Drammensregionen",
        "centrality_class": 1,
        "source": drammen["source"],
    }


def test_one_municipality_in_crs84(client):
    """Hemsedal lies around 8.0-8.9°E, 60.7-61.1°N and is in Hallingdal, centrality class 4."""
    response = client.get("/api/v1/municipalities/3326")
    assert response.status_code == 200
    feature = response.json()
    assert feature["properties"]["name"] == "Hemsedal"
    assert feature["properties"]["region"] == "Hallingdal"
    assert feature["properties"]["centrality_class"] == 4
    minx, miny, maxx, maxy = shape(feature["geometry"]).bounds
    assert 8.0 < minx < maxx < 9.0 and 60.7 < miny < maxy < 61.1


def test_one_municipality_in_utm33(client):
    """crs=EPSG:25833 returns metres, and the area matches the stored UTM 32 geometry."""
    utm33 = client.get("/api/v1/municipalities/3326", params={"crs": "EPSG:25833"})
    utm32 = client.get("/api/v1/municipalities/3326", params={"crs": "25832"})
    assert utm33.status_code == utm32.status_code == 200
    assert utm33.headers["content-crs"] == "<http://www.opengis.net/def/crs/EPSG/0/25833>"
    g33, g32 = shape(utm33.json()["geometry"]), shape(utm32.json()["geometry"])
    assert 100_000 < g33.bounds[0] < 200_000  # far west of UTM 33's central meridian (15°E)
    assert 400_000 < g32.bounds[0] < 500_000
    # Hemsedal is about 754 km²; the zones agree within 0.5 % (scale grows off the meridian).
    assert shapely.area(g32) == pytest.approx(754e6, rel=0.05)
    assert shapely.area(g33) == pytest.approx(shapely.area(g32), rel=5e-3)


def test_unknown_municipality_is_404_problem(client):
    """A kommunenummer outside Buskerud is a 404 problem naming it."""
    response = client.get("/api/v1/municipalities/3026")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert "3026" in response.json()["detail"]


def test_malformed_kommunenummer_is_422_problem(client):
    """A kommunenummer that is not 4 digits is rejected as a parameter error."""
    response = client.get("/api/v1/municipalities/abc")
    assert response.status_code == 422
    assert response.json()["problems"][0]["field"] == "path.kommunenummer"


def test_unsupported_output_crs_is_422(client):
    """An output CRS we do not offer is named in the problem."""
    response = client.get("/api/v1/municipalities", params={"crs": "EPSG:3035"})
    assert response.status_code == 422
    assert "EPSG:3035" in response.json()["detail"]
