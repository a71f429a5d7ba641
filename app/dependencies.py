"""Shared request dependencies: settings, paging, output CRS and the upload body."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request

from app.errors import UnsupportedMediaTypeError
from app.settings import Settings, get_settings
from spatial.crs import OUTPUT_SRIDS, parse_output_crs
from spatial.errors import InvalidInputError, PayloadTooLargeError, Problem

SettingsDep = Annotated[Settings, Depends(get_settings)]

UPLOAD_MEDIA_TYPES = {
    "",
    "application/json",
    "application/geo+json",
    "application/gml+xml",
    "application/xml",
    "text/xml",
    "text/plain",
    "text/vnd.sosi",
    "application/x-sosi",
    "application/zip",
    "application/x-zip-compressed",
    "application/geopackage+sqlite3",
    "application/x-sqlite3",
    "application/octet-stream",
}


@dataclass(frozen=True)
class Page:
    """limit/offset paging parameters, already checked against the settings."""

    limit: int
    offset: int


def page_params(
    settings: SettingsDep,
    limit: Annotated[int | None, Query(ge=1, description="items per page", examples=[20])] = None,
    offset: Annotated[int, Query(ge=0, description="items to skip")] = 0,
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


@dataclass(frozen=True)
class UploadedFile:
    """An uploaded plan file: its bytes, its name (if known) and declared media type."""

    body: bytes
    filename: str | None
    content_type: str


async def _read_limited(chunks, limit: int) -> bytes:
    parts = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise PayloadTooLargeError(f"body is over {limit} bytes; the limit is {limit} bytes")
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
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLargeError(f"body is {int(declared)} bytes; the limit is {limit} bytes")
    if media_type == "multipart/form-data":
        async with request.form(max_files=1, max_fields=10, max_part_size=limit) as form:
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                raise InvalidInputError(
                    "the multipart form has no file field named 'file'",
                    [Problem("missing", field="file")],
                )
            body = await _read_limited(_chunks(upload), limit)
            return UploadedFile(body, upload.filename or filename, upload.content_type or "")
    if media_type not in UPLOAD_MEDIA_TYPES:
        raise UnsupportedMediaTypeError(
            f"content type '{media_type}' is not supported; send the plan file as the raw body "
            "(GeoJSON, Plan-GML, SOSI, GeoPackage or zipped Shapefile) or as the 'file' field "
            "of a multipart/form-data form"
        )
    return UploadedFile(await _read_limited(request.stream(), limit), filename, media_type)


async def _chunks(upload):  # noqa: ANN001, ANN202 - starlette UploadFile
    while chunk := await upload.read(1024 * 1024):
        yield chunk


UploadDep = Annotated[UploadedFile, Depends(uploaded_file)]


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
