"""The land-account method (spatial/land_account.py and layers/rules/arealregnskap-2026.yaml):
validation naming the field, groups, lots, what counts as built, the reserves' measure and
how the rules' findings become conflict, warning and unknown areas. No database."""

from collections.abc import Collection, Mapping
from pathlib import Path

import pytest
import shapely
import yaml
from shapely.geometry import Point, box

from layers.ruleset import default_land_account_method, default_rule_set
from spatial.land_account import (
    ADOPTED_LAYER,
    AS_NEW_STATUS,
    DEFAULT_ADAPTATION,
    LandAccountError,
    WithoutLayers,
    account_rule_set,
    adopted_areas,
    check_reserves,
    counts_as_built,
    measure_areas,
    parse_method,
    reserve_plan,
)
from spatial.rules.model import LayerFeature, MunicipalityInfo

METHOD_FILE = Path(__file__).resolve().parents[2] / "layers" / "rules" / "arealregnskap-2026.yaml"
X0, Y0 = 470_000.0, 6_750_000.0
TOWN = MunicipalityInfo("3326", "Hemsedal", 6, box(X0 - 5_000, Y0 - 5_000, X0 + 5_000, Y0 + 5_000))


def method_text(**changes) -> str:
    """The shipped method file with some entries replaced ("params.x.value": v, "groups": …)."""
    document = yaml.safe_load(METHOD_FILE.read_text("utf-8"))
    for path, value in changes.items():
        *parents, last = path.split("__")
        target = document
        for part in parents:
            target = target[part]
        if value is DELETE:
            del target[last]
        else:
            target[last] = value
    return yaml.safe_dump(document, allow_unicode=True)


DELETE = object()


def rounded(x0, y0, x1, y1, radius=10.0):
    """A rectangle (relative to X0, Y0) with rounded corners: the sliver rule leaves it whole."""
    return box(X0 + x0 + radius, Y0 + y0 + radius, X0 + x1 - radius, Y0 + y1 - radius).buffer(
        radius, quad_segs=32
    )


def feature(fid, geometry, **attributes) -> LayerFeature:
    """A layer feature with a source id."""
    return LayerFeature(fid, f"S{fid}", attributes, geometry)


def area_feature(fid, geometry, code=1110, status=2, knr="3326", **more) -> LayerFeature:
    """An area of the adopted kommuneplan."""
    attributes = {"arealformal": code, "arealbruksstatus": status, **more}
    if knr is not None:
        attributes["kommunenummer"] = knr
    return feature(fid, geometry, **attributes)


def building(fid, x, y, status="TB") -> LayerFeature:
    """A building point relative to X0, Y0."""
    return feature(fid, Point(X0 + x, Y0 + y), bygningsstatus=status)


@pytest.fixture(scope="module")
def method():
    """The shipped method."""
    return default_land_account_method()


# --- the method file ---------------------------------------------------------------------


def test_the_shipped_method_parses_with_every_parameter_explained(method):
    """The shipped file is valid, names its version and checksum, and gives a reason for
    every parameter (the file is the documentation of the defaults)."""
    assert method.id == "arealregnskap-2026" and method.version
    assert len(method.checksum) == 64
    document = yaml.safe_load(METHOD_FILE.read_text("utf-8"))
    assert all(len(entry["reason"]) > 20 for entry in document["params"].values())
    assert set(method.params.rules) <= set(method.actions)
    assert method.params.lot_share[-1][0] == float("inf")
    reparsed = parse_method(METHOD_FILE.read_text("utf-8"), "again.yaml")
    assert reparsed.checksum == method.checksum


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"params__built_buffer_m__value": -1}, "built_buffer_m"),
        ({"params__built_buffer_m__value": 500}, "built_buffer_m"),
        ({"params__built_buffer_m__value": "ti meter"}, "built_buffer_m"),
        ({"params__min_reserve_width_m__value": -2}, "min_reserve_width_m"),
        ({"params__min_reserve_width_m__value": 60}, "min_reserve_width_m"),
        ({"params__min_reserve_m2__value": -1}, "min_reserve_m2"),
        ({"params__lot_size_m2__value": 0}, "lot_size_m2"),
        ({"params__lot_share__value": {"2000": 1.0, "50000": 0.75}}, "lot_share"),
        ({"params__lot_share__value": {"2000": 1.5, "inf": 0.5}}, "lot_share"),
        ({"params__lot_share__value": {}}, "lot_share"),
        ({"params__lot_share__value": [1.0, 0.5]}, "lot_share"),
        ({"params__reserve_status__value": ["framtidig"]}, "reserve_status"),
        ({"params__capacity_purposes__value": ["1121-"]}, "capacity_purposes"),
        ({"params__rules__value": []}, "rules"),
        ({"params__rules__value": ["g1"]}, "rules"),
        ({"params__built_buffer_m__reason": ""}, "reason"),
        ({"params__built_buffer_m": DELETE}, "built_buffer_m"),
        ({"params__parking_m": {"value": 3, "reason": "not a parameter"}}, "parking_m"),
        ({"groups__bolig__codes": ["bolig"]}, "bolig"),
        ({"groups__bolig__label": DELETE}, "label"),
        ({"groups": {}}, "groups"),
        ({"version": DELETE}, "version"),
        ({"actions__G3": DELETE}, "G3"),
    ],
)
def test_bad_values_give_an_error_naming_the_file_and_the_field(changes, field):
    """Every invalid value is refused with a message that names the file and the field."""
    with pytest.raises(LandAccountError) as caught:
        parse_method(method_text(**changes), "min-metode.yaml")
    message = str(caught.value)
    assert message.startswith("min-metode.yaml: "), message
    assert field in message, message


def test_a_file_that_is_not_yaml_is_refused_by_name():
    """Broken YAML names the file."""
    with pytest.raises(LandAccountError, match=r"^feil\.yaml: not valid YAML"):
        parse_method("params: [", "feil.yaml")


def test_a_conflict_and_a_warning_get_their_own_action(method):
    """A reserve in conflict is to be taken out or cut; one to adapt gets the adaptation, and
    a rule without one the general advice, never the conflict's words."""
    for rule_id in method.params.rules:
        assert method.action(rule_id, "conflict") == method.actions[rule_id]
        assert method.action(rule_id, "warning") == method.adaptations[rule_id]
        assert method.action(rule_id, "warning") != method.actions[rule_id]
    bare = parse_method(method_text(adaptations__G2=DELETE), "uten.yaml")
    assert bare.action("G2", "warning") == DEFAULT_ADAPTATION


def test_a_rule_the_rule_set_lacks_is_named(method):
    """A method checking a rule the rule set does not have names the rule."""
    text = method_text(params__rules__value=["G1", "G9"], actions__G9="Ta det ut.")
    other = parse_method(text, "g9.yaml")
    with pytest.raises(LandAccountError, match="G9"):
        account_rule_set(default_rule_set(), other)
    kept = account_rule_set(default_rule_set(), method)
    assert [rule.id for rule in kept.rules] == list(method.params.rules)


# --- groups, lots, buildings -----------------------------------------------------------


def test_groups_follow_the_purpose_codes(method):
    """Codes and ranges of the groups; green structure and plain LNFR are no reserve purpose."""
    assert method.group_of(1110) == "bolig"
    assert method.group_of(1120) == method.group_of(1122) == "fritid"
    assert method.group_of(1300) == "naering"
    assert method.group_of(5220) == "lnfr_spredt"
    assert method.group_of(3040) is None
    assert method.group_of(5100) is None
    assert method.group_of(None) is None


def test_lots_use_the_share_of_the_size_band_and_round_down(method):
    """Lots = unbuilt × the share for the area's size (upper bounds inclusive) ÷ lot size,
    rounded down, from the method's own figures."""
    size = method.params.lot_size_m2
    bands = method.params.lot_share
    for (bound, share), (_, next_share) in zip(bands, bands[1:], strict=False):
        assert method.lots(bound, 3 * size / share) == 3
        assert method.lots(bound + 1, 3 * size / share) == int(3 * next_share / share)
    assert method.lots(10**9, 7.99 * size / bands[-1][1]) == 7
    assert method.lots(100, 0) == 0


@pytest.mark.parametrize(
    ("status", "built"),
    [
        ("TB", True),
        (None, True),
        ("", True),
        ("MB", True),
        ("BR", False),
        (" ra ", False),
        ("gr", False),
        ("BA", False),
        ("BF", False),
    ],
)
def test_what_counts_as_built(method, status, built):
    """Demolished, moved, cancelled buildings and a bare rammetillatelse leave the lot
    unbuilt; a point without status counts as built."""
    assert counts_as_built(method, feature(1, Point(0, 0), bygningsstatus=status)) is built


# --- adopted areas ---------------------------------------------------------------------


def test_adopted_areas_belong_by_kommunenummer_else_by_where_they_lie(method):
    """kommunenummer decides (also given as a number); without it the inner point decides;
    purposes outside the groups and empty geometries are left out."""
    inside = rounded(0, 0, 100, 100)
    outside = shapely.affinity.translate(inside, 20_000)
    features = [
        area_feature(1, inside, knr="3326"),
        area_feature(2, inside, knr=3326),
        area_feature(3, inside, knr="3324"),  # another municipality's, whatever it overlaps
        area_feature(4, inside, knr=None),
        area_feature(5, outside, knr=None),
        area_feature(6, inside, code=3040),
        area_feature(7, shapely.Polygon(), knr="3326"),
        area_feature(8, inside, code=1120, status=1, planidentifikasjon="P1", name="Bøn"),
    ]
    areas = adopted_areas(method, features, TOWN)
    assert [a.feature.id for a in areas] == [1, 2, 4, 8]
    cabin = areas[-1]
    assert (cabin.group, cabin.arealformal, cabin.arealbruksstatus) == ("fritid", 1120, 1)
    assert (cabin.planidentifikasjon, cabin.name) == ("P1", "Bøn")


# --- measuring built and unbuilt -------------------------------------------------------


def measure(method, geometry, buildings, code=1110, status=2):
    """Measure one adopted area of Hemsedal against the building points."""
    areas = adopted_areas(method, [area_feature(1, geometry, code=code, status=status)], TOWN)
    (measured,) = measure_areas(method, areas, buildings)
    return measured


def test_without_a_building_layer_nothing_is_built(method):
    """No buildings layer: the reserve is the whole area."""
    geometry = rounded(0, 0, 200, 100)
    measured = measure(method, geometry, None)
    assert measured.built_m2 == pytest.approx(0, abs=0.05)
    assert measured.unbuilt_m2 == pytest.approx(geometry.area, abs=0.05)
    assert measured.is_reserve and measured.building_count == 0


def test_a_plain_rectangle_without_buildings_is_all_reserve(method):
    """A rectangle with no building near has nothing built: its corners are not parts
    narrower than 2 × min_reserve_width_m."""
    geometry = box(X0, Y0, X0 + 200, Y0 + 100)
    measured = measure(method, geometry, [building(1, 1_000, 1_000)])
    assert measured.built_m2 == pytest.approx(0, abs=0.05)
    assert measured.unbuilt_m2 == pytest.approx(20_000, abs=0.05)


def test_built_is_the_area_within_the_buffer_of_counted_buildings(method):
    """Two counted buildings inside (overlapping buffers), one beside the area, and a burnt
    and a rammetillatelse one that do not count: built = area ∩ union(buffers)."""
    geometry = rounded(0, 0, 200, 100)
    buildings = [
        building(1, 50, 50),
        building(2, 53, 54),  # buffers overlap (nearly all): counted once
        building(3, 150, 50, "BR"),
        building(4, 120, 50, "RA"),
        building(5, 100, 150),  # 50 m north: nothing
    ]
    measured = measure(method, geometry, buildings)
    buffer_m = method.params.built_buffer_m
    cover = shapely.union_all([b.geometry.buffer(buffer_m) for b in buildings[:2]])
    assert measured.building_count == 2
    assert measured.built_m2 == pytest.approx(shapely.intersection(geometry, cover).area, abs=0.5)
    assert measured.unbuilt_m2 == pytest.approx(geometry.area - cover.area, abs=0.5)
    assert measured.unbuilt.intersection(cover).area == pytest.approx(0, abs=1e-6)


def test_the_wedges_between_overlapping_buffers_are_slivers(method):
    """Two buffers overlapping by 3 m leave wedges at their meeting points narrower than
    2 × min_reserve_width_m: they are dropped, and nothing that a disc of that radius fits
    into is dropped with them."""
    geometry = rounded(0, 0, 200, 100)
    buildings = [building(1, 80, 50), building(2, 97, 50)]
    measured = measure(method, geometry, buildings)
    buffer_m, half = method.params.built_buffer_m, method.params.min_reserve_width_m
    cover = shapely.union_all([b.geometry.buffer(buffer_m) for b in buildings])
    left = shapely.difference(geometry, cover)
    dropped = shapely.difference(left, measured.unbuilt)
    assert dropped.area > 1.0
    # The morphological opening by a disc of radius `half` keeps exactly the points some
    # such disc inside `left` covers; the method must not drop any of those.
    wide = shapely.intersection(left.buffer(-half, quad_segs=64).buffer(half, quad_segs=64), left)
    assert shapely.intersection(dropped, wide).area < 0.05
    assert measured.built_m2 == pytest.approx(geometry.area - measured.unbuilt_m2)


def test_a_building_beside_the_area_builds_only_the_part_within_reach(method):
    """A building 5 m outside the edge: built is the circle segment inside, exactly; the
    building is not one of the area's."""
    geometry = rounded(0, 0, 200, 100)
    beside = building(1, -5, 50)
    measured = measure(method, geometry, [beside])
    bite = shapely.intersection(geometry, beside.geometry.buffer(method.params.built_buffer_m))
    assert bite.area > 50
    assert measured.building_count == 0
    assert measured.built_m2 == pytest.approx(bite.area, abs=0.5)


def test_parts_narrower_than_twice_the_half_width_are_dropped(method):
    """A strip 2 × half width − 2 m wide is no reserve at all; 2 × half width + 2 m is whole."""
    half = method.params.min_reserve_width_m
    narrow = box(X0, Y0, X0 + 200, Y0 + 2 * half - 2)
    wide = rounded(0, 0, 200, 2 * half + 2, radius=half)
    measured = measure(method, narrow, None)
    assert measured.unbuilt.is_empty and not measured.is_reserve
    assert measured.built_m2 == pytest.approx(narrow.area)
    kept = measure(method, wide, None)
    assert kept.unbuilt_m2 == pytest.approx(wide.area, abs=0.5)


def test_remnants_under_the_minimum_area_are_no_reserve(method):
    """Round areas just under and over min_reserve_m2, both wider than 2 × the half width."""
    minimum = method.params.min_reserve_m2
    radius_under = (0.97 * minimum / 3.14159) ** 0.5
    radius_over = (1.05 * minimum / 3.14159) ** 0.5
    assert radius_under > method.params.min_reserve_width_m
    under = Point(X0, Y0).buffer(radius_under, quad_segs=64)
    over = Point(X0, Y0).buffer(radius_over, quad_segs=64)
    small = measure(method, under, None)
    assert small.unbuilt.is_empty and not small.is_reserve
    assert small.built_m2 == pytest.approx(under.area)
    big = measure(method, over, None)
    assert big.is_reserve and big.unbuilt_m2 == pytest.approx(over.area, abs=0.5)


def test_existing_areas_are_no_reserves_but_cabins_count_lots(method):
    """Nåværende cabins: no reserve, lots by the method's formula; housing: no lots."""
    geometry = rounded(0, 0, 300, 200)  # 60,000 m²: the largest band
    cabin = measure(method, geometry, [building(1, 100, 100)], code=1120, status=1)
    assert not cabin.is_reserve
    assert cabin.lots == method.lots(cabin.area_m2, cabin.unbuilt_m2)
    share = next(s for bound, s in method.params.lot_share if geometry.area <= bound)
    assert cabin.lots == int(cabin.unbuilt_m2 * share // method.params.lot_size_m2)
    assert cabin.lots > 0
    housing = measure(method, geometry, None, code=1110, status=1)
    assert housing.lots is None and not housing.is_reserve
    lnfr = measure(method, geometry, None, code=5220, status=2)
    assert lnfr.lots is None and lnfr.is_reserve


def test_the_reserve_plan_checks_every_reserve_as_new(method):
    """Reserve i is plan area i, its unbuilt part, status framtidig whatever it was."""
    areas = adopted_areas(
        method,
        [
            area_feature(1, rounded(0, 0, 100, 100), code=1120, status=3),
            area_feature(2, rounded(200, 0, 300, 100), code=1300, planidentifikasjon="P9"),
        ],
        TOWN,
    )
    measured = measure_areas(method, areas, [building(1, 50, 50)])
    plan = reserve_plan(TOWN, measured)
    assert [f.id for f in plan.features] == [0, 1]
    assert {f.arealbruksstatus for f in plan.features} == {AS_NEW_STATUS}
    assert plan.features[0].geometry.equals(measured[0].unbuilt)
    # Without a name, the label says the plan and the source id.
    assert "P9" in plan.features[1].name and "S2" in plan.features[1].name
    assert plan.metadata.plantype == 20


# --- conflicts from findings -------------------------------------------------------------


class Layers:
    """Vector layers held in memory (the layer-source protocol), for the rules' overlays."""

    def __init__(self, layers: dict[str, list[LayerFeature]]):
        self._layers = layers

    def version(self, layer_id: str) -> int | None:
        return 1 if layer_id in self._layers else None

    def features(
        self,
        layer_id: str,
        area,
        where: Mapping[str, Collection[str]] | None = None,
    ) -> list[LayerFeature]:
        bounds = box(*area.bounds)
        return [
            f
            for f in self._layers.get(layer_id, [])
            if box(*f.geometry.bounds).intersects(bounds)
            and all(str(f.attributes.get(k)) in v for k, v in (where or {}).items())
        ]

    def features_near(self, layer_id, geometries, reach_m, where=None) -> list[LayerFeature]:
        reach = box(*shapely.total_bounds(list(geometries))).buffer(reach_m)
        return self.features(layer_id, reach, where)

    def raster_path(self, layer_id: str) -> Path | None:
        return None


def far(fid: int, **attributes) -> LayerFeature:
    """A feature 30 km from the test areas."""
    return feature(fid, box(X0 + 30_000, Y0, X0 + 30_100, Y0 + 100), **attributes)


def g2_layers(recreation: list[LayerFeature]) -> dict[str, list[LayerFeature]]:
    """G2's five layers: the given recreation areas, the others far away."""
    return {
        "recreation_areas": recreation,
        "state_recreation_areas": [far(90, name="Langt")],
        "villrein_areas": [far(91, name="Langt", category="leveområde", function=None)],
        "villrein_corridors": [
            feature(92, shapely.LineString([(X0 + 30_000, Y0), (X0 + 30_100, Y0 + 100)]))
        ],
        "intact_nature": [far(93, zone="sone 1")],
    }


def test_warning_is_counted_outside_the_conflict_and_hidden_layers_read_as_missing(method):
    """A cabin reserve under a value A area (one part) and a value B area overlapping it:
    conflict = reserve ∩ A, warning = reserve ∩ B − A; G3 and G4 without their layers give
    the whole reserve as unknown. The adopted plan is hidden from the rules."""
    text = method_text(params__rules__value=["G2", "G3", "G4"])
    g234 = parse_method(text, "g234.yaml")
    geometry = rounded(0, 0, 200, 100)
    areas = adopted_areas(g234, [area_feature(1, geometry, code=1120)], TOWN)
    measured = measure_areas(g234, areas, [building(1, 150, 50)])
    value_a = box(X0 + 120, Y0 - 50, X0 + 260, Y0 + 150)
    value_b = box(X0 - 50, Y0 - 50, X0 + 140, Y0 + 150)
    layers = g2_layers(
        [feature(1, value_a, name="A", value="A"), feature(2, value_b, name="B", value="B")]
    )
    layers[ADOPTED_LAYER] = [area_feature(9, geometry, code=1120)]
    result, (outcome,) = check_reserves(default_rule_set(), g234, TOWN, measured, Layers(layers))
    reserve = measured[0].unbuilt
    g2 = outcome.rules["G2"].figures()
    assert g2["conflict_m2"] == pytest.approx(reserve.intersection(value_a).area, abs=0.5)
    assert g2["warning_m2"] == pytest.approx(
        reserve.intersection(value_b).difference(value_a).area, abs=0.5
    )
    assert g2["unknown_m2"] == 0
    for rule_id in ("G3", "G4"):
        assert outcome.rules[rule_id].figures()["unknown_m2"] == pytest.approx(reserve.area)
    assert result.layer_versions.get(ADOPTED_LAYER) is None
    hidden = WithoutLayers(Layers(layers), [ADOPTED_LAYER])
    assert hidden.version(ADOPTED_LAYER) is None and hidden.version("recreation_areas") == 1
    assert hidden.features(ADOPTED_LAYER, geometry) == []
    assert hidden.features_near(ADOPTED_LAYER, [geometry], 100) == []
    assert len(hidden.features("recreation_areas", geometry)) == 2
    assert outcome.conflict.area == pytest.approx(g2["conflict_m2"], abs=0.5)
