"""The corpus test (issue 18, item 10): real Plan-GML files from DiBK's validator test data
(tests/data/plans, sources and licence in tests/data/SOURCE.md) and generated variants of them
(tests/data/variants.py), read as the upload reads them and compared with GDAL/OGR's reading.

The reference is GDAL's GML driver through pyogrio, with arcs linearised every 0.1° of sweep
(OGR_ARC_STEPSIZE) and xlinks resolved; areas are matched by gml:id and must agree within
0.1 %. This GDAL has no SOSI driver, so the SOSI variants are SOSI renditions of the same
plans (written by variants.py from the GML, .BUEP for gml:Arc, moved into Hemsedal) and are
compared with GDAL's reading of the Plan-GML rendition moved the same way, matched by
..IDENTIFIKASJON ...LOKALID (= the GML feature's gml:id). Where GDAL cannot read a file (3D
TINs) the expected outcome follows the standard instead and is written next to the file.
Relocated variants also go through the plan validation (spatial.plan_input.prepare_plan).
"""

import math
import re
import tempfile
from functools import cache
from pathlib import Path

import pyogrio
import pytest
from pyogrio.errors import DataSourceError, FeatureError, GeometryError
from shapely.geometry.base import BaseGeometry

from spatial.crs import to_canonical
from spatial.errors import ArealsjekkError, InvalidInputError
from spatial.inputs.formats import ReadLimits, read_plan
from spatial.messages import english
from spatial.plan_model import SourcePlan
from tests.data.variants import (
    HEMSEDAL,
    Variant,
    _relocated,
    gml_variants,
    sosi_lokal_id,
    sosi_variants,
)
from tests.unit.test_plan_formats import prepare

DATA = Path(__file__).parents[1] / "data" / "plans"
REAL_FILES = sorted(DATA.glob("*.gml"))
LIMITS = ReadLimits(max_features=10_000)
TOLERANCE = 1e-3  # 0.1 %
GDAL_OPTIONS = {
    "OGR_ARC_STEPSIZE": "0.1",
    "GML_SKIP_RESOLVE_ELEMS": "NONE",
    "GML_SKIP_CORRUPTED_FEATURES": "YES",
}
# Files GDAL cannot read, and what the standard asks of them instead.
NOT_FOR_GDAL = {
    # A 3D gml:TriangulatedSurface (RpRegulertTerreng) in EPSG:5972: no plan area.
    "dibk-gml.epsg.2-pass.gml": ("no_areas", "TriangulatedSurface"),
    # The same without any srsName: refused, naming the missing CRS.
    "dibk-gml.epsg.2-fail.gml": ("refused", "names no coordinate reference system"),
}
# Real files GDAL reads but that hold no surface at all (a single RpFormålGrense with an arc).
NO_AREAS = {"dibk-gml.bue.1-pass.gml"}

pytestmark = [
    pytest.mark.filterwarnings("ignore:Geometry of feature .* cannot be parsed:RuntimeWarning"),
]


def gdal_areas(body: bytes) -> dict[str, float] | None:
    """GDAL's areas of the polygonal features of a GML document by gml:id; None when GDAL
    cannot read it."""
    shapes = gdal_polygons(body)
    return None if shapes is None else {key: shape.area for key, shape in shapes.items()}


@cache
def gdal_polygons(body: bytes) -> dict[str, BaseGeometry] | None:
    """GDAL's polygonal geometries of a GML document by gml:id; None when GDAL cannot read it.
    Read from a temporary copy: GDAL writes .gfs and resolved files beside the file."""
    old = {key: pyogrio.get_gdal_config_option(key) for key in GDAL_OPTIONS}
    pyogrio.set_gdal_config_options(GDAL_OPTIONS)
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "plan.gml"
            path.write_bytes(body)
            shapes: dict[str, BaseGeometry] = {}
            for layer, _ in pyogrio.list_layers(path):
                frame = pyogrio.read_dataframe(path, layer=layer)
                if "geometry" not in frame.columns or "gml_id" not in frame.columns:
                    continue
                for gml_id, geometry in zip(frame["gml_id"], frame.geometry, strict=True):
                    if geometry is not None and geometry.geom_type.endswith("Polygon"):
                        shapes[gml_id] = geometry
            return shapes
    except (DataSourceError, FeatureError, GeometryError):  # e.g. TINs: "not supported"
        return None
    finally:
        pyogrio.set_gdal_config_options(old)


def our_areas(plan: SourcePlan, key=lambda f: f.source_id) -> dict[str, float]:
    """Our areas of the polygonal features, by gml:id (GML) or lokalId (SOSI), in EPSG:25832
    (a file in latitude and longitude is projected as the validation projects it)."""
    return {
        key(f): to_canonical(f.geometry, plan.crs).area
        for f in plan.features
        if f.geometry is not None and f.geometry.geom_type.endswith("Polygon")
    }


def assert_same_areas(ours: dict[str, float], reference: dict[str, float]) -> float:
    """Every area GDAL reads is ours within 0.1 % and we read no polygon GDAL does not;
    returns the largest relative difference."""
    assert reference, "the reference reading has no areas"
    missing = sorted(set(reference) - set(ours))
    assert not missing, f"areas GDAL reads and we do not: {missing}"
    extra = sorted(set(ours) - set(reference))
    assert not extra, f"areas we read and GDAL does not: {extra}"
    worst = 0.0
    for key, expected in reference.items():
        difference = abs(ours[key] - expected) / expected
        assert difference <= TOLERANCE, f"{key}: ours {ours[key]:.4f} m², GDAL {expected:.4f} m²"
        worst = max(worst, difference)
    return worst


def assert_no_areas(body: bytes, filename: str) -> None:
    """Read, then refused by the validation as holding no plan areas, naming what it holds."""
    plan = read_plan(body, filename, None, LIMITS)
    with pytest.raises(InvalidInputError) as caught:
        prepare(plan)
    assert "no arealformål areas" in english(caught.value.detail)
    assert "the file holds" in english(caught.value.detail)


def read_variant(variant: Variant) -> SourcePlan:
    plan = read_plan(variant.body, variant.filename, None, LIMITS)
    messages = [english(w.message) for w in plan.warnings]
    if variant.warning is None:
        assert not messages, messages
    else:
        assert any(variant.warning in m for m in messages), messages
    return plan


def check_validation(variant: Variant, plan: SourcePlan, shapes: dict, key) -> None:
    """The relocated plan passes the validation with every area GDAL reads, within 0.1 %;
    a plan with an invalid surface (DiBK's flate.*-fail files) is refused naming it, unless
    the repair is small enough to be safe."""
    reference = {k: shape.area for k, shape in shapes.items()}
    invalid = {k for k, shape in shapes.items() if not shape.is_valid}
    unreadable = {f.source_id for f in plan.features if f.geometry_error}
    try:
        prepared = prepare(plan)
    except InvalidInputError as exc:
        assert invalid or unreadable, exc.detail
        detail = english(exc.detail)
        assert "invalid geometry" in detail or "cannot be read" in detail, detail
        return
    stored = {key(area): area.geometry.area for area in prepared.areas if key(area) in reference}
    kinds = {key(a): a.kind for a in prepared.areas}
    assert stored, "the validation kept none of the areas"
    for area_key, area in stored.items():
        assert abs(area - reference[area_key]) / reference[area_key] <= TOLERANCE, area_key
    warnings = [english(w.message) for w in prepared.report.warnings]
    if variant.warning is not None:
        assert any(variant.warning in m for m in warnings), warnings
    if variant.hensynssone is not None:
        lokal_id, code = variant.hensynssone
        zone = next(a for a in prepared.areas if key(a) == lokal_id)
        assert (zone.kind, zone.hensynssone) == ("hensynssone", code), kinds


# --- the real files --------------------------------------------------------------------------


@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: p.name)
def test_real_file_matches_gdal(path):
    body = path.read_bytes()
    reference = gdal_areas(body)
    if path.name in NOT_FOR_GDAL:
        assert reference is None, "GDAL reads this file now: compare with it"
        outcome, text = NOT_FOR_GDAL[path.name]
        if outcome == "refused":
            with pytest.raises(ArealsjekkError) as caught:
                read_plan(body, path.name, None, LIMITS)
            assert re.search(text, english(caught.value.detail)), caught.value.detail
        else:
            plan = read_plan(body, path.name, None, LIMITS)
            assert any(text in english(f.geometry_error or "") for f in plan.features)
            assert_no_areas(body, path.name)
        return
    if path.name in NO_AREAS:
        assert reference == {}
        assert_no_areas(body, path.name)
        return
    plan = read_plan(body, path.name, None, LIMITS)
    assert plan.crs.epsg == 25832
    assert_same_areas(our_areas(plan), reference)


def test_corpus_files_are_small_and_documented():
    """Vendored files stay small, and each is listed in SOURCE.md with its licence."""
    source = (DATA.parent / "SOURCE.md").read_text(encoding="utf-8")
    sizes = [p.stat().st_size for p in DATA.iterdir()]
    assert max(sizes) < 200_000 and sum(sizes) < 1_000_000
    for path in REAL_FILES:
        assert path.name in source, path.name
    assert "MIT" in source


# --- Plan-GML variants (items 3-7) -------------------------------------------------------------


def _gml_cases() -> list:
    cases = []
    for path in REAL_FILES:
        if path.name in NOT_FOR_GDAL or path.name in NO_AREAS:
            continue
        for variant in gml_variants(path.stem, path.read_bytes()):
            cases.append(pytest.param(path, variant, id=f"{path.stem}-{variant.name}"))
    return cases


@pytest.mark.parametrize(("path", "variant"), _gml_cases())
def test_gml_variant(path, variant):
    original = path.read_bytes()
    if variant.expect == "refused":
        with pytest.raises(ArealsjekkError) as caught:
            read_plan(variant.body, variant.filename, None, LIMITS)
        assert re.search(variant.match, english(caught.value.detail)), caught.value.detail
        return
    if variant.expect == "no_areas":
        assert_no_areas(variant.body, variant.filename)
        return
    plan = read_variant(variant)
    reference = gdal_areas(variant.body if variant.expect == "own" else original)
    assert_same_areas(our_areas(plan), reference)
    if variant.relocated:
        reference_body = variant.extra.get("reference", variant.body)
        relocated = gdal_areas(reference_body)
        assert_same_areas(our_areas(plan), relocated)
        if not any(f.properties.get("objtype") == "RpArealformålOmråde" for f in plan.features):
            assert_no_areas(variant.body, variant.filename)
            return
        check_validation(variant, plan, gdal_polygons(reference_body), lambda a: a.source_id)


# --- SOSI renditions (items 1, 2, 3, 5, 6, 7) ---------------------------------------------------


def _sosi_cases() -> list:
    cases = []
    for path in REAL_FILES:
        if path.name in NOT_FOR_GDAL or path.name in NO_AREAS:
            continue
        for variant in sosi_variants(path.stem, path.read_bytes()):
            cases.append(pytest.param(path, variant, id=f"{path.stem}-{variant.name}"))
    return cases


def _lokal_id(item) -> str | None:
    return sosi_lokal_id(item.properties)


@pytest.mark.parametrize(("path", "variant"), _sosi_cases())
def test_sosi_rendition(path, variant):
    if variant.expect == "refused":
        with pytest.raises(ArealsjekkError) as caught:
            read_plan(variant.body, variant.filename, None, LIMITS)
        assert re.search(variant.match, english(caught.value.detail)), caught.value.detail
        return
    if variant.expect == "no_areas":
        assert_no_areas(variant.body, variant.filename)
        return
    plan = read_variant(variant)
    assert plan.source_format == "sosi"
    # GDAL's reading of the GML moved into Hemsedal the same way (areas do not change).
    reference_body = variant.extra.get("reference", _relocated(path.read_bytes()))
    reference = gdal_areas(reference_body)
    ours = our_areas(plan, _lokal_id)
    # The rendition's own additions (an island's .FLATE, a hensynssone) are not in the GML.
    added = {k for k in ours if k.endswith("-hensyn") or "-island-" in k}
    assert_same_areas({k: v for k, v in ours.items() if k not in added}, reference)
    if variant.relocated:
        check_validation(variant, plan, gdal_polygons(reference_body), _lokal_id)


def test_relocation_keeps_areas_and_lands_in_hemsedal():
    """The relocation the SOSI and 'relocated' variants use is a pure shift into Hemsedal."""
    body = (DATA / "dibk-gml.gmlid.1-2D-pass.gml").read_bytes()
    moved = _relocated(body)
    before, after = gdal_areas(body), gdal_areas(moved)
    assert before.keys() == after.keys()
    for key, area in before.items():
        assert math.isclose(after[key], area, rel_tol=1e-9)
    plan = read_plan(moved, "moved.gml", None, LIMITS)
    shape = next(f.geometry for f in plan.features if f.geometry is not None)
    x, y = shape.representative_point().coords[0]
    assert abs(x - HEMSEDAL[0]) < 2000 and abs(y - HEMSEDAL[1]) < 2000
