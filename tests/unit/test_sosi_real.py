"""SOSI files as planning software writes them (issue 18): hensynssoner under their group
names, character sets that disagree with ..TEGNSETT, islands given as another .FLATE, and
files cut short. Each file is generated here, small, and read as the API reads it."""

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from shapely.geometry import box

from spatial.errors import InvalidInputError, MalformedInputError
from spatial.inputs.formats import detect_format
from spatial.inputs.sosi import read_sosi
from spatial.messages import english
from spatial.plan_model import Z_DROPPED_WARNING
from tests.data.variants import HENSYN_GROUPS
from tests.unit.test_plan_formats import SOSI_FILE, by_id, prepare


@contextmanager
def raises_english(error: type[Exception], pattern: str) -> Iterator[pytest.ExceptionInfo]:
    """pytest.raises, matching `pattern` in the English of the error's detail."""
    with pytest.raises(error) as caught:
        yield caught
    detail = english(caught.value.detail)
    assert re.search(pattern, detail), detail


LEVELS = {"Rp": ("RP", 35), "Kp": ("KP", 20)}


def square(serial: int, west: int, south: int, size: int) -> str:
    """A closed .KURVE around a square, in centimetres (ENHET 0.01, ORIGO-NØ 0 0)."""
    corners = [(west, south), (west + size, south), (west + size, south + size)]
    corners += [(west, south + size), (west, south)]
    points = "\n".join(f"{north * 100} {east * 100}" for east, north in corners)
    return f".KURVE {serial}:\n..OBJTYPE Grense\n..NØ\n{points}\n"


def plan(
    level: str = "Rp",
    zone: str = "..RPSIKRING 140",
    zone_type: str = "RpSikringSone",
    charset: str | None = "UTF-8",
    zone_ref: str = "..REF :13",
    extra: str = "",
    name: str = "BFS1 Åsbråten",
) -> str:
    """A plan of three areas (boundary, arealformål, hensynssone) near Sørbråten, Hole."""
    prefix, plantype = LEVELS[level]
    tegnsett = f"..TEGNSETT {charset}\n" if charset else ""
    ident = "..NASJONALAREALPLANID\n...KOMM 3310\n...PLANID 2026101\n"
    return (
        f".HODE\n{tegnsett}..TRANSPAR\n...KOORDSYS 22\n...ORIGO-NØ 0 0\n...ENHET 0.01\n"
        "..SOSI-VERSJON 4.5\n"
        f".FLATE 1:\n..OBJTYPE {level}Område\n{ident}..PLANTYPE {plantype}\n..PLANSTAT 2\n"
        '..PLANNAVN "Sørbråten"\n..REF :11\n..NØ\n666005000 57005000\n'
        f".FLATE 2:\n..OBJTYPE {level}ArealformålOmråde\n..{prefix}AREALFORMÅL 1120\n"
        f'..FELTNAVN "{name}"\n..AREALBRUKSSTATUS 2\n{ident}..REF :12\n'
        f'.FLATE 3:\n..OBJTYPE {zone_type}\n{zone}\n..HENSYNSONENAVN "H_1"\n{ident}{zone_ref}\n'
        f"{extra}"
        + square(11, 570000, 6660000, 100)
        + square(12, 570010, 6660010, 30)
        + square(13, 570050, 6660050, 20)
        + ".SLUTT\n"
    )


def zone_of(body: bytes):
    prepared = prepare(read_sosi(body, 100))
    return {a.source_id: a for a in prepared.areas}["FLATE 3"], prepared


# --- 1. hensynssoner under every group name, RP and KP ----------------------------------------


@pytest.mark.parametrize("level", ["Rp", "Kp"])
@pytest.mark.parametrize(("stem", "attribute", "code"), HENSYN_GROUPS)
def test_every_zone_group_name_is_read(level, stem, attribute, code):
    prefix = LEVELS[level][0]
    text = plan(level, f"..{prefix}{attribute} {code}", f"{level}{stem}Sone")
    zone, _ = zone_of(text.encode("utf-8"))
    assert (zone.kind, zone.hensynssone, zone.hensynssone_navn) == ("hensynssone", code, "H_1")


def test_zone_code_as_a_group_with_its_leaf():
    # ..RPSIKRING as a group holding ...SIKRING (as some converters nest it)
    text = plan(zone="..RPSIKRING\n...SIKRING 140")
    zone, _ = zone_of(text.encode("utf-8"))
    assert zone.hensynssone == 140


def test_unknown_zone_code_is_reported_not_guessed():
    zone, prepared = zone_of(plan(zone="..RPFARE 999").encode("utf-8"))
    assert zone.hensynssone is None
    assert any("999" in english(p.message) for p in prepared.report.unknown_codes)


def test_zone_without_code_is_refused():
    with raises_english(InvalidInputError, "without a zone code"):
        zone_of(plan(zone="..RPPÅSKRIFTTYPE 1").encode("utf-8"))


# --- 2. the character set checked against the bytes -------------------------------------------


def warnings_of(body: bytes) -> list[str]:
    return [english(p.message) for p in read_sosi(body, 100).warnings]


def test_declared_charset_that_matches_gives_no_warning():
    text = plan(charset="ISO8859-10")
    assert warnings_of(text.encode("iso8859_10")) == []
    assert warnings_of(plan(charset="UTF-8").encode("utf-8")) == []
    assert warnings_of(b"\xef\xbb\xbf" + plan(charset="UTF-8").encode("utf-8")) == []


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_utf8_declared_iso8859_10_is_read_as_utf8_with_a_warning(bom):
    body = bom + plan(charset="ISO8859-10").encode("utf-8")
    source = read_sosi(body, 100)
    [warning] = source.warnings
    message = english(warning.message)
    assert "..TEGNSETT ISO8859-10" in message and "UTF-8" in message
    features = by_id(source)
    assert features["FLATE 2"].properties["OBJTYPE"] == "RpArealformålOmråde"
    assert features["FLATE 2"].properties["FELTNAVN"] == "BFS1 Åsbråten"
    prepared = prepare(source)
    assert {a.kind for a in prepared.areas} == {"planomrade", "arealformal", "hensynssone"}
    assert [p.message for p in prepared.report.warnings] == [warning.message]


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
def test_a_file_saved_as_utf16_is_read_with_a_warning_naming_tegnsett(codec):
    """Windows editors save "Unicode" as UTF-16 (with or without a byte-order mark), which
    ..TEGNSETT cannot name: read as UTF-16, told so, found without a filename too."""
    body = plan(charset="ISO8859-10").encode(codec)
    assert detect_format(None, None, body) == "sosi"
    source = read_sosi(body, 100)
    [warning] = source.warnings
    assert "UTF-16" in english(warning.message) and "..TEGNSETT" in english(warning.message)
    assert "ISO8859-10" in english(warning.message)
    assert by_id(source)["FLATE 2"].properties["FELTNAVN"] == "BFS1 Åsbråten"
    assert {a.kind for a in prepare(source).areas} == {"planomrade", "arealformal", "hensynssone"}


def test_tegnsett_in_a_comment_is_no_declaration():
    """'!' starts a comment (SOSI del 1): only the real ..TEGNSETT line counts."""
    text = plan(charset="ISO8859-10").replace(".HODE\n", ".HODE\n! ..TEGNSETT UTF-8 (gammel)\n")
    source = read_sosi(text.encode("iso8859_10"), 100)
    assert source.warnings == []
    assert by_id(source)["FLATE 2"].properties["FELTNAVN"] == "BFS1 Åsbråten"
    commented = plan(charset="ISO8859-10").replace("..TEGNSETT", "!..TEGNSETT")
    [warning] = read_sosi(commented.encode("iso8859_10"), 100).warnings
    assert "no ..TEGNSETT" in english(warning.message)


def test_iso8859_10_declared_utf8_is_refused_naming_tegnsett():
    with pytest.raises(MalformedInputError) as raised:
        read_sosi(plan(charset="UTF-8").encode("iso8859_10"), 100)
    detail = english(raised.value.detail)
    assert "..TEGNSETT UTF-8" in detail and "line" in detail


def test_bom_with_8bit_bytes_is_refused():
    body = b"\xef\xbb\xbf" + plan(charset="ISO8859-10").encode("iso8859_10")
    with raises_english(MalformedInputError, "TEGNSETT ISO8859-10"):
        read_sosi(body, 100)


def test_dosn8_bytes_declared_iso8859_10_are_refused():
    body = plan(charset="ISO8859-10").encode("cp865")  # Ø is 0x9D, a C1 control in ISO 8859
    with raises_english(MalformedInputError, r"TEGNSETT ISO8859-10 but byte 0x9D on line 5"):
        read_sosi(body, 100)


@pytest.mark.parametrize(
    ("encoding", "read_as"),
    [("utf-8", "UTF-8"), ("iso8859_10", "ISO8859-10"), ("cp865", "DOSN8")],
)
def test_missing_tegnsett_with_non_ascii_is_read_with_a_warning(encoding, read_as):
    source = read_sosi(plan(charset=None).encode(encoding), 100)
    [warning] = source.warnings
    assert "no ..TEGNSETT" in english(warning.message) and read_as in english(warning.message)
    assert by_id(source)["FLATE 2"].properties["FELTNAVN"] == "BFS1 Åsbråten"
    assert by_id(source)["FLATE 3"].properties["SIKRING"] == 140


def test_missing_tegnsett_plain_ascii_and_nd7():
    ascii_plan = plan(charset=None).translate(str.maketrans("ÆØÅæøå", "EOAeoa"))
    [warning] = warnings_of(ascii_plan.encode("ascii"))
    assert "no ..TEGNSETT" in warning and "ASCII" in warning
    nd7 = plan(charset=None).translate(str.maketrans("ÆØÅæøå", "[\\]{|}"))
    source = read_sosi(nd7.encode("ascii"), 100)
    assert "ND7" in english(source.warnings[0].message)
    assert by_id(source)["FLATE 2"].properties["FELTNAVN"] == "BFS1 Åsbråten"


def test_missing_tegnsett_with_unclear_bytes_is_refused():
    body = plan(charset=None, name="BFS1 Ærø §").encode("iso8859_10")
    with raises_english(MalformedInputError, r"no \.\.TEGNSETT.*0xA7 on line"):
        read_sosi(body, 100)


# --- 5. islands given by reference to another .FLATE ------------------------------------------


def test_island_by_reference_to_another_flate():
    # FLATE 2 has FLATE 3 (the hensynssone) as its island: ..REF :12 (:3)
    text = plan(zone_ref="..REF :13").replace("..REF :12\n", "..REF :12 (:3)\n")
    text = text.replace(square(12, 570010, 6660010, 30), square(12, 570040, 6660040, 40))
    features = by_id(read_sosi(text.encode("utf-8"), 100))
    area = features["FLATE 2"].geometry
    assert area.equals(
        box(570040, 6660040, 570080, 6660080).difference(features["FLATE 3"].geometry)
    )
    assert len(area.interiors) == 1 and area.area == pytest.approx(40 * 40 - 20 * 20)


def test_island_references_mixed_or_self_are_feature_errors():
    mixed = plan().replace("..REF :12\n", "..REF :12 (:3 :13)\n")
    mixed_error = by_id(read_sosi(mixed.encode(), 100))["FLATE 2"].geometry_error
    assert "mixes the area :3" in english(mixed_error)
    itself = plan().replace("..REF :12\n", "..REF :12 (:2)\n")
    error = by_id(read_sosi(itself.encode(), 100))["FLATE 2"].geometry_error
    assert "island of itself" in english(error)


def test_curve_islands_with_reversed_sign_still_read():
    text = plan().replace("..REF :12\n", "..REF :12 (-13)\n")
    area = by_id(read_sosi(text.encode(), 100))["FLATE 2"].geometry
    assert len(area.interiors) == 1  # a curve island, as before


# --- 6. files cut short ----------------------------------------------------------------------


def test_file_without_slutt_is_refused():
    text = plan().replace(".SLUTT\n", "")
    with raises_english(MalformedInputError, r"ends without \.SLUTT.*\.KURVE 13"):
        read_sosi(text.encode(), 100)


@pytest.mark.parametrize("keep", [0.35, 0.5, 0.8, 0.97])
def test_file_cut_anywhere_is_refused(keep):
    body = plan().encode()
    with raises_english(MalformedInputError, "cut short"):
        read_sosi(body[: int(len(body) * keep)], 100)


def test_cut_inside_the_slutt_line_is_refused():
    body = plan().encode()
    with raises_english(MalformedInputError, "ends without .SLUTT"):
        read_sosi(body[: body.rindex(b".SLUTT") + 4], 100)


def test_objects_after_slutt_are_refused_but_padding_is_not():
    text = plan()
    joined = text + text.split(".SLUTT\n")[0].split("\n", 1)[1]
    with raises_english(MalformedInputError, "after .SLUTT"):
        read_sosi(joined.encode(), 100)
    padded = text + "\n! slutt på fila\n\x1a"
    assert len(read_sosi(padded.encode(), 100).features) == 3


def test_last_curve_cut_mid_line_with_slutt_is_refused_by_its_area():
    lines = plan().split(".SLUTT")[0].rstrip("\n").split("\n")
    lines[-1] = lines[-1].split()[0]  # the last coordinate pair cut to one number
    source = read_sosi(("\n".join(lines) + "\n.SLUTT\n").encode(), 100)
    assert "not pairs" in english(by_id(source)["FLATE 3"].geometry_error)
    with raises_english(InvalidInputError, "not pairs"):
        prepare(source)


def test_existing_fixture_reads_as_before():
    source = read_sosi(SOSI_FILE.read_bytes(), 100)
    # KURVE 20 (the plan boundary) is given with ..NØH: its heights are dropped, with the
    # warning the README promises (issue 18, item 7).
    assert [w.message for w in source.warnings] == [Z_DROPPED_WARNING]
    assert [f.source_id for f in source.features] == [
        "FLATE 1",
        "FLATE 2",
        "FLATE 3",
        "FLATE 4",
        "TEKST 30",
        "PUNKT 31",
        "KURVE 32",
    ]
    assert by_id(source)["FLATE 2"].geometry.area == pytest.approx(100 * 50 - 10 * 10)


# --- a whole plan as planning software writes it ----------------------------------------------

HENSYN_FILE = SOSI_FILE.with_name("hole-rp-hensyn.sos")


def test_reguleringsplan_fixture_with_zone_groups_and_flate_island():
    """hole-rp-hensyn.sos (ISO8859-10): ..RPSIKRING/..RPSTØY/..RPFARE zones, and BFF1 with
    the friområde FLATE 3 as its island (..REF :22 (:3))."""
    prepared = prepare(read_sosi(HENSYN_FILE.read_bytes(), 100))
    areas = {a.source_id: a for a in prepared.areas}
    assert {k: (a.kind, a.arealformal, a.hensynssone) for k, a in areas.items()} == {
        "FLATE 1": ("planomrade", None, None),
        "FLATE 2": ("arealformal", 1120, None),
        "FLATE 3": ("arealformal", 3040, None),
        "FLATE 4": ("arealformal", 2011, None),
        "FLATE 5": ("hensynssone", None, 140),
        "FLATE 6": ("hensynssone", None, 220),
        "FLATE 7": ("hensynssone", None, 370),
    }
    assert areas["FLATE 7"].hensynssone_navn == "H370_1 Høyspent"
    bff1, island = areas["FLATE 2"].geometry, areas["FLATE 3"].geometry
    assert bff1.area == pytest.approx(100 * 100 - island.area) and island.area == 400
    assert not bff1.intersection(island).area
    assert prepared.report.as_dict() == {
        "repaired": [],
        "ignored": [],
        "unknown_codes": [],
        "warnings": [],
    }
