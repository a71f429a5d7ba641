"""G2 (§6.2.4 guideline 2): cabin areas against recreation and nature layers, hand-computed."""

import math

import pytest
from shapely.geometry import LineString, box

from spatial.rules import g2_nature  # noqa: F401 - registers the rule class
from spatial.rules.ruleset import RuleSetError
from tests.rule_fixtures import area, evaluate, load_vector_layer, make_plan, rule

X0, Y0 = 470_000.0, 6_750_000.0  # Hemsedal, EPSG:25832
FAR = 20_000.0  # default fixture features lie this far east, away from every plan area
LAYERS = (
    "recreation_areas",
    "state_recreation_areas",
    "villrein_areas",
    "villrein_corridors",
    "intact_nature",
)
# Half of the 200 m x 100 m cabin area: its west 100 m (and beyond it, outside the area).
WEST_HALF = box(X0 - 100, Y0 - 50, X0 + 100, Y0 + 150)
FAR_BOX = box(X0 + FAR, Y0, X0 + FAR + 100, Y0 + 100)
DEFAULTS = {
    "recreation_areas": [{"geometry": FAR_BOX, "name": "Langt unna", "value": "A"}],
    "state_recreation_areas": [{"geometry": FAR_BOX, "name": "Langt unna"}],
    "villrein_areas": [
        {"geometry": FAR_BOX, "name": "Langt unna", "category": "leveområde", "function": None}
    ],
    "villrein_corridors": [
        {
            "geometry": LineString([(X0 + FAR, Y0), (X0 + FAR + 100, Y0 + 100)]),
            "name": "Langt unna",
            "villrein_area": "Nordfjella",
        }
    ],
    "intact_nature": [{"geometry": FAR_BOX, "zone": "sone 1"}],
}


def load_layers(folder, skip=(), **records):
    """Load all five G2 layers: the given records, else one feature far away; skip some."""
    for layer_id in LAYERS:
        if layer_id not in skip:
            load_vector_layer(layer_id, records.get(layer_id, DEFAULTS[layer_id]), folder)


def cabin(fid=1, x=X0, status=2, code=1120, key=None):
    """A 200 m x 100 m future cabin area with its west edge at x."""
    return area(
        key or f"BFR{fid}",
        box(x, Y0, x + 200, Y0 + 100),
        fid,
        arealformal=code,
        arealbruksstatus=status,
    )


def only(findings):
    assert len(findings) == 1, findings
    return findings[0]


def by_check(findings):
    return {f.check: f for f in findings}


def test_half_over_a_value_a_recreation_area_is_a_conflict_of_10000_m2(tmp_path):
    """200 m x 100 m, the west half inside an A area: 10,000 m², 50 %, conflict."""
    load_layers(
        tmp_path,
        recreation_areas=[{"geometry": WEST_HALF, "name": "Skogshorn", "value": "A"}],
    )
    finding = only(evaluate(rule("G2"), make_plan(cabin()), tmp_path))
    assert finding.severity == "conflict"
    assert finding.check == "recreation_A"
    assert finding.measures["overlap_m2"] == pytest.approx(10_000)
    assert finding.measures["overlap_pct"] == pytest.approx(50.0)
    assert finding.measures["area_m2"] == pytest.approx(20_000)
    assert finding.geometry.area == pytest.approx(10_000)
    assert finding.geometry.bounds == pytest.approx((X0, Y0, X0 + 100, Y0 + 100))
    assert finding.paragraph.startswith("Buskerudplanen 2026 §6.2.4")
    assert finding.plan_feature_ids == (1,)
    (ref,) = finding.layer_refs
    assert ref.layer_id == "recreation_areas" and ref.version == 1
    assert len(ref.feature_ids) == 1
    assert "10 000 m²" in finding.message and "50,0 %" in finding.message
    assert "«Skogshorn»" in finding.message and "verdi A" in finding.message
    assert "holdes utenfor" in finding.suggested_action
    assert "innsigelse" in finding.suggested_action


def test_value_b_recreation_area_is_a_warning(tmp_path):
    load_layers(
        tmp_path,
        recreation_areas=[{"geometry": WEST_HALF, "name": "Grøndalen", "value": "B"}],
    )
    finding = only(evaluate(rule("G2"), make_plan(cabin()), tmp_path))
    assert finding.severity == "warning" and finding.check == "recreation_B"
    assert finding.measures["overlap_m2"] == pytest.approx(10_000)
    assert "innsigelse" not in finding.suggested_action


def test_value_c_recreation_area_is_ok_listing_the_checked_layers(tmp_path):
    load_layers(
        tmp_path,
        recreation_areas=[{"geometry": WEST_HALF, "name": "Bygdeskogen", "value": "C"}],
    )
    finding = only(evaluate(rule("G2"), make_plan(cabin()), tmp_path))
    assert finding.severity == "ok" and finding.check == "nature_recreation"
    assert finding.measures["checked_layers"] == list(LAYERS)
    assert finding.measures["unchecked_layers"] == []
    assert {ref.layer_id for ref in finding.layer_refs} == set(LAYERS)
    assert finding.suggested_action == "Ingen."


def test_a_and_b_areas_give_one_finding_per_value(tmp_path):
    """A over the west 50 m (5,000 m²), two B areas over the east 60 m (6,000 m²)."""
    load_layers(
        tmp_path,
        recreation_areas=[
            {"geometry": box(X0 - 10, Y0 - 10, X0 + 50, Y0 + 110), "name": "Nord", "value": "A"},
            {"geometry": box(X0 + 140, Y0 - 10, X0 + 170, Y0 + 110), "name": "Aust", "value": "B"},
            {"geometry": box(X0 + 170, Y0 - 10, X0 + 210, Y0 + 110), "name": "Vest", "value": "B"},
        ],
    )
    findings = by_check(evaluate(rule("G2"), make_plan(cabin()), tmp_path))
    assert set(findings) == {"recreation_A", "recreation_B"}
    assert findings["recreation_A"].measures["overlap_m2"] == pytest.approx(5_000)
    assert findings["recreation_B"].measures["overlap_m2"] == pytest.approx(6_000)
    assert findings["recreation_B"].measures["overlap_pct"] == pytest.approx(30.0)
    assert "«Aust» og «Vest»" in findings["recreation_B"].message
    assert len(findings["recreation_B"].layer_refs[0].feature_ids) == 2


def test_overlapping_recreation_areas_are_not_counted_twice(tmp_path):
    load_layers(
        tmp_path,
        recreation_areas=[
            {"geometry": WEST_HALF, "name": "En", "value": "A"},
            {"geometry": WEST_HALF.buffer(-5), "name": "To", "value": "A"},
        ],
    )
    finding = only(evaluate(rule("G2"), make_plan(cabin()), tmp_path))
    assert finding.measures["overlap_m2"] == pytest.approx(10_000)


def test_sliver_under_min_overlap_is_ok_and_bbox_only_candidates_are_ignored(tmp_path):
    """8 m² (2 m x 4 m) of overlap is below min_overlap_m2 = 10: ok.

    The L-shaped A area's bounding box covers the cabin area, the area itself does not.
    """
    l_shape = box(X0 - 300, Y0 - 300, X0 + 300, Y0 - 200).union(
        box(X0 + 250, Y0 - 300, X0 + 300, Y0 + 300)
    )
    load_layers(
        tmp_path,
        recreation_areas=[
            {"geometry": box(X0 + 198, Y0 + 50, X0 + 260, Y0 + 54), "name": "Kant", "value": "A"},
            {"geometry": l_shape, "name": "Rundt", "value": "A"},
        ],
    )
    finding = only(evaluate(rule("G2"), make_plan(cabin()), tmp_path))
    assert finding.severity == "ok"
    lowered = rule("G2", min_overlap_m2=5)
    finding = only(evaluate(lowered, make_plan(cabin()), tmp_path))
    assert finding.severity == "conflict"
    assert finding.measures["overlap_m2"] == pytest.approx(8)


def test_villrein_leveomrade_is_a_conflict(tmp_path):
    load_layers(
        tmp_path,
        villrein_areas=[
            {
                "geometry": WEST_HALF,
                "name": "Hardangervidda",
                "category": "leveområde",
                "function": None,
            }
        ],
    )
    finding = only(evaluate(rule("G2"), make_plan(cabin()), tmp_path))
    assert finding.severity == "conflict" and finding.check == "villrein"
    assert finding.measures["overlap_m2"] == pytest.approx(10_000)
    assert "«Hardangervidda» (leveområde)" in finding.message
    assert finding.suggested_action.startswith("Ta ut området fra villreinens leveområde")


def test_villrein_funksjonsomrade_names_the_function(tmp_path):
    load_layers(
        tmp_path,
        villrein_areas=[
            {
                "geometry": box(X0 + 150, Y0 - 50, X0 + 400, Y0 + 150),
                "name": "Nordfjella",
                "category": "funksjonsområde",
                "function": "kalving",
            }
        ],
    )
    finding = only(evaluate(rule("G2"), make_plan(cabin()), tmp_path))
    assert finding.severity == "conflict"
    assert finding.measures["overlap_m2"] == pytest.approx(5_000)
    assert finding.measures["overlap_pct"] == pytest.approx(25.0)
    assert "funksjonsområde: kalving" in finding.message
    assert "funksjonsområde" in finding.suggested_action


def test_villrein_severity_comes_from_the_rule_set(tmp_path):
    load_layers(
        tmp_path,
        villrein_areas=[
            {"geometry": WEST_HALF, "name": "Vidda", "category": "leveområde", "function": None}
        ],
    )
    finding = only(evaluate(rule("G2", villrein_severity="warning"), make_plan(cabin()), tmp_path))
    assert finding.severity == "warning"
    assert "innsigelse" not in finding.suggested_action


def test_crossing_a_corridor_is_a_conflict_with_the_cut_length(tmp_path):
    """A 45° line through the south-west corner: 100 m x 100 m inside, 100·√2 m cut."""
    line = LineString([(X0 - 50, Y0 - 50), (X0 + 250, Y0 + 250)])
    load_layers(
        tmp_path,
        villrein_corridors=[{"geometry": line, "name": "Trekket", "villrein_area": "Nordfjella"}],
    )
    finding = only(evaluate(rule("G2"), make_plan(cabin()), tmp_path))
    assert finding.severity == "conflict" and finding.check == "corridor"
    assert finding.measures["cut_length_m"] == pytest.approx(100 * math.sqrt(2), abs=0.05)
    assert finding.geometry.length == pytest.approx(100 * math.sqrt(2))
    assert finding.geometry.bounds == pytest.approx((X0, Y0, X0 + 100, Y0 + 100))
    assert "141 m" in finding.message and "«Trekket» (Nordfjella)" in finding.message
    assert finding.layer_refs[0].layer_id == "villrein_corridors"


def test_corridor_touching_only_a_corner_is_not_cut(tmp_path):
    line = LineString([(X0 - 100, Y0 + 200), (X0, Y0 + 100), (X0 - 100, Y0)])
    load_layers(tmp_path, villrein_corridors=[{"geometry": line, "name": "Langs"}])
    finding = only(evaluate(rule("G2"), make_plan(cabin()), tmp_path))
    assert finding.severity == "ok"


def test_state_secured_area_and_intact_nature_are_warnings(tmp_path):
    """State-secured area over the east 50 m (5,000 m²), INON sone 2 over all (20,000 m²)."""
    load_layers(
        tmp_path,
        state_recreation_areas=[
            {"geometry": box(X0 + 150, Y0 - 10, X0 + 300, Y0 + 110), "name": "Badeplassen"}
        ],
        intact_nature=[
            {"geometry": box(X0 - 1000, Y0 - 1000, X0 + 1000, Y0 + 1000), "zone": "sone 2"}
        ],
    )
    findings = by_check(evaluate(rule("G2"), make_plan(cabin()), tmp_path))
    assert set(findings) == {"state_recreation", "intact_nature"}
    state, inon = findings["state_recreation"], findings["intact_nature"]
    assert state.severity == "warning" and inon.severity == "warning"
    assert state.measures["overlap_m2"] == pytest.approx(5_000)
    assert state.measures["overlap_pct"] == pytest.approx(25.0)
    assert "«Badeplassen»" in state.message
    assert inon.measures["overlap_m2"] == pytest.approx(20_000)
    assert inon.measures["overlap_pct"] == pytest.approx(100.0)
    assert "sone 2" in inon.message


def test_every_layer_at_once(tmp_path):
    """One area meeting all five layers gets five findings and no ok."""
    load_layers(
        tmp_path,
        recreation_areas=[{"geometry": WEST_HALF, "name": "A-område", "value": "A"}],
        state_recreation_areas=[{"geometry": WEST_HALF, "name": "Sikret"}],
        villrein_areas=[
            {"geometry": WEST_HALF, "name": "Vidda", "category": "leveområde", "function": None}
        ],
        villrein_corridors=[
            {"geometry": LineString([(X0 + 50, Y0 - 50), (X0 + 50, Y0 + 150)]), "name": "Trekk"}
        ],
        intact_nature=[{"geometry": WEST_HALF, "zone": "villmarkspreget"}],
    )
    findings = evaluate(rule("G2"), make_plan(cabin()), tmp_path)
    assert sorted((f.check, f.severity) for f in findings) == [
        ("corridor", "conflict"),
        ("intact_nature", "warning"),
        ("recreation_A", "conflict"),
        ("state_recreation", "warning"),
        ("villrein", "conflict"),
    ]
    assert by_check(findings)["corridor"].measures["cut_length_m"] == pytest.approx(100)


def test_existing_cabin_areas_and_other_purposes_are_not_checked(tmp_path):
    load_layers(
        tmp_path,
        recreation_areas=[{"geometry": WEST_HALF, "name": "Skogshorn", "value": "A"}],
    )
    plan = make_plan(cabin(1, status=1), cabin(2, code=1110))
    finding = only(evaluate(rule("G2"), plan, tmp_path))
    assert finding.severity == "info" and finding.check == "no_new_cabin_areas"


def test_missing_layer_is_unknown_and_the_others_are_still_checked(tmp_path):
    """No villrein areas: one unknown for both areas; recreation still gives a conflict."""
    load_layers(
        tmp_path,
        skip=("villrein_areas",),
        recreation_areas=[{"geometry": WEST_HALF, "name": "Skogshorn", "value": "A"}],
    )
    plan = make_plan(cabin(2, x=X0 + 1000), cabin(1))
    findings = evaluate(rule("G2"), plan, tmp_path)
    assert [(f.check, f.severity, f.plan_feature_ids) for f in findings] == [
        ("villrein", "unknown", (1, 2)),
        ("recreation_A", "conflict", (1,)),
        ("nature_recreation", "ok", (2,)),
    ]
    unknown, _, ok = findings
    assert "villrein_areas" in unknown.message and unknown.message.startswith("Ikke kontrollert")
    assert unknown.layer_refs[0].layer_id == "villrein_areas"
    assert unknown.layer_refs[0].version is None
    assert "villrein_areas" not in ok.measures["checked_layers"]
    assert ok.measures["unchecked_layers"] == ["villrein_areas"]
    assert "Ikke kontrollert mot villreinområder" in ok.message
    assert ok.suggested_action != "Ingen."


def test_all_layers_missing_gives_only_unknowns(tmp_path):
    findings = evaluate(rule("G2"), make_plan(cabin()), tmp_path)
    assert [f.severity for f in findings] == ["unknown"] * 5
    assert [f.layer_refs[0].layer_id for f in findings] == list(LAYERS)


def test_tourism_purpose_only_counts_when_included(tmp_path):
    load_layers(
        tmp_path,
        recreation_areas=[{"geometry": WEST_HALF, "name": "Skogshorn", "value": "A"}],
    )
    plan = make_plan(cabin(code=1170))
    assert only(evaluate(rule("G2"), plan, tmp_path)).check == "no_new_cabin_areas"
    finding = only(evaluate(rule("G2", include_tourism_purposes=True), plan, tmp_path))
    assert finding.severity == "conflict" and finding.plan_feature_ids == (1,)


def test_reguleringsplan_checks_every_cabin_area(tmp_path):
    load_layers(
        tmp_path,
        recreation_areas=[{"geometry": WEST_HALF, "name": "Skogshorn", "value": "B"}],
    )
    plan = make_plan(cabin(code=1122, status=None), plantype=35)
    finding = only(evaluate(rule("G2"), plan, tmp_path))
    assert finding.severity == "warning"


def test_findings_are_deterministic_and_ordered_by_area_id(tmp_path):
    load_layers(
        tmp_path,
        recreation_areas=[
            {"geometry": box(X0 - 10, Y0 - 10, X0 + 2000, Y0 + 110), "name": "Alt", "value": "A"}
        ],
    )
    plan = make_plan(cabin(3, x=X0 + 600), cabin(1), cabin(2, x=X0 + 300))
    first = evaluate(rule("G2"), plan, tmp_path)
    second = evaluate(rule("G2"), plan, tmp_path)
    assert [f.plan_feature_ids for f in first] == [(1,), (2,), (3,)]
    assert [(f.fingerprint, f.measures, f.message) for f in first] == [
        (f.fingerprint, f.measures, f.message) for f in second
    ]


@pytest.mark.parametrize(
    "overrides",
    [
        {"villrein_severity": "severe"},
        {"corridor_severity": "ok"},
        {"recreation_warning_values": ["A", "B"]},
        {"min_overlap_m2": -1},
    ],
)
def test_invalid_parameters_are_rejected(overrides):
    with pytest.raises(RuleSetError):
        rule("G2", **overrides)


def test_parameters_are_read_from_the_rule_set():
    g2 = rule("G2")
    assert g2.recreation_conflict_values == frozenset({"A"})
    assert g2.recreation_warning_values == frozenset({"B"})
    assert g2.state_recreation_severity == "warning"
    assert g2.min_overlap_m2 == 10
    assert 1121 in g2.reguleringsplan_purposes
