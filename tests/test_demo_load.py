"""`arealsjekk demo-data` end to end: every layer loads as labelled synthetic data, once."""

from app.db import get_sessionmaker
from app.land_account import compute_land_accounts
from app.settings import get_settings
from layers.demo import DEMO_LICENCE, load_demo_data
from layers.registry import get_registry


def test_demo_data_loads_every_layer_and_reloading_changes_nothing(tmp_path, client):
    """All registry layers get version 1 marked 'synthetic demo data'; a rerun adds none."""
    with get_sessionmaker()() as session:
        first = load_demo_data(session, tmp_path / "build1", raster_dir=tmp_path / "rasters")
        second = load_demo_data(session, tmp_path / "build2", raster_dir=tmp_path / "rasters")
    assert {r.layer_id for r in first} == set(get_registry())
    assert all(r.created and r.version == 1 for r in first)
    assert not any(r.created for r in second)
    # The demo is written in the agencies' codes; every one is in the configs' value maps.
    assert not any(r.unmapped for r in first)
    # The hubs are NSR's NeTEx stop places, read by the NeTEx reader through readers.netex.
    hubs = next(r for r in first if r.layer_id == "transport_hubs").notes["stops"]
    assert hubs["types"] == {"railStation": 17, "busStation": 11}
    assert hubs["hubs"] == {"jernbanestasjon": 17, "regionalt knutepunkt": 11}

    layers = {layer["id"]: layer for layer in client.get("/api/v1/layers").json()}
    for layer_id, layer in layers.items():
        current = layer["current_version"]
        assert current is not None, layer_id
        assert current["licence"] == DEMO_LICENCE
        assert "synthetic" in current["source"].lower()
    assert layers["elevation"]["current_version"]["raster"]["resolution"] == [50.0, 50.0]
    assert layers["villrein_areas"]["current_version"]["feature_count"] >= 3
    steinsletta = client.get(
        "/api/v1/layers/cultural_environments/items", params={"bbox": "10.2,60.1,10.3,60.15"}
    ).json()
    assert "Steinsletta" in {f["properties"]["name"] for f in steinsletta["features"]}
    # elevation and tree_line, and the map's hillshade and height above the tree line, once.
    rasters = sorted(p.name.split("-")[0] for p in (tmp_path / "rasters").glob("*.tif"))
    assert rasters == ["above_tree_line", "elevation", "hillshade", "tree_line"]

    # The land account of every municipality computes on the demo (`make run` does it), and
    # the samples' Hemsedal gets the remaining capacity of its adopted cabin areas.
    settings = get_settings().model_copy(update={"raster_dir": tmp_path / "rasters"})
    ids = compute_land_accounts(settings, trigger="test")
    assert len(ids) == 18
    hemsedal = client.get("/api/v1/land-account/3326").json()
    assert hemsedal["totals"]["cabin_capacity"]["lots"] > 0
    assert hemsedal["layer_versions"]["buildings"] == 1
    county = client.get("/api/v1/land-account").json()["county"]
    assert county["reserves_in_conflict"] > 0
