"""NSR NeTEx and GTFS stop readers and the hub-type configuration, without a database."""

import pytest

from layers.loader import LoadOptions
from layers.registry import get_layer_config
from layers.sources.gtfs import read_gtfs_stops
from layers.sources.netex import read_netex_stops
from layers.sources.stops import (
    StopSourceError,
    TypeMap,
    read_stop_source,
    reader_settings,
    stop_source_kind,
)
from tests.fixtures.layers.make_real_fixtures_transit import write_gtfs, write_netex

# Entur tiamat's StopTypeEnumeration (layers/README.md, real-sources.md §8).
TIAMAT_STOP_TYPES = [
    "onstreetBus",
    "onstreetTram",
    "airport",
    "railStation",
    "metroStation",
    "busStation",
    "coachStation",
    "tramStation",
    "harbourPort",
    "ferryPort",
    "ferryStop",
    "liftStation",
    "vehicleRailInterchange",
    "other",
]


@pytest.fixture
def config():
    return get_layer_config("transport_hubs")


def test_the_shipped_config_says_of_every_nsr_stop_type_whether_it_is_a_hub(config):
    types = TypeMap(reader_settings(config, "netex"), ranges=False)
    assert [t for t in TIAMAT_STOP_TYPES if not types.known(t)] == []
    assert types.hub_type("railStation") == "jernbanestasjon"
    assert types.hub_type("busStation") == "regionalt knutepunkt"
    assert types.hub_type("onstreetBus") is None and types.known("onstreetBus")
    assert not types.known("railwayStation")


def test_gtfs_codes_match_single_codes_and_ranges(config):
    types = TypeMap(reader_settings(config, "gtfs"), ranges=True)
    assert types.hub_type("100") == "jernbanestasjon"
    assert types.hub_type("2") == "jernbanestasjon"
    assert types.hub_type("109") == "jernbanestasjon"
    assert types.hub_type("107") is None and types.known("107")  # museum railway
    assert types.hub_type("700") is None and types.known("715")
    assert not types.known("1600") and not types.known("rail")


def test_a_config_mapping_to_an_unknown_hub_type_is_refused(config):
    broken = config.model_copy(
        update={"readers": {"netex": {"hub_types": {"railStation": "stasjon"}, "not_hubs": {}}}}
    )
    with pytest.raises(StopSourceError, match="'railStation' maps to 'stasjon'"):
        reader_settings(broken, "netex")


def test_files_are_recognised_by_content_and_only_for_a_layer_with_readers(tmp_path, config):
    netex = write_netex(tmp_path / "nsr")
    gtfs = write_gtfs(tmp_path / "gtfs")
    assert stop_source_kind(netex["xml"], config) == "netex"
    assert stop_source_kind(netex["zip"], config) == "netex"
    assert stop_source_kind(gtfs["zip"], config) == "gtfs"
    assert stop_source_kind(gtfs["stops"], config) == "gtfs"
    other = tmp_path / "plan.xml"
    other.write_text('<?xml version="1.0"?><FeatureCollection/>')
    assert stop_source_kind(other, config) is None
    assert stop_source_kind(netex["xml"], get_layer_config("tettsteder")) is None


def test_netex_reads_the_stop_place_not_its_quays_or_other_frame_items(tmp_path):
    stops = {s.id: s for s in read_netex_stops(write_netex(tmp_path)["xml"])}
    assert len(stops) == 13  # 14 StopPlace elements, one id in two versions
    hokksund = stops["NSR:StopPlace:900060"]
    assert hokksund.name == "Hokksund stasjon" and hokksund.lon == 9.9102
    child = stops["NSR:StopPlace:900003"]
    assert child.parent == "NSR:StopPlace:900001" and child.types == ["busStation"]
    assert (child.lon, child.lat) == (10.2072, 59.7437)  # the stop's centroid, not the quay's
    assert stops["NSR:StopPlace:900001"].types == []
    assert "KVE:TopographicPlace:33" not in stops and "NSR:GroupOfStopPlaces:9001" not in stops


def test_netex_coordinates_outside_wgs84_are_refused(tmp_path):
    extra = [
        ("NSR:StopPlace:990003", 1, "Feil", 6_627_000.0, 198_000.0, "bus", "busStation", None, 0)
    ]
    with pytest.raises(StopSourceError, match="NSR:StopPlace:990003: Longitude 6627000.0"):
        read_netex_stops(write_netex(tmp_path, extra)["xml"])


def test_gtfs_with_a_byte_order_mark_and_crlf_lines_reads(tmp_path):
    path = tmp_path / "stops.txt"
    path.write_bytes(
        "\ufeffstop_id,stop_name,stop_lat,stop_lon,location_type,vehicle_type\r\n"
        "S1,Hønefoss stasjon,60.1614,10.2445,1,100\r\n".encode()
    )
    (stop,) = read_gtfs_stops(path)
    assert (stop.id, stop.name, stop.types) == ("S1", "Hønefoss stasjon", ["100"])


def test_gtfs_without_its_required_columns_is_refused(tmp_path):
    path = tmp_path / "stops.txt"
    path.write_text("stop_id,stop_name\nS1,Hønefoss\n")
    with pytest.raises(StopSourceError, match=r"lacks the column\(s\) \['stop_lat', 'stop_lon'\]"):
        read_gtfs_stops(path)


def test_set_and_source_layer_are_refused_for_stop_files(tmp_path, config):
    path = write_netex(tmp_path)["xml"]
    with pytest.raises(StopSourceError, match="--source-layer and --set are not used"):
        read_stop_source(path, config, LoadOptions(source_layers=("StopPlace",)))
