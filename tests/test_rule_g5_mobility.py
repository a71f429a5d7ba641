"""G5 (§6.1): centrality × development pressure, hand-computed fixtures in the real PostGIS.

Layout (EPSG:25832, around Drammen): a større tettsted "Storby" (12,000 inhabitants) 3 km x 3 km
at X0, Y0; a mindre tettsted "Småby" (4,999) 1 km x 1 km at X0 + 10 km; open land at X0 + 20 km.
Development areas are 100 m x 100 m squares; each test puts one hub due east of an area's east
edge, level with its middle, so the area-to-hub distance is exactly the chosen offset.
"""

import pytest
from shapely.geometry import Point, box

import spatial.rules.g5_mobility  # noqa: F401 - registers the rule class until the catalog does
from spatial.rules.ruleset import RuleSetError
from tests.rule_fixtures import area, evaluate, load_vector_layer, make_plan, rule

X0, Y0 = 570_000.0, 6_625_000.0
LARGE = box(X0, Y0, X0 + 3_000, Y0 + 3_000)
SMALL = box(X0 + 10_000, Y0, X0 + 11_000, Y0 + 1_000)
IN_LARGE = (X0 + 1_000, Y0 + 1_000)
IN_SMALL = (X0 + 10_400, Y0 + 400)
SPREAD = (X0 + 20_000, Y0 + 5_000)

STORBY, OMLAND, YTRE = "storbyområde", "omland/forstedsområde", "ytre del av regionen"
HOUSING, BUSINESS, RETAIL, PUBLIC = 1110, 1300, 1150, 1160


def load_tettsteder(folder, small_population=4_999):
    load_vector_layer(
        "tettsteder",
        [
            {"geometry": LARGE, "name": "Storby", "population": 12_000},
            {"geometry": SMALL, "name": "Småby", "population": small_population},
        ],
        folder,
    )


def load_hub_east_of(corner, offset, folder, name="Stasjonen"):
    """A hub `offset` metres east of the east edge of the 100 m square at `corner`."""
    x, y = corner
    hub = Point(x + 100 + offset, y + 50)
    load_vector_layer(
        "transport_hubs", [{"geometry": hub, "name": name, "hub_type": "jernbanestasjon"}], folder
    )


def dev(corner, code=HOUSING, key="B1", fid=1, status=2, width=100.0, **properties):
    """A development area: a square (or `width` m wide rectangle) at `corner`."""
    x, y = corner
    return area(
        key,
        box(x, y, x + width, y + 100),
        fid,
        arealformal=code,
        arealbruksstatus=status,
        properties=properties,
    )


def only(findings):
    assert len(findings) == 1, findings
    return findings[0]


def requirements(finding):
    """The requirement checks as (name, limit, measured, met) tuples."""
    return [
        (r["requirement"], r["limit"], r["measured"], r["met"])
        for r in finding.measures["requirements"]
    ]


NINE_CELLS = [
    # centrality class, where, use code, hub offset m, cell, severity, requirements
    (
        1,
        IN_LARGE,
        HOUSING,
        1_200,
        f"{STORBY} × større tettsted",
        "conflict",
        [
            ("max_hub_distance_m", 1000, 1200, False),
            ("inside_tettsted", 50, 100, True),
            ("min_utilisation_pct_bra", 100, None, None),
        ],
    ),
    (
        1,
        IN_SMALL,
        HOUSING,
        1_400,
        f"{STORBY} × mindre tettsted",
        "ok",
        [
            ("max_hub_distance_m", 1500, 1400, True),
            ("inside_tettsted", 50, 100, True),
            ("min_utilisation_pct_bra", 60, None, None),
        ],
    ),
    (
        1,
        SPREAD,
        HOUSING,
        500,
        f"{STORBY} × spredtbygd",
        "conflict",
        [("max_hub_distance_m", 2000, 500, True), ("inside_tettsted", 50, 0, False)],
    ),
    (
        2,
        IN_LARGE,
        BUSINESS,
        2_400,
        f"{OMLAND} × større tettsted",
        "ok",
        [("max_hub_distance_m", 2500, 2400, True), ("inside_tettsted", 50, 100, True)],
    ),
    (
        2,
        IN_SMALL,
        BUSINESS,
        3_100,
        f"{OMLAND} × mindre tettsted",
        "warning",
        [("max_hub_distance_m", 3000, 3100, False)],
    ),
    (
        2,
        SPREAD,
        HOUSING,
        4_900,
        f"{OMLAND} × spredtbygd",
        "ok",
        [("max_hub_distance_m", 5000, 4900, True)],
    ),
    (
        4,
        IN_LARGE,
        RETAIL,
        1_001,
        f"{YTRE} × større tettsted",
        "warning",
        [("max_hub_distance_m", 1000, 1001, False), ("inside_tettsted", 50, 100, True)],
    ),
    (
        4,
        IN_SMALL,
        PUBLIC,
        60_000,  # beyond the 50 km search radius: found in the county-wide step
        f"{YTRE} × mindre tettsted",
        "ok",
        [("inside_tettsted", 50, 100, True)],
    ),
    (
        4,
        SPREAD,
        RETAIL,
        300,
        f"{YTRE} × spredtbygd",
        "info",
        [("inside_tettsted", 50, 0, False)],
    ),
]


@pytest.mark.parametrize(
    ("centrality_class", "where", "code", "offset", "cell", "severity", "expected"),
    NINE_CELLS,
    ids=[c[4] for c in NINE_CELLS],
)
def test_each_of_the_nine_cells(
    tmp_path, centrality_class, where, code, offset, cell, severity, expected
):
    load_tettsteder(tmp_path)
    load_hub_east_of(where, offset, tmp_path)
    plan = make_plan(dev(where, code), centrality_class=centrality_class)
    finding = only(evaluate(rule("G5"), plan, tmp_path))
    assert finding.check == "matrix_cell"
    assert finding.measures["cell"] == cell
    assert finding.severity == severity
    assert requirements(finding) == expected
    assert finding.measures["hub_distance_m"] == offset
    assert finding.measures["nearest_hub"] == "Stasjonen"
    assert finding.plan_feature_ids == (1,)
    assert finding.paragraph.startswith("Buskerudplanen 2026 §6.1")
    assert f"«{cell}»" in finding.message
    refs = {ref.layer_id: ref for ref in finding.layer_refs}
    assert refs["transport_hubs"].version == 1 and len(refs["transport_hubs"].feature_ids) == 1
    assert refs["tettsteder"].version == 1
    if severity == "ok":
        assert finding.geometry is None
    else:
        assert finding.geometry.area == pytest.approx(10_000)


def test_measures_and_message_of_an_unmet_cell(tmp_path):
    """Storby × større tettsted, housing 1,200 m from the hub: conflict, said in bokmål."""
    load_tettsteder(tmp_path)
    load_hub_east_of(IN_LARGE, 1_200, tmp_path)
    plan = make_plan(dev(IN_LARGE), centrality_class=1)
    finding = only(evaluate(rule("G5"), plan, tmp_path))
    measures = finding.measures
    assert measures["centrality"] == STORBY and measures["centrality_class"] == 1
    assert measures["centrality_overridden"] is False
    assert measures["pressure"] == "større tettsted"
    assert measures["use"] == "housing"
    assert measures["tettsted"] == "Storby" and measures["tettsted_population"] == 12_000
    assert measures["inside_tettsted_pct"] == 100
    assert measures["nearest_hub_type"] == "jernbanestasjon"
    assert measures["requirements"][0] == {
        "requirement": "max_hub_distance_m",
        "limit": 1000,
        "measured": 1200,
        "unit": "m",
        "met": False,
        "status": "not met",
    }
    assert "B1 (1110), bolig, ligger i ruten" in finding.message
    assert "i tettstedet Storby med 12 000 innbyggere" in finding.message
    assert "Avstand til nærmeste kollektivknutepunkt (Stasjonen): 1 200 m" in finding.message
    assert "krav høyst 1 000 m): ikke oppfylt" in finding.message
    assert "Andel innenfor tettsted: 100,0 % (krav minst 50 %): oppfylt" in finding.message
    assert "ikke angitt i planen (krav minst 100 %-BRA): ikke vurdert" in finding.message
    assert "1 av 2 vurderte krav er ikke oppfylt" in finding.message
    action = finding.suggested_action
    assert action.startswith("Flytt boligområdet nærmere kollektivknutepunktet (høyst 1 000 m)")
    assert "Angi minste utnytting (%-BRA) i bestemmelsene" in action
    assert "innsigelse" in action


def test_population_at_the_threshold_is_a_larger_tettsted(tmp_path):
    """5,000 inhabitants is større tettsted (>= 5,000): ytre × større, housing within 2.5 km."""
    load_tettsteder(tmp_path, small_population=5_000)
    load_hub_east_of(IN_SMALL, 2_000, tmp_path)
    finding = only(evaluate(rule("G5"), make_plan(dev(IN_SMALL)), tmp_path))
    assert finding.measures["cell"] == f"{YTRE} × større tettsted"
    assert finding.measures["tettsted"] == "Småby"
    assert finding.severity == "ok"


def test_pressure_follows_the_representative_point_and_the_share_counts_separately(tmp_path):
    """40 m of a 100 m wide retail area inside Storby: spredtbygd, 40 % inside, not met."""
    load_tettsteder(tmp_path)
    edge = X0 + 3_000  # Storby's east edge
    load_hub_east_of((edge - 40, Y0 + 1_000), 500, tmp_path)
    plan = make_plan(dev((edge - 40, Y0 + 1_000), RETAIL))
    finding = only(evaluate(rule("G5"), plan, tmp_path))
    assert finding.measures["pressure"] == "spredtbygd"
    assert finding.measures["tettsted"] is None
    assert finding.measures["inside_tettsted_pct"] == pytest.approx(40.0)
    assert requirements(finding) == [("inside_tettsted", 50, 40, False)]
    assert finding.severity == "info"
    assert "utenfor tettsted" in finding.message
    assert "innenfor et tettsted" in finding.suggested_action
    tettsted_ref = next(r for r in finding.layer_refs if r.layer_id == "tettsteder")
    assert len(tettsted_ref.feature_ids) == 1  # Storby, which holds the 40 %


def test_sixty_percent_inside_is_inside(tmp_path):
    """60 m of 100 m inside Storby: større tettsted, 60 % inside, met; hub 500 m: ok."""
    load_tettsteder(tmp_path)
    corner = (X0 + 3_000 - 60, Y0 + 1_000)
    load_hub_east_of(corner, 500, tmp_path)
    finding = only(evaluate(rule("G5"), make_plan(dev(corner, RETAIL)), tmp_path))
    assert finding.measures["cell"] == f"{YTRE} × større tettsted"
    assert requirements(finding) == [
        ("max_hub_distance_m", 1000, 500, True),
        ("inside_tettsted", 50, 60, True),
    ]
    assert finding.severity == "ok" and finding.suggested_action == "Ingen."


def test_centrality_override_for_the_municipality(tmp_path):
    """Class 4 is ytre (2.5 km allowed, ok); overridden to storby the 1.2 km hub is too far."""
    load_tettsteder(tmp_path)
    load_hub_east_of(IN_LARGE, 1_200, tmp_path)
    plan = make_plan(dev(IN_LARGE), centrality_class=4, kommunenummer="3301")
    plain = only(evaluate(rule("G5"), plan, tmp_path))
    assert plain.measures["cell"] == f"{YTRE} × større tettsted" and plain.severity == "ok"
    overridden = rule("G5", centrality_overrides={3301: STORBY})  # YAML gives an int key
    finding = only(evaluate(overridden, plan, tmp_path))
    assert finding.measures["cell"] == f"{STORBY} × større tettsted"
    assert finding.measures["centrality_overridden"] is True
    assert finding.severity == "conflict"
    assert "overstyring for kommune 3301" in finding.message


@pytest.mark.parametrize(
    ("properties", "measured", "met", "severity"),
    [
        ({"utnyttingstype": 18, "utnyttingstall": 80}, 80, False, "conflict"),
        ({"Utnyttingstype": "18", "Utnyttingstall": "100"}, 100, True, "ok"),
        ({"utnytting": {"utnyttingstype": 18, "utnyttingstall": 120}}, 120, True, "ok"),
        ({"%-BRA": 150}, 150, True, "ok"),
        ({"prosent_bra": "90,5"}, 90.5, False, "conflict"),
        ({"utnyttingstype": 2, "utnyttingstall": 30}, None, None, "ok"),  # %-BYA: not %-BRA
    ],
)
def test_utilisation_where_the_plan_states_it(tmp_path, properties, measured, met, severity):
    """Storby × større housing, hub 500 m: only the stated %-BRA decides (minimum 100)."""
    load_tettsteder(tmp_path)
    load_hub_east_of(IN_LARGE, 500, tmp_path)
    plan = make_plan(dev(IN_LARGE, **properties), centrality_class=1)
    finding = only(evaluate(rule("G5"), plan, tmp_path))
    assert requirements(finding)[2] == ("min_utilisation_pct_bra", 100, measured, met)
    assert finding.measures["utilisation_pct_bra"] == measured
    assert finding.severity == severity
    if met is False:
        assert "Øk minste utnytting i bestemmelsene til minst 100 %-BRA" in (
            finding.suggested_action
        )


def test_utilisation_not_stated_is_not_judged_and_does_not_decide(tmp_path):
    """All measured requirements met, %-BRA not stated: ok, with advice to state it."""
    load_tettsteder(tmp_path)
    load_hub_east_of(IN_LARGE, 500, tmp_path)
    plan = make_plan(dev(IN_LARGE), centrality_class=1)
    finding = only(evaluate(rule("G5"), plan, tmp_path))
    assert finding.severity == "ok"
    utilisation = finding.measures["requirements"][2]
    assert utilisation["met"] is None and utilisation["status"] == "not stated"
    assert "De vurderte kravene i ruten er oppfylt" in finding.message
    assert finding.suggested_action.startswith("Angi minste utnytting (%-BRA) i bestemmelsene")


def test_cell_without_requirements_for_the_use_is_ok(tmp_path):
    """Ytre × spredtbygd asks nothing of housing: ok, still reporting the nearest hub."""
    load_tettsteder(tmp_path)
    load_hub_east_of(SPREAD, 7_000, tmp_path)
    finding = only(evaluate(rule("G5"), make_plan(dev(SPREAD)), tmp_path))
    assert finding.severity == "ok" and finding.measures["requirements"] == []
    assert finding.measures["hub_distance_m"] == 7_000
    assert "stiller ingen krav til bolig" in finding.message


def test_nearest_of_several_hubs_with_ties_to_the_lowest_key(tmp_path):
    """Hubs 900 m east and west and 3 km north: 900 m; the tie goes to key 'A-west'."""
    load_tettsteder(tmp_path)
    x, y = IN_LARGE
    load_vector_layer(
        "transport_hubs",
        [
            {"geometry": Point(x + 1_000, y + 50), "id": "B-east", "name": "Øst"},
            {"geometry": Point(x - 900, y + 50), "id": "A-west", "name": "Vest"},
            {"geometry": Point(x + 50, y + 3_100), "id": "C-north", "name": "Nord"},
        ],
        tmp_path,
    )
    finding = only(evaluate(rule("G5"), make_plan(dev(IN_LARGE)), tmp_path))
    assert finding.measures["hub_distance_m"] == 900
    assert finding.measures["nearest_hub"] == "Vest"
    hubs = next(r for r in finding.layer_refs if r.layer_id == "transport_hubs")
    assert hubs.feature_keys == ("A-west",)


def test_hub_inside_the_area_is_at_distance_zero(tmp_path):
    load_tettsteder(tmp_path)
    x, y = IN_LARGE
    load_vector_layer(
        "transport_hubs", [{"geometry": Point(x + 50, y + 50), "name": "Midt"}], tmp_path
    )
    finding = only(evaluate(rule("G5"), make_plan(dev(IN_LARGE)), tmp_path))
    assert finding.measures["hub_distance_m"] == 0


def test_one_finding_per_area_in_plan_order(tmp_path):
    """Two areas, two findings, each naming its own area."""
    load_tettsteder(tmp_path)
    load_hub_east_of(IN_LARGE, 500, tmp_path)
    plan = make_plan(
        dev(IN_LARGE, key="B1", fid=1),
        dev(SPREAD, RETAIL, key="F1", fid=2),
        centrality_class=2,
    )
    findings = evaluate(rule("G5"), plan, tmp_path)
    assert [f.plan_feature_ids for f in findings] == [(1,), (2,)]
    assert [f.measures["cell"] for f in findings] == [
        f"{OMLAND} × større tettsted",
        f"{OMLAND} × spredtbygd",
    ]
    # The hub is at (X0 + 1,600, Y0 + 1,050); F1's south-west corner is 18,400 m east and
    # 3,950 m north of it: sqrt(18,400² + 3,950²) = 18,819.2 m.
    assert findings[1].measures["hub_distance_m"] == pytest.approx(18_819.2, abs=0.05)
    assert findings == evaluate(rule("G5"), plan, tmp_path)  # deterministic


def test_missing_tettsteder_is_one_unknown_for_all_areas(tmp_path):
    load_hub_east_of(IN_LARGE, 500, tmp_path)
    plan = make_plan(dev(IN_LARGE, fid=1), dev(SPREAD, key="B2", fid=2))
    finding = only(evaluate(rule("G5"), plan, tmp_path))
    assert finding.severity == "unknown"
    assert finding.plan_feature_ids == (1, 2)
    assert "tettsteder" in finding.message
    assert [r.layer_id for r in finding.layer_refs] == ["tettsteder"]


def test_missing_hubs_is_unknown_never_ok(tmp_path):
    """Ytre × spredtbygd housing would be ok without any hub; still unknown without the layer."""
    load_tettsteder(tmp_path)
    finding = only(evaluate(rule("G5"), make_plan(dev(SPREAD)), tmp_path))
    assert finding.severity == "unknown"
    assert "transport_hubs" in finding.message


def test_both_layers_missing_gives_an_unknown_per_layer(tmp_path):
    findings = evaluate(rule("G5"), make_plan(dev(IN_LARGE)), tmp_path)
    assert [f.severity for f in findings] == ["unknown", "unknown"]
    assert [f.layer_refs[0].layer_id for f in findings] == ["tettsteder", "transport_hubs"]


def test_existing_kommuneplan_areas_and_other_purposes_are_skipped(tmp_path):
    """Status 1 housing and status 2 LNFR (5100): no development areas, one info finding."""
    load_tettsteder(tmp_path)
    load_hub_east_of(IN_LARGE, 500, tmp_path)
    plan = make_plan(dev(IN_LARGE, status=1), dev(SPREAD, 5100, key="L1", fid=2))
    finding = only(evaluate(rule("G5"), plan, tmp_path))
    assert finding.severity == "info" and finding.check == "no_development_areas"


def test_only_new_and_status_less_areas_of_a_kommuneplan_are_checked(tmp_path):
    load_tettsteder(tmp_path)
    load_hub_east_of(IN_LARGE, 500, tmp_path)
    plan = make_plan(
        dev(IN_LARGE, key="B1", fid=1, status=1),
        dev(IN_LARGE, key="B2", fid=2, status=2),
        dev(IN_LARGE, key="B3", fid=3, status=None),
    )
    findings = evaluate(rule("G5"), plan, tmp_path)
    assert [f.plan_feature_ids for f in findings] == [(2,), (3,)]


def test_reguleringsplan_checks_every_development_area(tmp_path):
    """A detaljregulering (plantype 35) has no status: frittliggende boliger (1111) checked."""
    load_tettsteder(tmp_path)
    load_hub_east_of(IN_LARGE, 500, tmp_path)
    plan = make_plan(dev(IN_LARGE, 1111, status=None), plantype=35, centrality_class=1)
    finding = only(evaluate(rule("G5"), plan, tmp_path))
    assert finding.measures["use"] == "housing" and finding.severity == "ok"


def test_matrix_must_have_all_nine_cells():
    full = rule("G5").model_dump()["matrix"]
    del full[YTRE]["spredtbygd"]
    with pytest.raises(RuleSetError, match="all 9 cells.*ytre del av regionen × spredtbygd"):
        rule("G5", matrix=full)


def test_matrix_requirements_must_name_known_uses():
    full = rule("G5").model_dump()["matrix"]
    full[STORBY]["spredtbygd"]["requirements"]["cabins"] = {"max_hub_distance_m": 100}
    with pytest.raises(RuleSetError, match="cabins"):
        rule("G5", matrix=full)


def test_unknown_centrality_names_are_rejected():
    with pytest.raises(RuleSetError, match="centrality_overrides"):
        rule("G5", centrality_overrides={"3301": "storby"})
