"""Shared request dependencies: settings, paging, output CRS, bounding boxes, the upload body."""

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Annotated

import numpy as np
import shapely
from fastapi import Depends, Path, Query, Request
from pyproj import CRS, Transformer
from pyproj.exceptions import ProjError
from shapely.errors import GEOSException
from shapely.geometry.base import BaseGeometry

from app.case_references import (
    JOURNALPOST_ID_HELP,
    JOURNALPOST_ID_PATTERN,
    SAKSNUMMER_HELP,
    SAKSNUMMER_PATTERN,
)
from app.errors import UnsupportedMediaTypeError
from app.openapi_examples import PROPOSAL_ID
from app.settings import Settings, get_settings
from spatial.crs import CANONICAL_SRID, CRS84, OUTPUT_SRIDS, CrsRef, parse_output_crs, to_canonical
from spatial.errors import InvalidInputError, PayloadTooLargeError, Problem
from spatial.inputs.formats import ACCEPTED_MEDIA_TYPES, FORMAT_TITLES, FORMAT_TITLES_NB
from spatial.messages import Text
from spatial.numbers import is_double

SettingsDep = Annotated[Settings, Depends(get_settings)]

# The largest values PostgreSQL's integer and bigint hold: ids, version numbers and offsets
# beyond them are refused as parameters rather than by the database.
INT4_MAX = 2**31 - 1
INT8_MAX = 2**63 - 1

# Path parameters named alike in several routers, declared once.
ProposalIdPath = Annotated[
    str,
    Path(description="national plan id: kommunenummer_planidentifikasjon", examples=[PROPOSAL_ID]),
]
KommunenummerPath = Annotated[
    str, Path(pattern=r"^[0-9]{4}$", description="4-digit kommunenummer", examples=["3326"])
]
VersionPath = Annotated[
    int, Path(ge=1, le=INT4_MAX, description="version number, from 1", examples=[1])
]
CheckIdPath = Annotated[int, Path(ge=1, le=INT4_MAX, description="check id", examples=[1])]
FindingIdPath = Annotated[int, Path(ge=1, le=INT8_MAX, description="finding id", examples=[1])]


@dataclass(frozen=True)
class Page:
    """limit/offset paging parameters, already checked against the settings."""

    limit: int
    offset: int


def page_params(
    settings: SettingsDep,
    limit: Annotated[int | None, Query(ge=1, description="items per page", examples=[20])] = None,
    offset: Annotated[int, Query(ge=0, le=INT8_MAX, description="items to skip")] = 0,
) -> Page:
    """Read limit/offset, defaulting and capping the limit from the settings."""
    chosen = settings.default_page_limit if limit is None else limit
    return Page(limit=min(chosen, settings.max_page_limit), offset=offset)


PageDep = Annotated[Page, Depends(page_params)]


@dataclass(frozen=True)
class OutputCrs:
    """The CRS a GeoJSON response is written in."""

    label: str
    srid: int


def output_crs(
    crs: Annotated[
        str | None,
        Query(
            description="output CRS: CRS84 (default, RFC 7946), EPSG:25832 or EPSG:25833 "
            "(also as OGC URI)",
            examples=list(OUTPUT_SRIDS),
        ),
    ] = None,
) -> OutputCrs:
    """Resolve the `crs` query parameter."""
    label, srid = parse_output_crs(crs)
    return OutputCrs(label, srid)


OutputCrsDep = Annotated[OutputCrs, Depends(output_crs)]


class BboxError(InvalidInputError):
    """A bbox (or its bbox-crs) that cannot be used (the OGC API answers it with 400)."""


# No projected coordinate on Earth is further from its origin than the equator is long.
_EARTH_SPAN_M = 40_075_017.0
# Features are stored in UTM zone 32 (spatial.crs.CANONICAL_SRID, central meridian 9°E).
# PROJ's transverse Mercator is defined to about 80° either side of the central meridian
# (further out points are "outside of projection domain", and at 90° it folds over), so a
# box is clipped to that band before it is transformed; everything the service holds is in it.
_STORAGE_CENTRAL_MERIDIAN = 9.0
_STORAGE_DOMAIN = shapely.box(
    _STORAGE_CENTRAL_MERIDIAN - 80.0, -90.0, _STORAGE_CENTRAL_MERIDIAN + 80.0, 90.0
)


def parse_bbox(text: str, field: str = "bbox") -> tuple[float, float, float, float]:
    """Read 'minx,miny,maxx,maxy' (or the 6-number 3D form) as finite numbers with min <= max."""
    parts = [part.strip() for part in text.split(",")]
    # ASCII only: float() would also take 'nan', 'inf', '1_0' and non-ASCII digits.
    values = [float(part) for part in parts if is_double(part)]
    shown = text[:200]
    if len(values) != len(parts) or len(values) not in (4, 6):
        raise BboxError(
            Text(
                f"{field} «{shown}» må være fire tall minx,miny,maxx,maxy (eller seks, med z)",
                f"{field} '{shown}' must be four numbers minx,miny,maxx,maxy (or six, with z)",
            ),
            [Problem(Text("ugyldig bbox", "malformed bbox"), field=field)],
        )
    if len(values) == 6:  # minx,miny,minz,maxx,maxy,maxz: the data are 2D
        values = [values[0], values[1], values[3], values[4]]
    if not all(np.isfinite(values)):
        raise BboxError(
            Text(
                f"{field} «{shown}» har et tall som er for stort til å være en koordinat",
                f"{field} '{shown}' has a number too large to be a coordinate",
            ),
            [Problem(Text("ikke en endelig koordinat", "not a finite coordinate"), field=field)],
        )
    if values[0] > values[2] or values[1] > values[3]:
        raise BboxError(
            Text(
                f"{field} «{shown}»: det nedre hjørnet kommer først (minx <= maxx, miny <= maxy)",
                f"{field} '{shown}': the lower corner comes first (minx <= maxx, miny <= maxy)",
            ),
            [Problem(Text("min er større enn maks", "min greater than max"), field=field)],
        )
    return values[0], values[1], values[2], values[3]


@lru_cache(maxsize=32)
def _pyproj_crs(ref: CrsRef) -> CRS:
    if ref.epsg is None:
        return CRS.from_user_input("OGC:CRS84")
    crs = CRS.from_epsg(ref.epsg)
    # A compound CRS (e.g. EPSG:5972, UTM 32 + NN2000 height): the box is in its horizontal part.
    return crs.sub_crs_list[0] if crs.is_compound else crs


@lru_cache(maxsize=32)
def _to_lon_lat(ref: CrsRef) -> Transformer:
    return Transformer.from_crs(_pyproj_crs(ref), _pyproj_crs(CRS84), always_xy=True)


UNTRANSFORMABLE = Text(
    "kan ikke transformeres: den ligger utenfor området",
    "cannot be transformed: it lies outside the area",
)


def _outside(
    ref: CrsRef, detail: Text, crs_field: str, subject: str = "bbox", field: str | None = None
) -> BboxError:
    return BboxError(
        Text(
            f"{subject} {detail.nb} for {ref.label}; oppgi {crs_field} for koordinater i et "
            "annet koordinatsystem",
            f"{subject} {detail.en} of {ref.label}; give {crs_field} for coordinates in another "
            "CRS",
        ),
        [
            Problem(
                Text(f"utenfor gyldig område for {ref.label}", f"outside the range of {ref.label}"),
                field=field or crs_field,
            )
        ],
    )


# Densifying adds at most about this many vertices to a geometry (besides one per edge), so
# a long or zigzag outline costs no more than a box does.
_MAX_DENSIFY_POINTS = 20_000


def bbox_region(
    box: tuple[float, float, float, float], ref: CrsRef, crs_field: str = "bbox-crs"
) -> BaseGeometry:
    """Return a bbox given in `ref` (x/easting or longitude first) as an area in the storage CRS.

    Geographic boxes must lie within ±180° / ±90°: projected coordinates sent without
    bbox-crs are refused rather than read as degrees. The area is clipped to where the
    storage CRS is defined (it may come out empty) and its edges are densified, since a
    straight edge in one CRS is a curve in another.
    """
    return storage_region(shapely.box(*box), ref, crs_field)


def storage_region(
    geometry: BaseGeometry,
    ref: CrsRef,
    crs_field: str = "bbox-crs",
    subject: str = "bbox",
    field: str | None = None,
) -> BaseGeometry:
    """Return a geometry given in `ref` (x/easting or longitude first) in the storage CRS, as
    `bbox_region` does for a box: refused (BboxError naming `field`, else `crs_field`) beyond
    the CRS's extent, clipped to the storage CRS's domain, densified with a bounded number of
    vertices."""
    coordinates = shapely.get_coordinates(geometry)
    if not np.isfinite(coordinates).all():
        raise _outside(
            ref,
            Text(
                "har en koordinat som ikke er et endelig tall",
                "has a coordinate that is not finite",
            ),
            crs_field,
            subject,
            field,
        )
    if geometry.is_empty:
        return geometry
    minx, miny, maxx, maxy = geometry.bounds
    if ref.is_geographic:
        if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
            raise _outside(
                ref,
                Text(
                    "har verdier utenfor lengdegrad -180..180 / breddegrad -90..90",
                    "values are outside the longitude -180..180 / latitude -90..90",
                ),
                crs_field,
                subject,
                field,
            )
    else:
        limit = _EARTH_SPAN_M / _pyproj_crs(ref).axis_info[0].unit_conversion_factor
        if np.abs(coordinates).max() > limit:
            raise _outside(
                ref,
                Text(
                    f"har verdier over ±{limit:.0f}, utenfor utstrekningen",
                    f"values are beyond ±{limit:.0f}, outside the extent",
                ),
                crs_field,
                subject,
                field,
            )
    area = geometry
    if ref.epsg == CANONICAL_SRID:
        return area
    try:
        step = max(maxx - minx, maxy - miny) / 32
        step = max(step, area.length / _MAX_DENSIFY_POINTS)
        if step > 0:
            area = shapely.segmentize(area, step)
        if not ref.is_geographic:
            lon_lat = _to_lon_lat(ref)
            area = shapely.transform(
                area, lambda xy: np.column_stack(lon_lat.transform(xy[:, 0], xy[:, 1]))
            )
            if not np.isfinite(shapely.get_coordinates(area)).all():
                raise _outside(ref, UNTRANSFORMABLE, crs_field, subject, field)
            ref = CRS84
        area = shapely.make_valid(area).intersection(_STORAGE_DOMAIN)
        if area.is_empty:
            return area
        return shapely.make_valid(to_canonical(shapely.segmentize(area, 1.0), ref))
    except (ProjError, GEOSException):
        raise _outside(ref, UNTRANSFORMABLE, crs_field, subject, field) from None


@dataclass(frozen=True)
class UploadedFile:
    """An uploaded plan file: its bytes, its name (if known) and declared media type."""

    body: bytes
    filename: str | None
    content_type: str
    # The form's text fields beside the file (multipart uploads only).
    fields: dict[str, str] = field(default_factory=dict)


async def _read_limited(chunks, limit: int) -> bytes:
    parts = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise PayloadTooLargeError(
                Text(
                    f"filen er over {limit} byte; grensen er {limit} byte",
                    f"body is over {limit} bytes; the limit is {limit} bytes",
                )
            )
        parts.append(chunk)
    return b"".join(parts)


async def uploaded_file(
    request: Request,
    settings: SettingsDep,
    filename: Annotated[
        str | None,
        Query(description="original file name, kept", examples=["hemsedal-kpa-2026.geojson"]),
    ] = None,
) -> UploadedFile:
    """Read the plan file: a raw body, or the `file` field of a multipart form, size-limited."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    limit = settings.max_upload_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLargeError(
            Text(
                f"filen er {int(declared)} byte; grensen er {limit} byte",
                f"body is {int(declared)} bytes; the limit is {limit} bytes",
            )
        )
    if media_type == "multipart/form-data":
        async with request.form(max_files=1, max_fields=10, max_part_size=limit) as form:
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                raise InvalidInputError(
                    Text(
                        "skjemaet (multipart) har ikke noe filfelt som heter «file»",
                        "the multipart form has no file field named 'file'",
                    ),
                    [Problem(Text("mangler", "missing"), field="file")],
                )
            body = await _read_limited(_chunks(upload), limit)
            fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
            return UploadedFile(
                body, upload.filename or filename, upload.content_type or "", fields
            )
    if media_type not in ACCEPTED_MEDIA_TYPES:  # the format table's, and untyped ones
        raise UnsupportedMediaTypeError(
            Text(
                f"innholdstypen «{media_type}» støttes ikke; send planfilen som selve innholdet "
                f"({FORMAT_TITLES_NB}) eller som feltet «file» i et multipart/form-data-skjema",
                f"content type '{media_type}' is not supported; send the plan file as the raw "
                f"body ({FORMAT_TITLES}) or as the 'file' field of a multipart/form-data form",
            )
        )
    return UploadedFile(await _read_limited(request.stream(), limit), filename, media_type)


async def _chunks(upload):  # noqa: ANN001, ANN202 - starlette UploadFile
    while chunk := await upload.read(1024 * 1024):
        yield chunk


UploadDep = Annotated[UploadedFile, Depends(uploaded_file)]


@dataclass(frozen=True)
class CaseReference:
    """The case system's case (saksnummer) and record (journalpostId) for an upload or check."""

    saksnummer: str | None = None
    journalpost_id: str | None = None


# Form field and query parameter names, with the pattern each must match.
CASE_FIELDS = {
    "saksnummer": ("saksnummer", SAKSNUMMER_PATTERN),
    "journalpostId": ("journalpost_id", JOURNALPOST_ID_PATTERN),
}


def _case_value(name: str, query_value: str | None, form_value: str | None) -> str | None:
    values = {v.strip() for v in (query_value, form_value) if v is not None and v.strip()}
    if len(values) > 1:
        raise InvalidInputError(
            Text(
                f"«{name}» er gitt to ganger med ulike verdier (i adressen og i skjemaet)",
                f"'{name}' is given twice with different values (in the query and the form)",
            ),
            [Problem(Text("to ulike verdier", "two different values"), field=name)],
        )
    value = values.pop() if values else None
    if value is not None and not re.fullmatch(CASE_FIELDS[name][1], value):
        shown = value[:40]
        raise InvalidInputError(
            Text(
                f"«{name}» har feil form («{shown}»); "
                + (
                    "skriv saksår/sekvensnummer, f.eks. 2026/123"
                    if name == "saksnummer"
                    else "bruk 1–100 tegn: bokstaver, sifre og / . _ : -"
                ),
                f"'{name}' is malformed ('{shown}'); "
                + (
                    "write saksår/sekvensnummer, e.g. 2026/123"
                    if name == "saksnummer"
                    else "use 1-100 characters: letters, digits and / . _ : -"
                ),
            ),
            [Problem(Text("feil form", "malformed"), field=name)],
        )
    return value


def upload_case_reference(
    upload: UploadDep,
    saksnummer: Annotated[
        str | None,
        Query(
            pattern=SAKSNUMMER_PATTERN,
            description=SAKSNUMMER_HELP + " (or the form field saksnummer)",
            examples=["2026/123"],
        ),
    ] = None,
    journalpost_id: Annotated[
        str | None,
        Query(
            alias="journalpostId",
            pattern=JOURNALPOST_ID_PATTERN,
            description=JOURNALPOST_ID_HELP + " (or the form field journalpostId)",
            examples=["2026/123-4"],
        ),
    ] = None,
) -> CaseReference:
    """Read the upload's case reference from the query or the multipart form's fields."""
    return CaseReference(
        _case_value("saksnummer", saksnummer, upload.fields.get("saksnummer")),
        _case_value("journalpostId", journalpost_id, upload.fields.get("journalpostId")),
    )


UploadCaseReferenceDep = Annotated[CaseReference, Depends(upload_case_reference)]


@dataclass(frozen=True)
class PlanOverrides:
    """Plan attributes given as query parameters; they win over those in the file."""

    kommunenummer: str | None
    planidentifikasjon: str | None
    plantype: int | None
    planstatus: int | None
    plannavn: str | None

    def as_dict(self) -> dict[str, object]:
        """Return the overrides as a dict for the plan reader."""
        return {
            "kommunenummer": self.kommunenummer,
            "planidentifikasjon": self.planidentifikasjon,
            "plantype": self.plantype,
            "planstatus": self.planstatus,
            "plannavn": self.plannavn,
        }


def plan_overrides(
    kommunenummer: Annotated[
        str | None, Query(description="overrides the file", examples=["3326"])
    ] = None,
    planidentifikasjon: Annotated[
        str | None, Query(description="overrides the file", examples=["KPA2026"])
    ] = None,
    plantype: Annotated[
        int | None, Query(description="plantype code, e.g. 20 or 35", examples=[20])
    ] = None,
    planstatus: Annotated[
        int | None, Query(description="planstatus code, e.g. 2", examples=[2])
    ] = None,
    plannavn: Annotated[
        str | None,
        Query(
            description="plan name",
            examples=["Kommuneplanens arealdel 2026-2038, høringsforslag"],
        ),
    ] = None,
) -> PlanOverrides:
    """Read the plan attribute query parameters."""
    return PlanOverrides(kommunenummer, planidentifikasjon, plantype, planstatus, plannavn)


PlanOverridesDep = Annotated[PlanOverrides, Depends(plan_overrides)]
