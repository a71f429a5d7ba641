"""G3 (§6.2.5): mineral resources, hand-computed fixtures in the real PostGIS."""

import pytest
from shapely.geometry import box

from spatial.rules import g3_minerals  # noqa: F401 - registers the rule class
from tests.rule_fixtures import (
    area,
    boundary,
    evaluate,
    load_vector_layer,
    make_plan,
    rule,
    zone,
)

X0, Y0 = 537_000.0, 6_614_000.0  # north of Kongsberg, EPSG:25832
REGULERING = 35


def deposit(geometry, importance="regional", name="Skollenborg", resource_type="grus"):
    """A mineral_deposits record."""
    return {
        "geometry": geometry,
        "name": name,
        "importance": importance,
        "resource_type": resource_type,
    }


def housing(fid=1, key="B1", x=X0, code=1110, status=2):
    """A 200 m x 100 m housing area (20,000 m²) with its west edge at x."""
    geometry = box(x, Y0, x + 200, Y0 + 100)
    return area(key, geometry, fid, arealformal=code, arealbruksstatus=status)


def by_check(findings, check):
    return [f for f in findings if f.check == check]


def only(findings):
    assert len(findings) == 1, findings
    return findings[0]


def test_housing_on_a_regional_deposit_is_a_conflict_with_the_share_of_the_deposit_lost(
    tmp_path,
):
    """50 m x 100 m of a 400 m x 300 m deposit: 5,000 m², 25 % of the area, 4.17 % lost."""
    load_vector_layer(
        "mineral_deposits", [deposit(box(X0 + 150, Y0 - 100, X0 + 550, Y0 + 200))], tmp_path
    )
    findings = evaluate(rule("G3"), make_plan(housing()), tmp_path)
    conflict = only(by_check(findings, "deposit_overlap"))
    assert conflict.severity == "conflict"
    assert conflict.measures["overlap_m2"] == pytest.approx(5_000)
    assert conflict.measures["overlap_pct"] == pytest.approx(25.0)
    assert conflict.measures["deposit_area_m2"] == pytest.approx(120_000)
    assert conflict.measures["deposit_lost_pct"] == pytest.approx(4.17)
    assert conflict.measures["deposit_names"] == ["Skollenborg"]
    assert conflict.geometry.area == pytest.approx(5_000)
    assert conflict.plan_feature_ids == (1,)
    assert conflict.paragraph.startswith("Buskerudplanen 2026 §6.2.5")
    (ref,) = conflict.layer_refs
    assert (ref.layer_id, ref.version, len(ref.feature_ids)) == ("mineral_deposits", 1, 1)
    assert "«Skollenborg» (grus, regional betydning)" in conflict.message
    assert "5 000 m²" in conflict.message and "B1 (1110)" in conflict.message
    assert "1200" in conflict.suggested_action and "H590" in conflict.suggested_action


def test_one_area_over_two_deposits_is_one_conflict_naming_both(tmp_path):
    """Half of each of two 10,000 m² deposits: 10,000 m² overlap, 50 % of them lost."""
    load_vector_layer(
        "mineral_deposits",
        [
            deposit(box(X0 - 50, Y0, X0 + 50, Y0 + 100), name="Vest"),
            deposit(box(X0 + 150, Y0, X0 + 250, Y0 + 100), "nasjonal", "Øst", "pukk"),
        ],
        tmp_path,
    )
    plan = make_plan(housing(), plantype=REGULERING)
    conflict = only(evaluate(rule("G3"), plan, tmp_path))
    assert conflict.severity == "conflict"
    assert conflict.measures["overlap_m2"] == pytest.approx(10_000)
    assert conflict.measures["overlap_pct"] == pytest.approx(50.0)
    assert conflict.measures["deposit_area_m2"] == pytest.approx(20_000)
    assert conflict.measures["deposit_lost_pct"] == pytest.approx(50.0)
    assert conflict.measures["deposit_names"] == ["Vest", "Øst"]
    assert len(conflict.layer_refs[0].feature_ids) == 2
    assert "«Vest»" in conflict.message and "«Øst» (pukk, nasjonal betydning)" in conflict.message


def test_local_deposit_is_not_protected(tmp_path):
    """A deposit of local importance gives nothing but the area's ok."""
    load_vector_layer(
        "mineral_deposits",
        [deposit(box(X0 + 150, Y0 - 100, X0 + 550, Y0 + 200), importance="lokal")],
        tmp_path,
    )
    finding = only(evaluate(rule("G3"), make_plan(housing(), plantype=REGULERING), tmp_path))
    assert finding.severity == "ok"
    assert finding.layer_refs[0].version == 1 and finding.layer_refs[0].feature_ids == ()


def test_area_60_m_from_a_national_deposit_is_a_buffer_warning(tmp_path):
    """The deposit starts 60 m east of the area: warning at 60 m, 40 m x 100 m within 100 m."""
    load_vector_layer(
        "mineral_deposits",
        [deposit(box(X0 + 260, Y0, X0 + 400, Y0 + 100), importance="nasjonal")],
        tmp_path,
    )
    finding = only(evaluate(rule("G3"), make_plan(housing(), plantype=REGULERING), tmp_path))
    assert finding.severity == "warning" and finding.check == "deposit_buffer"
    assert finding.measures["distance_m"] == pytest.approx(60.0)
    assert finding.geometry.area == pytest.approx(4_000, rel=1e-6)
    assert "60 m" in finding.message and "støv" in finding.message


def test_two_deposits_within_the_buffer_are_one_warning_nearest_first(tmp_path):
    """Deposits 90 m east and 30 m north: one warning at 30 m, both named with distances."""
    load_vector_layer(
        "mineral_deposits",
        [
            deposit(box(X0 + 290, Y0, X0 + 400, Y0 + 100), name="Øst"),
            deposit(box(X0, Y0 + 130, X0 + 200, Y0 + 200), name="Nord"),
        ],
        tmp_path,
    )
    finding = only(evaluate(rule("G3"), make_plan(housing(), plantype=REGULERING), tmp_path))
    assert finding.severity == "warning"
    assert finding.measures["distance_m"] == pytest.approx(30.0)
    assert finding.measures["deposit_names"] == ["Nord", "Øst"]
    assert finding.measures["deposit_distances_m"] == [30.0, 90.0]
    assert "«Nord» (grus, regional betydning, 30 m unna) og «Øst»" in finding.message


def test_area_beyond_the_buffer_is_ok(tmp_path):
    """110 m away from the deposit: ok."""
    load_vector_layer(
        "mineral_deposits", [deposit(box(X0 + 310, Y0, X0 + 400, Y0 + 100))], tmp_path
    )
    finding = only(evaluate(rule("G3"), make_plan(housing(), plantype=REGULERING), tmp_path))
    assert finding.severity == "ok" and finding.check == "deposit_overlap"


def test_sliver_overlap_is_a_warning_at_0_m_not_a_conflict(tmp_path):
    """5 m² of overlap is under min_overlap_m2 (10 m²): the area touches the deposit."""
    load_vector_layer(
        "mineral_deposits", [deposit(box(X0 + 199.95, Y0, X0 + 300, Y0 + 100))], tmp_path
    )
    finding = only(evaluate(rule("G3"), make_plan(housing(), plantype=REGULERING), tmp_path))
    assert finding.severity == "warning"
    assert finding.measures["distance_m"] == 0


def test_lnfr_and_extraction_areas_do_not_sterilise(tmp_path):
    """LNFR (5100) and råstoffutvinning (1200) on the deposit: no overlap check at all."""
    load_vector_layer("mineral_deposits", [deposit(box(X0, Y0, X0 + 400, Y0 + 100))], tmp_path)
    lnfr = housing(1, "LNFR1", code=5100)
    quarry = housing(2, "BRU1", x=X0 + 200, code=1200)
    findings = evaluate(rule("G3"), make_plan(lnfr, quarry), tmp_path)
    assert not by_check(findings, "deposit_overlap")
    assert all(f.severity != "conflict" for f in findings)
    regulering = evaluate(rule("G3"), make_plan(lnfr, quarry, plantype=REGULERING), tmp_path)
    assert only(regulering).severity == "info"
    assert only(regulering).check == "no_sterilising_areas"


def test_existing_areas_of_a_kommuneplan_are_not_assessed(tmp_path):
    """A nåværende (status 1) housing area on the deposit is not a new decision."""
    load_vector_layer("mineral_deposits", [deposit(box(X0, Y0, X0 + 200, Y0 + 100))], tmp_path)
    findings = evaluate(rule("G3"), make_plan(housing(status=1)), tmp_path)
    assert not by_check(findings, "deposit_overlap")
    assert only(findings).check == "not_safeguarded"  # (b) still sees the deposit
    plan = make_plan(housing(status=1), plantype=REGULERING)  # status means nothing there
    assert only(evaluate(rule("G3"), plan, tmp_path)).severity == "conflict"


PLAN_BOUNDARY = box(X0 - 100, Y0 - 100, X0 + 400, Y0 + 300)


def test_deposit_half_covered_by_extraction_is_not_safeguarded_50_pct(tmp_path):
    """A 20,000 m² regional deposit, its west half in a 1200 area: 10,000 m² uncovered."""
    load_vector_layer("mineral_deposits", [deposit(box(X0, Y0, X0 + 200, Y0 + 100))], tmp_path)
    quarry = area("BRU1", box(X0, Y0, X0 + 100, Y0 + 100), 2, arealformal=1200)
    findings = evaluate(rule("G3"), make_plan(boundary(PLAN_BOUNDARY), quarry), tmp_path)
    finding = only(findings)
    assert finding.severity == "warning" and finding.check == "not_safeguarded"
    assert finding.measures["deposit_area_m2"] == pytest.approx(20_000)
    assert finding.measures["uncovered_m2"] == pytest.approx(10_000)
    assert finding.measures["uncovered_pct"] == pytest.approx(50.0)
    assert finding.geometry.area == pytest.approx(10_000)
    assert finding.plan_feature_ids == (2,)
    assert finding.layer_refs[0].feature_ids == (1,)
    assert "10 000 m² (50,0 %)" in finding.message
    assert "1200" in finding.suggested_action and "H590" in finding.suggested_action


def test_deposit_covered_by_h590_is_ok(tmp_path):
    """The twin: hensynssone H590 over the whole deposit."""
    load_vector_layer("mineral_deposits", [deposit(box(X0, Y0, X0 + 200, Y0 + 100))], tmp_path)
    h590 = zone("H590_1", box(X0 - 10, Y0 - 10, X0 + 210, Y0 + 110), 3, 590)
    finding = only(evaluate(rule("G3"), make_plan(boundary(PLAN_BOUNDARY), h590), tmp_path))
    assert finding.severity == "ok" and finding.check == "not_safeguarded"
    assert finding.measures["uncovered_m2"] == 0
    assert finding.plan_feature_ids == (3,)


def test_uncovered_share_under_the_threshold_is_ok(tmp_path):
    """H590 leaves a 1 m strip: 100 m² = 0,5 % uncovered, under the 1 % threshold."""
    load_vector_layer("mineral_deposits", [deposit(box(X0, Y0, X0 + 200, Y0 + 100))], tmp_path)
    h590 = zone("H590_1", box(X0 - 10, Y0 - 10, X0 + 199, Y0 + 110), 3, 590)
    finding = only(evaluate(rule("G3"), make_plan(boundary(PLAN_BOUNDARY), h590), tmp_path))
    assert finding.severity == "ok"
    assert finding.measures["uncovered_pct"] == pytest.approx(0.5)


def test_only_the_part_inside_the_plan_boundary_is_measured(tmp_path):
    """The boundary cuts the deposit at X0 + 100: 10,000 m² inside, all of it uncovered."""
    load_vector_layer("mineral_deposits", [deposit(box(X0, Y0, X0 + 200, Y0 + 100))], tmp_path)
    cut = boundary(box(X0 - 100, Y0 - 100, X0 + 100, Y0 + 300))
    finding = only(evaluate(rule("G3"), make_plan(cut), tmp_path))
    assert finding.severity == "warning"
    assert finding.measures["deposit_area_m2"] == pytest.approx(10_000)
    assert finding.measures["uncovered_pct"] == pytest.approx(100.0)
    assert finding.plan_feature_ids == ()


def test_kommuneplan_without_deposits_is_ok(tmp_path):
    """A local deposit only: the area is ok and no protected deposit lies in the plan."""
    load_vector_layer(
        "mineral_deposits",
        [deposit(box(X0, Y0, X0 + 200, Y0 + 100), importance="lokal")],
        tmp_path,
    )
    findings = evaluate(rule("G3"), make_plan(boundary(PLAN_BOUNDARY), housing(2)), tmp_path)
    assert [(f.check, f.severity) for f in findings] == [
        ("deposit_overlap", "ok"),
        ("not_safeguarded", "ok"),
    ]


def test_missing_layer_is_unknown_never_ok(tmp_path):
    """Without the deposit layer: one unknown naming the layer, for the sterilising areas."""
    finding = only(evaluate(rule("G3"), make_plan(housing()), tmp_path))
    assert finding.severity == "unknown"
    assert "mineral_deposits" in finding.message
    assert finding.plan_feature_ids == (1,)
    assert finding.layer_refs[0].layer_id == "mineral_deposits"


def test_findings_follow_the_area_ids(tmp_path):
    """Findings come in plan-feature id order whatever order the plan lists them in."""
    load_vector_layer(
        "mineral_deposits", [deposit(box(X0 + 150, Y0, X0 + 250, Y0 + 100))], tmp_path
    )
    plan = make_plan(housing(2, "B2", x=X0 + 600), housing(1), plantype=REGULERING)
    findings = evaluate(rule("G3"), plan, tmp_path)
    assert [(f.plan_feature_ids, f.severity) for f in findings] == [
        ((1,), "conflict"),
        ((2,), "ok"),
    ]
    assert findings == evaluate(rule("G3"), plan, tmp_path)
