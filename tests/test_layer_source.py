"""The rule engine's view of the layers in PostGIS (layers.source.PostgisLayerSource)."""

import random

import pytest
import shapely
from shapely.geometry import Point, box
from sqlalchemy import text

from app.db import get_sessionmaker
from layers import source as source_module
from layers.source import PostgisLayerSource
from tests.rule_fixtures import load_vector_layer

X0, Y0 = 537_000.0, 6_614_000.0  # north of Kongsberg, EPSG:25832
CATEGORIES = ("lokalitet", "sikringssone", "fredet kulturmiljø", "enkeltminne")


@pytest.fixture
def sites(tmp_path):
    """A loaded heritage layer of 400 small sites scattered over 20 km x 20 km."""
    rng = random.Random(8)
    records = [
        {
            "geometry": Point(X0 + rng.uniform(0, 20_000), Y0 + rng.uniform(0, 20_000)).buffer(
                rng.uniform(2, 60)
            ),
            "name": f"Site {n}",
            "category": CATEGORIES[n % len(CATEGORIES)],
        }
        for n in range(400)
    ]
    load_vector_layer("heritage_protected", records, tmp_path)
    return records


def near_by_hand(records, geometries, reach_m):
    """The names of the records whose bounding box comes within reach of a geometry's box."""
    boxes = [box(*g.bounds).buffer(reach_m, join_style="mitre") for g in geometries]
    return sorted(
        r["name"] for r in records if any(box(*r["geometry"].bounds).intersects(b) for b in boxes)
    )


@pytest.fixture(params=["one read", "boxes first"])
def read_plan(request, monkeypatch):
    """Both ways features_near reads: the box around all areas, or feature boxes first."""
    monkeypatch.setattr(
        source_module, "ONE_READ_MAX_AREAS", 100 if request.param == "one read" else 0
    )
    return request.param


def test_features_near_returns_what_comes_within_reach_of_any_area_once_in_id_order(
    sites, tmp_path, read_plan
):
    # Two areas 15 km apart: a box around both would hold most of the layer.
    areas = [box(X0 + 1_000, Y0 + 1_000, X0 + 2_500, Y0 + 1_800), Point(X0 + 16_000, Y0 + 16_000)]
    areas.append(box(X0 + 1_200, Y0 + 1_100, X0 + 2_000, Y0 + 1_500))  # overlaps the first
    with get_sessionmaker()() as session:
        source = PostgisLayerSource(session, tmp_path)
        found = source.features_near("heritage_protected", areas, 300.0)
        everything = source.features("heritage_protected", shapely.box(X0, Y0, X0 + 2e4, Y0 + 2e4))
    assert sorted(f.attributes["name"] for f in found) == near_by_hand(sites, areas, 300.0)
    assert [f.id for f in found] == sorted({f.id for f in found})  # each once, in id order
    assert 0 < len(found) < len(everything) / 4
    for feature in found:
        record = next(r for r in sites if r["name"] == feature.attributes["name"])
        assert shapely.equals_exact(feature.geometry, record["geometry"], tolerance=1e-6)


def test_features_near_nothing_or_only_empty_geometries_finds_nothing(sites, tmp_path, read_plan):
    with get_sessionmaker()() as session:
        source = PostgisLayerSource(session, tmp_path)
        assert source.features_near("heritage_protected", [], 100.0) == []
        assert source.features_near("heritage_protected", [shapely.Polygon()], 100.0) == []
        assert source.features_near("villrein_corridors_never_loaded", [Point(X0, Y0)], 10) == []


def test_where_keeps_the_named_text_values_in_both_reads(sites, tmp_path, read_plan):
    everywhere = shapely.box(X0 - 100, Y0 - 100, X0 + 20_100, Y0 + 20_100)
    wanted = {"fredet kulturmiljø", "enkeltminne"}
    expected = sorted(r["name"] for r in sites if r["category"] in wanted)
    with get_sessionmaker()() as session:
        source = PostgisLayerSource(session, tmp_path)
        in_box = source.features("heritage_protected", everywhere, {"category": wanted})
        near = source.features_near(
            "heritage_protected", [everywhere], 0.0, {"category": sorted(wanted)}
        )
    assert sorted(f.attributes["name"] for f in in_box) == expected
    assert sorted(f.attributes["name"] for f in near) == expected
    assert [f.id for f in in_box] == sorted(f.id for f in in_box)


LATEST_HERITAGE = (
    "layer_version_id = (SELECT max(id) FROM layer_version WHERE layer_id = 'heritage_protected')"
)


@pytest.mark.parametrize(
    ("condition", "index"),
    [
        (
            f"{LATEST_HERITAGE} AND "
            "geom && ST_MakeEnvelope(537000, 6614000, 538000, 6615000, 25832)",
            "ix_layer_feature_version_geom",
        ),
        # Alone: beside the version clause, the planner may as well pick the version-and-
        # geometry index on a table this small, whichever index the attributes have.
        ('attributes @> \'{"category": "fredet kulturmiljø"}\'', "ix_layer_feature_attributes"),
    ],
)
def test_the_reads_can_use_an_index(sites, condition, index):
    """Without a sequential scan to fall back on, the planner reaches for the index."""
    with get_sessionmaker()() as session:
        session.execute(text("SET LOCAL enable_seqscan = off"))
        session.execute(text("SET LOCAL enable_indexscan = off"))  # not the version b-tree
        plan = session.execute(
            text(f"EXPLAIN SELECT id FROM layer_feature WHERE {condition}")
        ).scalars()
        assert index in "\n".join(plan)
