"""The tile matrix sets (app/tiles/matrix_sets.py) without a database: Kartverket's utm33n grid
and OGC's WebMercatorQuad, valid against the official 2D Tile Matrix Set 2.0 JSON schema."""

import json
from pathlib import Path

import jsonschema_rs
import pytest

from app.tiles import matrix_sets

SCHEMAS = Path(__file__).resolve().parents[1] / "data" / "ogc-tiles"


def _load(uri: str):
    return json.loads(Path(uri.removeprefix("file://")).read_text("utf-8"))


def test_definitions_are_valid_2d_tile_matrix_sets():
    path = SCHEMAS / "tms-2.0" / "tileMatrixSet.json"
    validator = jsonschema_rs.validator_for(
        _load(path.as_uri()), retriever=_load, base_uri=path.as_uri()
    )
    for tms in matrix_sets.tile_matrix_sets().values():
        definition = matrix_sets.definition(tms)
        assert [e.message for e in validator.iter_errors(definition)] == []
    assert not validator.is_valid({"crs": "EPSG:25833"})  # no tileMatrices: the check bites


def test_utm33n_is_kartverkets_cache_grid():
    tms = matrix_sets.tile_matrix_sets()["utm33n"]
    # Level 0 is one tile over Kartverket's extent: -2,500,000…3,045,984 both ways.
    assert matrix_sets.tile_bounds(tms, 0, 0, 0) == matrix_sets.TileBounds(
        -2_500_000.0, 3_500_000.0, 3_045_984.0, 9_045_984.0, 25833
    )
    # Level 9 tiles are 512 × 42.3125 m = 21,664 m wide, counted from the top-left corner.
    assert matrix_sets.tile_bounds(tms, 9, 100, 150) == matrix_sets.TileBounds(
        -2_500_000.0 + 150 * 10_832,
        9_045_984.0 - 101 * 10_832,
        -2_500_000.0 + 151 * 10_832,
        9_045_984.0 - 100 * 10_832,
        25833,
    )
    assert matrix_sets.in_range(tms, 1, 1, 1) and not matrix_sets.in_range(tms, 1, 0, 2)
    assert not matrix_sets.in_range(tms, 19, 0, 0) and matrix_sets.in_range(tms, 18, 0, 0)


def test_web_mercator_quad_is_ogcs_registered_set():
    tms = matrix_sets.tile_matrix_sets()["WebMercatorQuad"]
    registered = _load((SCHEMAS / "tms-registry" / "WebMercatorQuad.json").as_uri())
    definition = matrix_sets.definition(tms)
    assert definition["uri"] == registered["uri"]
    ours = definition["tileMatrices"]
    assert len(ours) == len(registered["tileMatrices"])
    for mine, theirs in zip(ours, registered["tileMatrices"], strict=True):
        assert mine["cellSize"] == pytest.approx(theirs["cellSize"], rel=1e-9)
    assert matrix_sets.srid(tms) == 3857
