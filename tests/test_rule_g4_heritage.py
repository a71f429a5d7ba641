"""G4 (§6.2.2 guidelines 1 and 2): cultural heritage, hand-computed fixtures in the real PostGIS."""

import pytest
from shapely.geometry import box

from spatial.rules import g4_heritage  # noqa: F401 - registers the rule class
from tests.rule_fixtures import (
    area,
    boundary,
    evaluate,
    load_vector_layer,
    make_plan,
    rule,
    zone,
)

X0, Y0 = 575_000.0, 6_662_000.0  # Steinsletta, Hole, EPSG:25832
REGULERING = 35
FAR = box(X0 + 20_000, Y0 + 20_000, X0 + 20_100, Y0 + 20_100)  # nowhere near the plans
SITE = box(X0, Y0, X0 + 20, Y0 + 20)  # a 20 m x 20 m protected site


def site(
    geometry=SITE,
    category="lokalitet",
    name="Gravhaug ved Stein",
    heritage_id="T-1",
    vernetype="AUT",
):
    """A heritage_protected record."""
    return {
        "geometry": geometry,
        "name": name,
        "heritage_id": heritage_id,
        "category": category,
        "vernetype": vernetype,
    }


def environment(geometry, category="utvalgt kulturlandskap", name="Steinsletta"):
    """A cultural_environments record."""
    return {"geometry": geometry, "name": name, "category": category}


def heritage_plan_area(geometry, name="Skrubbmoen"):
    """A municipal_heritage_plans record."""
    return {
        "geometry": geometry,
        "name": name,
        "kommunenummer": "3310",
        "plan_name": "Kulturminneplan for Hole 2020",
    }


def load_all(folder, sites=(), environments=(), plans=()):
    """Load the three heritage layers; a layer given nothing gets one far-away feature."""
    load_vector_layer("heritage_protected", list(sites) or [site(FAR)], folder)
    load_vector_layer(
        "cultural_environments", list(environments) or [environment(FAR, name="Langt unna")], folder
    )
    load_vector_layer(
        "municipal_heritage_plans", list(plans) or [heritage_plan_area(FAR, "Langt unna")], folder
    )


def housing(x, y=Y0, width=100.0, height=20.0, fid=1, key="BFS1", code=1111, status=None):
    """A housing area with its south-west corner at (x, y)."""
    geometry = box(x, y, x + width, y + height)
    return area(key, geometry, fid, arealformal=code, arealbruksstatus=status)


def by_check(findings, check):
    return [f for f in findings if f.check == check]


def only(findings):
    assert len(findings) == 1, findings
    return findings[0]


def test_overlap_with_a_sikringssone_is_a_conflict(tmp_path):
    """3 m x 20 m of the 5 m safety zone (60 m²) is in the area; the site itself is 2 m off."""
    ring = box(X0 - 5, Y0 - 5, X0 + 25, Y0 + 25).difference(SITE)
    load_all(
        tmp_path,
        sites=[site(), site(ring, "sikringssone", "Sikringssone, Gravhaug ved Stein")],
    )
    plan = make_plan(housing(X0 + 22), plantype=REGULERING)
    finding = only(by_check(evaluate(rule("G4"), plan, tmp_path), "protected_overlap"))
    assert finding.severity == "conflict"
    assert finding.measures["overlap_m2"] == pytest.approx(60)
    assert finding.measures["overlap_pct"] == pytest.approx(3.0)
    assert finding.measures["heritage_categories"] == ["sikringssone"]
    assert finding.geometry.area == pytest.approx(60)
    assert finding.paragraph.startswith("Buskerudplanen 2026 §6.2.2")
    (ref,) = finding.layer_refs
    assert ref.layer_id == "heritage_protected" and ref.feature_ids == (2,)
    assert "«Sikringssone, Gravhaug ved Stein» (sikringssone, automatisk fredet)" in (
        finding.message
    )
    assert "I tillegg ligger «Gravhaug ved Stein»" in finding.message
    assert "fylkeskommunen" in finding.suggested_action


def test_development_40_m_from_a_protected_site_must_be_adapted(tmp_path):
    """SPEC example: 40 m from the site, inside the 50 m buffer: warning at 40 m."""
    load_all(tmp_path, sites=[site()])
    plan = make_plan(housing(X0 + 60), plantype=REGULERING)
    finding = only(by_check(evaluate(rule("G4"), plan, tmp_path), "protected_buffer"))
    assert finding.severity == "warning"
    assert finding.measures["distance_m"] == pytest.approx(40.0)
    assert finding.geometry.area == pytest.approx(10 * 20, rel=1e-6)  # X0+60..70 within 50 m
    assert "40 m" in finding.message and "tilpasses" in finding.message
    assert "fylkeskommunen (kulturarv)" in finding.suggested_action
    assert not by_check(evaluate(rule("G4"), plan, tmp_path), "protected_overlap")


@pytest.mark.parametrize("vernetype", ["IKKEV", "FJE", "OPP"])
def test_sites_not_protected_removed_or_lifted_are_passed_over(tmp_path, vernetype):
    """Riksantikvaren's data also holds unprotected, removed and delisted sites: building on
    them is no conflict; a listed (LIST) or unresolved (UAV) site still is."""
    load_all(tmp_path, sites=[site(vernetype=vernetype), site(FAR, heritage_id="T-2")])
    plan = make_plan(housing(X0 + 10), plantype=REGULERING)
    finding = only(evaluate(rule("G4"), plan, tmp_path))
    assert finding.severity == "ok" and finding.check == "protected_overlap"


@pytest.mark.parametrize("vernetype", ["LIST", "UAV"])
def test_listed_and_unresolved_sites_count(tmp_path, vernetype):
    load_all(tmp_path, sites=[site(vernetype=vernetype)])
    plan = make_plan(housing(X0 + 10), plantype=REGULERING)
    finding = only(by_check(evaluate(rule("G4"), plan, tmp_path), "protected_overlap"))
    assert finding.severity == "conflict"


def test_site_and_its_sikringssone_nearby_are_one_warning_at_the_nearest(tmp_path):
    """35 m from the site is 30 m from its 5 m safety zone: one warning at 30 m naming both."""
    ring = box(X0 - 5, Y0 - 5, X0 + 25, Y0 + 25).difference(SITE)
    load_all(
        tmp_path,
        sites=[site(), site(ring, "sikringssone", "Sikringssone, Gravhaug ved Stein")],
    )
    plan = make_plan(housing(X0 + 55), plantype=REGULERING)
    finding = only(by_check(evaluate(rule("G4"), plan, tmp_path), "protected_buffer"))
    assert finding.measures["distance_m"] == pytest.approx(30.0)
    assert finding.measures["heritage_distances_m"] == [30.0, 35.0]  # nearest first
    assert finding.layer_refs[0].feature_ids == (2, 1)
    assert "(sikringssone, automatisk fredet, 30 m unna)" in finding.message
    assert "(lokalitet, automatisk fredet, 35 m unna)" in finding.message


def test_development_60_m_from_a_protected_site_is_ok(tmp_path):
    """60 m is outside the 50 m buffer."""
    load_all(tmp_path, sites=[site()])
    plan = make_plan(housing(X0 + 80), plantype=REGULERING)
    finding = only(evaluate(rule("G4"), plan, tmp_path))
    assert finding.severity == "ok" and finding.check == "protected_overlap"
    assert finding.layer_refs[0].version == 1


def test_green_structure_and_existing_areas_are_not_assessed(tmp_path):
    """Green structure (3040) is no development; status 1 in a kommuneplan is not new."""
    load_all(tmp_path, sites=[site()])
    park = housing(X0 - 10, code=3040)
    regulering = only(evaluate(rule("G4"), make_plan(park, plantype=REGULERING), tmp_path))
    assert regulering.severity == "info" and regulering.check == "no_development_areas"
    existing = housing(X0 - 10, code=1110, status=1)
    findings = evaluate(rule("G4"), make_plan(existing), tmp_path)
    assert not by_check(findings, "protected_overlap")


PLAN_BOUNDARY = box(X0 - 100, Y0 - 100, X0 + 400, Y0 + 300)
UKL = box(X0, Y0, X0 + 200, Y0 + 100)  # 20,000 m²


def test_ukl_without_h570_in_a_kommuneplan_is_a_warning_with_the_uncovered_share(tmp_path):
    """No H570 at all: 20,000 m² (100 %) uncovered."""
    load_all(tmp_path, environments=[environment(UKL)])
    finding = only(evaluate(rule("G4"), make_plan(boundary(PLAN_BOUNDARY)), tmp_path))
    assert finding.severity == "warning" and finding.check == "no_consideration_zone"
    assert finding.measures["uncovered_m2"] == pytest.approx(20_000)
    assert finding.measures["uncovered_pct"] == pytest.approx(100.0)
    assert finding.geometry.area == pytest.approx(20_000)
    assert finding.layer_refs[0].layer_id == "cultural_environments"
    assert "«Steinsletta» (utvalgt kulturlandskap)" in finding.message
    assert "H570" in finding.suggested_action


def test_ukl_partly_under_h570_reports_the_uncovered_part(tmp_path):
    """H570 over the west quarter: 15,000 m² (75 %) uncovered; the zone is the plan feature."""
    load_all(tmp_path, environments=[environment(UKL)])
    h570 = zone("H570_1", box(X0 - 20, Y0 - 20, X0 + 50, Y0 + 120), 5, 570)
    finding = only(evaluate(rule("G4"), make_plan(boundary(PLAN_BOUNDARY), h570), tmp_path))
    assert finding.severity == "warning"
    assert finding.measures["uncovered_m2"] == pytest.approx(15_000)
    assert finding.measures["uncovered_pct"] == pytest.approx(75.0)
    assert finding.measures["covered_m2"] == pytest.approx(5_000)
    assert finding.plan_feature_ids == (5,)
    assert "15 000 m² (75,0 %)" in finding.message


def test_ukl_covered_by_h570_is_ok(tmp_path):
    """The twin: H570 over all of it."""
    load_all(tmp_path, environments=[environment(UKL)])
    h570 = zone("H570_1", box(X0 - 20, Y0 - 20, X0 + 220, Y0 + 120), 5, 570)
    finding = only(evaluate(rule("G4"), make_plan(boundary(PLAN_BOUNDARY), h570), tmp_path))
    assert finding.severity == "ok"
    assert finding.measures["uncovered_m2"] == 0
    assert finding.plan_feature_ids == (5,)


def test_h730_covers_a_protected_environment_but_not_an_ordinary_one(tmp_path):
    """A fredet kulturmiljø under H730 is ok; a municipal one under H730 only is not."""
    load_all(
        tmp_path,
        sites=[site(UKL, "fredet kulturmiljø", "Stein gård", "T-9")],
        plans=[heritage_plan_area(box(X0 + 250, Y0, X0 + 350, Y0 + 100))],
    )
    h730 = zone("H730_1", box(X0 - 20, Y0 - 20, X0 + 380, Y0 + 120), 5, 730)
    findings = evaluate(rule("G4"), make_plan(boundary(PLAN_BOUNDARY), h730), tmp_path)
    assert [(f.layer_refs[0].layer_id, f.severity) for f in findings] == [
        ("municipal_heritage_plans", "warning"),
        ("heritage_protected", "ok"),
    ]
    protected = findings[1]
    assert protected.measures["required_zones"] == ["H570", "H730"]
    assert "fredete kulturmiljøet «Stein gård»" in protected.message
    municipal = findings[0]
    assert municipal.measures["uncovered_pct"] == pytest.approx(100.0)
    assert "Kulturminneplan for Hole 2020" in municipal.message


def test_kommuneplan_without_cultural_environments_is_ok_per_checked_layer(tmp_path):
    """Nothing inside the boundary: one ok referencing the three layer versions."""
    load_all(tmp_path)
    finding = only(evaluate(rule("G4"), make_plan(boundary(PLAN_BOUNDARY)), tmp_path))
    assert finding.severity == "ok" and finding.check == "no_consideration_zone"
    assert sorted(ref.layer_id for ref in finding.layer_refs) == [
        "cultural_environments",
        "heritage_protected",
        "municipal_heritage_plans",
    ]


def test_missing_heritage_layer_is_unknown_never_ok(tmp_path):
    """Without heritage_protected, (a) is unknown; the UKL info is still given."""
    load_vector_layer("cultural_environments", [environment(FAR)], tmp_path)
    plan = make_plan(housing(X0 + 60), plantype=REGULERING)
    finding = only(evaluate(rule("G4"), plan, tmp_path))
    assert finding.severity == "unknown" and finding.check == "protected_overlap"
    assert "heritage_protected" in finding.message
    assert finding.plan_feature_ids == (1,)


def test_missing_layer_in_a_kommuneplan_is_unknown_for_its_part_only(tmp_path):
    """municipal_heritage_plans not loaded: unknown for it, the UKL is still checked."""
    load_vector_layer("heritage_protected", [site(FAR)], tmp_path)
    load_vector_layer("cultural_environments", [environment(UKL)], tmp_path)
    findings = evaluate(rule("G4"), make_plan(boundary(PLAN_BOUNDARY)), tmp_path)
    assert [(f.layer_refs[0].layer_id, f.severity) for f in findings] == [
        ("cultural_environments", "warning"),
        ("municipal_heritage_plans", "unknown"),
    ]
    assert "municipal_heritage_plans" in findings[1].message


def test_reguleringsplan_reaching_into_a_ukl_gets_an_info_with_the_overlap(tmp_path):
    """100 m x 100 m of a 200 m x 100 m housing area in Steinsletta: 10,000 m², 50 %."""
    load_all(
        tmp_path,
        environments=[
            environment(box(X0 + 100, Y0 - 100, X0 + 500, Y0 + 300)),
            environment(box(X0 - 300, Y0, X0 + 100, Y0 + 100), "regional interesse", "Bygda"),
        ],
    )
    plan = make_plan(housing(X0, height=100, width=200), plantype=REGULERING)
    findings = evaluate(rule("G4"), plan, tmp_path)
    info = only(by_check(findings, "environment_overlap"))
    assert info.severity == "info"
    assert info.measures["overlap_m2"] == pytest.approx(10_000)
    assert info.measures["overlap_pct"] == pytest.approx(50.0)
    assert info.measures["environment_names"] == ["Steinsletta"]  # regional interest: no info
    assert info.geometry.area == pytest.approx(10_000)
    assert "«Steinsletta» (utvalgt kulturlandskap)" in info.message
    assert only(by_check(findings, "protected_overlap")).severity == "ok"
