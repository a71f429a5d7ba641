"""Media types, links and the helpers that put examples and problem examples into `responses=`."""

from collections.abc import Iterable
from typing import Any, NamedTuple

from app.errors import PROBLEM_JSON, problem_body

JSON = "application/json"

GEOJSON = "application/geo+json"

PDF = "application/pdf"

HTML = "text/html"

CRS84_URI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


def link(href: str, rel: str, media_type: str = JSON) -> dict[str, str]:
    """A link object (href, rel, type)."""
    return {"href": href, "rel": rel, "type": media_type}


EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/"


class ProblemExample(NamedTuple):
    """One example of an RFC 7807 problem answer: a short summary and the body."""

    summary: str
    body: dict[str, Any]


def problem(
    status: int,
    slug: str,
    detail: str,
    instance: str | None = None,
    problems: list[dict[str, Any]] | None = None,
    summary: str | None = None,
) -> ProblemExample:
    """Build a problem example as app.errors.problem_response writes it for English callers.

    The API documentation is in English, so its examples are the answers to
    `Accept-Language: en`; without it the same problems come in bokmål.
    """
    body = problem_body(status, detail, slug, instance, problems, language="en")
    return ProblemExample(summary or detail, body)


def problem_content(examples: list[ProblemExample]) -> dict[str, Any]:
    """The `content` of a problem response holding the given examples, named by their type."""
    named: dict[str, Any] = {}
    for example in examples:
        base = key = example.body["type"].rsplit("/", 1)[-1]
        number = 2
        while key in named:
            key, number = f"{base}-{number}", number + 1
        named[key] = {"summary": example.summary, "value": example.body}
    return {
        PROBLEM_JSON: {
            "schema": {"$ref": "#/components/schemas/ProblemDetails"},
            "examples": named,
        }
    }


def problems(*examples: ProblemExample) -> dict[int | str, dict[str, Any]]:
    """FastAPI `responses` entries for problem examples, grouped by their status."""
    by_status: dict[int, list[ProblemExample]] = {}
    for example in examples:
        by_status.setdefault(example.body["status"], []).append(example)
    return {
        status: {
            "description": join_descriptions(e.summary for e in group),
            "content": problem_content(group),
        }
        for status, group in by_status.items()
    }


def join_descriptions(descriptions: Iterable[str]) -> str:
    """Join response descriptions into one sentence, without repeats."""
    parts = [d for d in dict.fromkeys(descriptions) if d]
    return "; ".join(parts[:1] + [_lower_first(part) for part in parts[1:]])


def _lower_first(text: str) -> str:
    word = text.split(" ", 1)[0]
    if sum(char.isupper() for char in word) > 1:  # API, GeoJSON, …
        return text
    return text[:1].lower() + text[1:]


def at(example: ProblemExample, instance: str) -> ProblemExample:
    """The same problem example, answered at another path."""
    return ProblemExample(example.summary, {**example.body, "instance": instance})


def example_response(
    example: Any,
    description: str | None = None,
    media_type: str = JSON,
    location: str | None = None,
) -> dict[str, Any]:
    """A `responses` entry carrying one example of the given media type (and a Location)."""
    entry: dict[str, Any] = {"content": {media_type: {"example": example}}}
    if description:
        entry["description"] = description
    if location:
        entry["headers"] = {
            "Location": {"description": location, "schema": {"type": "string"}},
        }
    return entry


def geojson_response(example: dict[str, Any], description: str | None = None) -> dict[str, Any]:
    """A GeoJSON `responses` entry (application/geo+json), CRS named in Content-Crs."""
    entry = example_response(example, description, GEOJSON)
    entry["content"][GEOJSON]["schema"] = {"type": "object"}
    entry["headers"] = {
        "Content-Crs": {
            "description": f"the CRS of the coordinates, e.g. <{CRS84_URI}> or <{EPSG_URI}25832>",
            "schema": {"type": "string"},
        }
    }
    return entry


def binary_response(media_type: str, description: str) -> dict[str, Any]:
    """A `responses` entry for a binary document (PDF, PNG)."""
    return {
        "description": description,
        "content": {media_type: {"schema": {"type": "string", "format": "binary"}}},
    }
