"""Plan area keys (issue 18): lokalId, then feltnavn, feature id and position, each used only
where no other area of the plan shares it; people still read the feltnavn."""

from shapely.geometry import MultiPolygon, box

from spatial.inputs.formats import ReadLimits, read_plan
from spatial.messages import english
from spatial.plan_model import PlanArea, area_keys, area_name
from tests.plans import cabin_area, collection, encode
from tests.unit.test_plan_formats import GML_FILE, SOSI_FILE, prepare

LIMITS = ReadLimits(max_features=1000)


def area(position: int, lokal_id=None, feltnavn=None, source_id=None) -> PlanArea:
    return PlanArea(
        position=position,
        source_id=source_id,
        kind="arealformal",
        geometry=MultiPolygon([box(0, 0, 1, 1)]),
        properties={},
        feltnavn=feltnavn,
        lokal_id=lokal_id,
    )


def test_lokal_id_comes_first_then_feltnavn_feature_id_and_position():
    keys, notes = area_keys(
        [
            area(0, lokal_id="a-1", feltnavn="BFR1", source_id="f1"),
            area(1, feltnavn="BFR2", source_id="f2"),
            area(2, source_id="f3"),
            area(3),
        ]
    )
    assert keys == ["a-1", "BFR2", "f3", "#3"]
    assert notes == []


def test_a_shared_value_is_never_a_key():
    """Two areas under one key would merge their findings, so shared values are passed over."""
    keys, notes = area_keys(
        [
            area(0, lokal_id="dup", feltnavn="BFR1", source_id="f1"),
            area(1, lokal_id="dup", feltnavn="BFR2", source_id="f2"),
            area(2, feltnavn="B1", source_id="f3"),
            area(3, feltnavn="B1", source_id="f3"),
            area(4, feltnavn="B1", source_id="f5"),
        ]
    )
    assert keys == ["BFR1", "BFR2", "#2", "#3", "f5"]
    assert len(notes) == 1 and "lokalId 'dup' is given to 2 areas" in english(notes[0])
    assert "lokalId «dup» er gitt til 2 områder" in notes[0].nb


def test_people_read_the_feltnavn():
    assert area_name("BFR1 Åsbråten", "gml-7", 3) == "BFR1 Åsbråten"
    assert area_name(None, "gml-7", 3) == "gml-7"
    assert area_name(None, None, 3) == "#3"


def test_plan_gml_identifikasjon_lokal_id_is_the_key():
    prepared = prepare(read_plan(GML_FILE.read_bytes(), GML_FILE.name, None, LIMITS))
    by_name = {a.feltnavn: a for a in prepared.areas}
    assert by_name["BFR1"].lokal_id == "5f0c1d8e-7a43-4c55-9f6d-3326a0000003"
    assert by_name["BFR1"].key == by_name["BFR1"].lokal_id
    # GF1 carries no identifikasjon: its feltnavn is its key.
    assert by_name["GF1"].lokal_id is None and by_name["GF1"].key == "GF1"


def test_sosi_identifikasjon_lokalid_is_the_key():
    prepared = prepare(read_plan(SOSI_FILE.read_bytes(), SOSI_FILE.name, None, LIMITS))
    keyed = [a for a in prepared.areas if a.lokal_id]
    assert keyed, "the fixture gives ..IDENTIFIKASJON ...LOKALID"
    assert all(a.key == a.lokal_id for a in keyed)


def test_geojson_lokal_id_flat_or_in_an_identifikasjon_object():
    flat = cabin_area("BFR1")
    flat["properties"]["lokalId"] = "flat-1"
    nested = cabin_area("BFR2")
    nested["properties"]["identifikasjon"] = {"lokalId": "nested-2", "navnerom": "x"}
    odd = cabin_area("BFR3")
    odd["properties"]["lokalId"] = {"not": "an id"}
    body = encode(collection(flat, nested, odd))
    prepared = prepare(read_plan(body, "plan.geojson", None, LIMITS))
    assert [(a.lokal_id, a.key) for a in prepared.areas] == [
        ("flat-1", "flat-1"),
        ("nested-2", "nested-2"),
        (None, "BFR3"),
    ]


def test_a_shared_lokal_id_is_reported_in_the_upload_report():
    first, second = cabin_area("BFR1"), cabin_area("BFR2")
    for feature in (first, second):
        feature["properties"]["lokalId"] = "same"
    prepared = prepare(read_plan(encode(collection(first, second)), "p.geojson", None, LIMITS))
    assert [a.key for a in prepared.areas] == ["BFR1", "BFR2"]
    messages = [english(w.message) for w in prepared.report.warnings]
    assert any("lokalId 'same' is given to 2 areas" in m for m in messages)
