"""The format table (spatial.inputs.formats): every row is complete, and its sniffer and reader
work on its example, which is the same plan in every format."""

import pytest

from spatial.inputs.examples import EXAMPLE_GEOJSON
from spatial.inputs.formats import (
    ACCEPTED_MEDIA_TYPES,
    EXTENSIONS,
    MISLABELLED_MEDIA_TYPES,
    PLAN_FORMATS,
    UNTYPED_MEDIA_TYPES,
    ReadLimits,
    UnsupportedFormatError,
    detect_format,
    read_plan,
)
from tests.unit.test_plan_formats import raises_en

LIMITS = ReadLimits(max_features=100, max_vertices=10_000, time_budget_s=30)
ROWS = [pytest.param(row, id=row.name) for row in PLAN_FORMATS]
# The areas of the example plan (m², EPSG:25832), computed from its GeoJSON by the shoelace
# formula so the readers are compared with the coordinates, not with each other.
EXAMPLE_AREAS = sorted(
    round(
        abs(sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:], strict=False))) / 2
    )
    for ring in (f["geometry"]["coordinates"][0] for f in EXAMPLE_GEOJSON["features"])
)


@pytest.fixture(scope="module")
def examples() -> dict[str, bytes]:
    """Each format's example file, made once."""
    return {row.name: row.example() for row in PLAN_FORMATS}


@pytest.mark.parametrize("row", ROWS)
def test_row_is_complete(row):
    """Every row names its extensions and media types in lower case, the usual one first."""
    assert row.title and row.title_nb
    assert row.extensions and all(
        ext.startswith(".") and ext == ext.lower() for ext in row.extensions
    )
    assert row.media_types and all("/" in m and m == m.lower() for m in row.media_types)
    assert callable(row.sniff) and callable(row.read) and callable(row.example)


def test_no_extension_or_media_type_names_two_formats():
    """A file name or media type points to one format at most."""
    extensions = [ext for row in PLAN_FORMATS for ext in row.extensions]
    media_types = [m for row in PLAN_FORMATS for m in row.media_types]
    assert len(extensions) == len(set(extensions)) == len(EXTENSIONS)
    assert len(media_types) == len(set(media_types))
    assert not set(media_types) & set(UNTYPED_MEDIA_TYPES)
    assert ACCEPTED_MEDIA_TYPES == {*media_types, *UNTYPED_MEDIA_TYPES, *MISLABELLED_MEDIA_TYPES}


@pytest.mark.parametrize("row", ROWS)
def test_only_its_own_sniffer_recognises_the_example(row, examples):
    """The example's first bytes are recognised as its format and as no other."""
    body = examples[row.name]
    assert [other.name for other in PLAN_FORMATS if other.sniff(body)] == [row.name]
    assert detect_format(None, None, body) == row.name
    # The content wins over a name and a media type that say otherwise.
    other = next(o for o in PLAN_FORMATS if o.name != row.name)
    assert detect_format(f"plan{other.extensions[0]}", other.media_types[0], body) == row.name


@pytest.mark.parametrize("row", ROWS)
def test_name_then_media_type_when_the_content_says_nothing(row):
    """Unrecognisable content is handed to the reader its file name, else its media type, names."""
    for extension in row.extensions:
        assert detect_format(f"PLAN{extension.upper()}", None, b"garbage") == row.name
    for media_type in row.media_types:
        assert detect_format(None, f"{media_type}; charset=utf-8", b"garbage") == row.name
    with raises_en(UnsupportedFormatError, match="no format Arealsjekk reads"):
        detect_format("plan.dwg", "application/octet-stream", b"garbage")


@pytest.mark.parametrize("row", ROWS)
def test_reader_reads_the_example(row, examples):
    """Each reader reads its example: the three areas, with their attributes, in EPSG:25832."""
    plan = row.read(examples[row.name], LIMITS, LIMITS.budget())
    assert plan.crs.epsg == 25832
    assert [f.position for f in plan.features] == [0, 1, 2]
    assert all(f.geometry_error is None for f in plan.features)
    assert sorted(round(f.geometry.area) for f in plan.features) == EXAMPLE_AREAS
    names = {
        str(value)
        for feature in plan.features
        for key, value in feature.properties.items()
        if key.lower() in ("omradenavn", "hensynsonenavn") and value
    }
    assert names == {"BFR10 Storeli øvre", "BFR11 Vestlia", "H570_1 Tuv"}
    same = read_plan(examples[row.name], f"plan{row.extensions[0]}", row.media_types[0], LIMITS)
    assert same.source_format == plan.source_format
    assert len(same.features) == 3
