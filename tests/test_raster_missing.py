"""A raster layer whose file is gone from the raster directory (e.g. a lost volume): not ready,
checks answer 503 naming the layer, WMS refuses the layer; never a 500 or an empty map."""

from pathlib import Path

import numpy as np
import pytest
from defusedxml import ElementTree
from shapely.geometry import box
from sqlalchemy import select

from app.db import get_sessionmaker
from db.models import LayerVersionOrm
from tests.plans import collection, encode, feature
from tests.rule_fixtures import load_raster_layer
from tests.workers import run_jobs

X0, Y0 = 470_000.0, 6_750_000.0  # Hemsedal, EPSG:25832
UTM32 = {"type": "name", "properties": {"name": "EPSG:25832"}}
OGC = "{http://www.opengis.net/ogc}"


@pytest.fixture
def rasters(tmp_path, override_settings) -> Path:
    """Elevation and tree line loaded into a raster directory of this test's own."""
    raster_dir = tmp_path / "rasters"
    raster_dir.mkdir()
    override_settings(raster_dir=raster_dir)
    origin = (X0 - 500.0, Y0 + 600.0)
    load_raster_layer(
        "tree_line", np.full((20, 20), 1000.0), tmp_path, origin, 50.0, raster_dir=raster_dir
    )
    load_raster_layer(
        "elevation", np.full((100, 100), 1100.0), tmp_path, origin, raster_dir=raster_dir
    )
    return raster_dir


def elevation_file(raster_dir: Path) -> Path:
    """The stored COG of the current elevation version."""
    with get_sessionmaker()() as session:
        name = session.execute(
            select(LayerVersionOrm.raster_file).where(LayerVersionOrm.layer_id == "elevation")
        ).scalar_one()
    return raster_dir / name


def cabin_plan() -> bytes:
    """A new cabin area (G1 reads both rasters for it)."""
    area = feature(
        box(X0, Y0, X0 + 200, Y0 + 100).__geo_interface__,
        "BFR1",
        arealformal=1120,
        arealbruksstatus=2,
        feltnavn="BFR1",
    )
    return encode(collection(area, crs=UTM32))


def test_readyz_is_ready_while_every_raster_file_is_there(client, rasters):
    """With the files in place the rasters are reported present."""
    response = client.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json()["checks"]["rasters"] == "present"


def test_readyz_names_the_layer_whose_raster_file_is_missing(client, rasters):
    """A lost COG makes the service not ready, naming layer and file but not the directory."""
    lost = elevation_file(rasters)
    lost.unlink()
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready"
    assert body["checks"]["rasters"] == {"missing": {"elevation": lost.name}}
    assert str(rasters) not in response.text
    assert client.head("/readyz").status_code == 503


def test_a_check_answers_503_naming_the_layer_in_english_and_bokmal(client, rasters):
    """The quick check is a 503 problem naming the layer and file, in the asked language."""
    assert client.post("/api/v1/check", content=cabin_plan()).status_code == 200
    lost = elevation_file(rasters)
    lost.unlink()
    response = client.post("/api/v1/check", content=cabin_plan())
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"].endswith("/layer-unavailable")
    assert problem["detail"] == (
        f"the raster file of layer elevation (version 1) is missing from the raster directory: "
        f"{lost.name}; restore the file or load the layer again"
    )
    assert str(rasters) not in response.text
    norsk = client.post(
        "/api/v1/check", content=cabin_plan(), headers={"Accept-Language": "nb"}
    ).json()
    assert norsk["title"] == "Tjenesten er ikke tilgjengelig nå"
    assert norsk["detail"].startswith("rasterfila til kartlaget elevation (versjon 1) mangler")
    assert lost.name in norsk["detail"]


def test_a_stored_check_answers_503_naming_the_layer(client, rasters):
    """A check of a stored version without the file is refused with 503 naming the layer
    and file (not the directory), and nothing is recorded."""
    upload = client.post("/api/v1/proposals", content=cabin_plan())
    assert upload.status_code == 201, upload.text
    lost = elevation_file(rasters)
    lost.unlink()
    version_url = upload.json()["links"][0]["href"]
    response = client.post(version_url + "/checks")
    assert response.status_code == 503, response.text
    problem = response.json()
    assert problem["type"].endswith("layer-unavailable")
    assert "elevation" in problem["detail"] and lost.name in problem["detail"]
    assert str(rasters) not in response.text
    assert client.get(version_url + "/checks").json() == []


def test_a_queued_check_whose_raster_went_missing_fails_naming_it(
    client, rasters, override_settings, monkeypatch
):
    """When the file is lost after the check was queued, the worker records the check as
    failed with the layer and file named, not as a check with unknown findings."""
    override_settings(sync_check_max_features=0, raster_dir=rasters)  # every check queued
    upload = client.post("/api/v1/proposals", content=cabin_plan())
    response = client.post(upload.json()["links"][0]["href"] + "/checks")
    assert response.status_code == 202, response.text
    lost = elevation_file(rasters)
    lost.unlink()
    run_jobs(monkeypatch, rasters)
    check = client.get(response.headers["location"]).json()
    assert check["status"] == "failed"
    assert check["error"].startswith("rasterfila til kartlaget elevation (versjon 1) mangler")
    assert lost.name in check["error"] and str(rasters) not in check["error"]


def test_wms_refuses_a_raster_layer_whose_file_is_missing(client, rasters):
    """GetMap of the layer is a 503 ServiceException naming it; other layers still draw."""
    lost = elevation_file(rasters)
    lost.unlink()
    params = {
        "SERVICE": "WMS",
        "VERSION": "1.3.0",
        "REQUEST": "GetMap",
        "STYLES": "",
        "CRS": "EPSG:25832",
        "BBOX": f"{X0 - 500},{Y0 - 400},{X0 + 500},{Y0 + 600}",
        "WIDTH": "64",
        "HEIGHT": "64",
        "FORMAT": "image/png",
    }
    response = client.get("/wms", params={**params, "LAYERS": "municipalities,elevation"})
    assert response.status_code == 503
    exception = ElementTree.fromstring(response.content).find(f"{OGC}ServiceException")
    assert exception.get("code") == "ServiceUnavailable"
    assert exception.get("locator") == "LAYERS"
    assert "'elevation'" in exception.text and lost.name in exception.text
    assert str(rasters) not in exception.text
    drawn = client.get("/wms", params={**params, "LAYERS": "municipalities,tree_line"})
    assert drawn.status_code == 200
    assert drawn.headers["content-type"] == "image/png"


def test_a_map_tile_of_a_raster_layer_whose_file_is_missing_is_503(client, rasters):
    """The map page draws from tiles: a lost file is a 503 naming the layer, not a blank
    200 tile that would read as "no data here"."""
    lost = elevation_file(rasters)
    lost.unlink()
    response = client.get("/tiles/elevation/WebMercatorQuad/12/1168/2143.png")
    assert response.status_code == 503, response.text
    assert "elevation" in response.json()["detail"] and lost.name in response.json()["detail"]
    assert str(rasters) not in response.text
