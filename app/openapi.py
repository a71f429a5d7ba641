"""What the OpenAPI document says about every operation beyond what FastAPI sees in a route.

FastAPI builds the document from the routes and their `responses=` (the examples are in
app.openapi_examples). This module adds, from the routes' dependencies, what holds for
every operation of a kind:

- the API key security schemes (`Authorization: Bearer ask_…`, or `X-API-Key`), and per
  operation whether a key is required or optional and which roles may call it, with the
  401/403 problem answers;
- the `ProblemDetails` schema, and RFC 7807 problem+json in place of FastAPI's default 422
  body (the app answers validation errors as problems, see app.errors);
- the `Idempotency-Key` header and its 409 on every POST (app.idempotency);
- the null values of the examples, which FastAPI's serialisation drops.

Nothing here changes how a request is handled.
"""

import copy
import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any, get_args

from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel

from app.access import ROLES
from app.errors import PROBLEM_JSON
from app.openapi_examples import (
    IDEMPOTENCY_CONFLICT,
    IDEMPOTENCY_IN_PROGRESS,
    INVALID_KEY,
    MISSING_KEY,
    ProblemExample,
    at,
    join_descriptions,
    problem,
    problems,
)
from app.schemas import ProblemDetails
from app.security import optional_principal, required_principal
from spatial.rules.ruleset import RuleSet

BEARER = "apiKey"
HEADER = "apiKeyHeader"
SECURITY_SCHEMES = {
    BEARER: {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "ask_<prefix>_<secret>",
        "description": "An Arealsjekk API key (`ask_…`), from `arealsjekk keys create`. Roles: "
        "planner (one municipality), case_system (one municipality or county-wide), forum "
        "(the regional plan forum) and admin (county GIS administrator).",
    },
    HEADER: {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "The same API key in an `X-API-Key` header, for clients that cannot "
        "set Authorization.",
    },
}
KEY_REQUIREMENT: list[dict[str, list[str]]] = [{BEARER: []}, {HEADER: []}]


def tags(rule_set: RuleSet) -> list[dict[str, str]]:
    """Return the API description's operation groups; the checks name the rule set's rules."""
    rule_ids = ", ".join(rule.id for rule in rule_set.rules)
    return [
        {"name": "proposals", "description": "Upload plan proposals (every upload is a version)."},
        {
            "name": "plans (national plan id)",
            "description": "The same proposals, addressed by kommunenummer and planidentifikasjon.",
        },
        {
            "name": "checks",
            "description": f"Check a version against the rule set {rule_set.id} ({rule_ids}).",
        },
        {"name": "reports", "description": "Conflict reports of checks, as HTML and PDF."},
        {"name": "rules", "description": "The rule set in use."},
        {"name": "layers", "description": "Guideline layers: metadata, versions, features."},
        {"name": "municipalities", "description": "Buskerud's 18 municipalities (GeoJSON)."},
        {"name": "forum", "description": "The regional plan forum: findings, reviews, agenda."},
        {"name": "webhooks", "description": "Callbacks to case systems when a check completes."},
        {"name": "ogcapi", "description": "OGC API – Features for GIS clients."},
        {"name": "wms", "description": "OGC WMS 1.3.0 / 1.1.1 for GIS clients."},
        {"name": "health", "description": "Liveness and readiness probes."},
    ]


IDEMPOTENCY_HEADER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Makes a retried POST safe: the same key with the same request replays the "
    "first answer (with `Idempotent-Replayed: true`); with a different request it is a 409. "
    "1-255 printable characters, scoped to the API key.",
    "schema": {"type": "string", "maxLength": 255},
    "example": "hemsedal-kpa2026-v1-0f3c9a",
}

# Messages pydantic gives for a bad value of a parameter with this schema.
_INTEGER = "Input should be a valid integer, unable to parse string as an integer"
_DATE = "Input should be a valid date or datetime, input is too short"


def operation_id(route: APIRoute) -> str:
    """Name an operation after its route function (`upload_plan_version`), so that generated
    clients get readable method names; the names are unique (openapi-spec-validator checks)."""
    return route.name


def install_openapi(app: FastAPI, routers: Iterable[APIRouter]) -> None:
    """Make `app.openapi()` return FastAPI's document completed for the routers' operations."""
    build = app.openapi
    routes = [route for router in routers for route in router.routes]
    completed: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        document = build()  # FastAPI's, cached until the app's routes change
        if not completed or completed[0] is not document:
            complete_document(document, routes)
            completed[:] = [document]
        return document

    app.openapi = openapi


def complete_document(document: dict[str, Any], routes: Iterable[Any]) -> None:
    """Add security, problem answers and the Idempotency-Key header to the routes' operations."""
    components = document.setdefault("components", {})
    components.setdefault("securitySchemes", {}).update(SECURITY_SCHEMES)
    schemas = components.setdefault("schemas", {})
    problem_schema = ProblemDetails.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, schema in problem_schema.pop("$defs", {}).items():
        schemas.setdefault(name, schema)
    schemas["ProblemDetails"] = problem_schema
    api_routes = [r for r in routes if isinstance(r, APIRoute) and r.include_in_schema]
    _restore_model_examples(schemas, api_routes)
    for route in api_routes:
        for method in sorted(route.methods):
            operation = document["paths"].get(route.path_format, {}).get(method.lower())
            if operation is None:
                continue
            _restore_operation_examples(operation, route)
            instance = _example_path(route.path_format, operation)
            _document_access(operation, route.dependant, instance)
            _document_validation(operation, route, instance)
            if method == "POST":
                operation.setdefault("parameters", []).append(dict(IDEMPOTENCY_HEADER))
                add_problems(operation, [IDEMPOTENCY_CONFLICT, IDEMPOTENCY_IN_PROGRESS])
            operation["responses"] = dict(sorted(operation["responses"].items()))
    if '"#/components/schemas/HTTPValidationError"' not in json.dumps(document["paths"]):
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)


# FastAPI writes the document with exclude_none, which also drops the nulls of examples
# (e.g. "published_at": null), so that they no longer show real answers; put them back.


def _restore_operation_examples(operation: dict[str, Any], route: APIRoute) -> None:
    sources: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for status, response in route.responses.items():
        target = operation["responses"].get(str(status), {})
        sources.append((response.get("content", {}), target.get("content", {})))
    body = (route.openapi_extra or {}).get("requestBody", {})
    sources.append((body.get("content", {}), operation.get("requestBody", {}).get("content", {})))
    for content, target in sources:
        for media_type, media in content.items():
            for key in ("example", "examples"):
                if key in media and media_type in target:
                    target[media_type][key] = copy.deepcopy(media[key])


def _restore_model_examples(schemas: dict[str, Any], routes: list[APIRoute]) -> None:
    annotations: list[Any] = []
    for route in routes:
        annotations.append(route.response_model)
        annotations.extend(response.get("model") for response in route.responses.values())
        if route.body_field is not None:
            annotations.append(route.body_field.field_info.annotation)
    seen: set[type[BaseModel]] = set()
    for model in _models_in(annotations, seen):
        extra = model.model_config.get("json_schema_extra")
        if isinstance(extra, dict) and "examples" in extra and model.__name__ in schemas:
            schemas[model.__name__]["examples"] = copy.deepcopy(extra["examples"])


def _models_in(annotations: Iterable[Any], seen: set[type[BaseModel]]) -> Iterator[type[BaseModel]]:
    for annotation in annotations:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if annotation in seen:
                continue
            seen.add(annotation)
            yield annotation
            fields = [field.annotation for field in annotation.model_fields.values()]
            yield from _models_in(fields, seen)
        else:
            yield from _models_in(get_args(annotation), seen)


def add_problems(operation: dict[str, Any], examples: list[ProblemExample]) -> None:
    """Add problem examples to an operation's responses, next to those it already has."""
    responses = operation.setdefault("responses", {})
    for status, entry in problems(*examples).items():
        current = responses.get(str(status))
        if current is None:
            responses[str(status)] = entry
            continue
        added = entry["content"][PROBLEM_JSON]
        content = current.setdefault("content", {}).setdefault(PROBLEM_JSON, {})
        content.setdefault("schema", added["schema"])
        named = content.setdefault("examples", {})
        for key, value in added["examples"].items():
            name, number = key, 2
            while name in named:
                name, number = f"{key}-{number}", number + 1
            named[name] = value
        current["description"] = join_descriptions(
            [current.get("description", ""), entry["description"]]
        )


def _dependency_calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from _dependency_calls(dependency)


def _document_access(operation: dict[str, Any], dependant: Dependant, instance: str) -> None:
    calls = list(_dependency_calls(dependant))
    required = required_principal in calls
    if not required and optional_principal not in calls:
        return
    roles: tuple[str, ...] = next((c.roles for c in calls if hasattr(c, "roles")), ())
    if required:
        operation["security"] = KEY_REQUIREMENT
        who = f"role {_either(roles)}" if roles else "any role"
        note = f"**API key required** ({who})."
        add_problems(operation, [at(MISSING_KEY, instance), at(INVALID_KEY, instance)])
    else:
        operation["security"] = [{}, *KEY_REQUIREMENT]
        note = (
            "**API key optional**: without one only published proposals are visible; with "
            "one also the drafts the key may see (its municipality's; every draft for forum "
            "and admin)."
        )
        add_problems(operation, [at(INVALID_KEY, instance)])
    if roles:
        other = next(role for role in ROLES if role not in roles)
        add_problems(
            operation,
            [
                problem(
                    403,
                    "forbidden",
                    f"the role '{other}' may not do this; it needs {' or '.join(roles)}",
                    instance,
                    summary=f"The key's role is not {_either(roles)}",
                )
            ],
        )
    operation["description"] = f"{operation.get('description', '').rstrip()}\n\n{note}".strip()


def _document_validation(operation: dict[str, Any], route: APIRoute, instance: str) -> None:
    """Replace FastAPI's default 422 body by the problem answer the app really gives."""
    responses = operation.setdefault("responses", {})
    if "HTTPValidationError" in json.dumps(responses.get("422", {})):
        del responses["422"]
    status = getattr(route, "invalid_parameter_status", 422)
    example = _validation_example(operation, status, instance)
    if example is None:
        return
    existing = json.dumps(responses.get(str(status), {}))
    if example.body["type"] not in existing:
        add_problems(operation, [example])


def _either(words: tuple[str, ...]) -> str:
    return " or ".join(filter(None, [", ".join(words[:-1]), words[-1]]))


def _validation_example(
    operation: dict[str, Any], status: int, instance: str
) -> ProblemExample | None:
    for parameter in operation.get("parameters", []):
        message = _bad_value_message(parameter.get("schema", {}))
        if message is None:
            continue
        field = f"{parameter['in']}.{parameter['name']}"
        slug = "invalid-parameter" if status == 422 else "bad-request"
        return problem(
            status,
            slug,
            f"{field}: {message}",
            instance,
            [{"message": message, "field": field}],
            summary="A parameter has a value of the wrong type or form",
        )
    return None


def _bad_value_message(schema: dict[str, Any]) -> str | None:
    options = [s for s in schema.get("anyOf", [schema]) if s.get("type") != "null"]
    if not options:
        return None
    option = options[0]
    if option.get("type") == "integer":
        if "minimum" in option:
            return f"Input should be greater than or equal to {option['minimum']}"
        return _INTEGER
    if option.get("type") == "string" and "pattern" in option:
        return f"String should match pattern '{option['pattern']}'"
    if option.get("type") == "string" and option.get("format") == "date":
        return _DATE
    return None


def _example_path(path: str, operation: dict[str, Any]) -> str:
    for parameter in operation.get("parameters", []):
        if parameter.get("in") != "path":
            continue
        values = parameter.get("schema", {}).get("examples") or [parameter.get("example", 1)]
        value = values[0]
        path = path.replace("{" + parameter["name"] + "}", str(value))
    return path
