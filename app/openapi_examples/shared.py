"""Problem answers several routers share, and those app.openapi adds to every operation of a
kind (API key missing or invalid, Idempotency-Key reused)."""

from app.openapi_examples.common import problem
from app.openapi_examples.uploads import PROPOSAL_ID

# Problems that several routers share.
NO_PROPOSAL = problem(
    404,
    "not-found",
    f"no proposal '{PROPOSAL_ID}'",
    f"/api/v1/proposals/{PROPOSAL_ID}",
    summary="No such proposal (another municipality's draft counts as missing)",
)

NO_VERSION = problem(
    404,
    "not-found",
    f"proposal '{PROPOSAL_ID}' has no version 3",
    f"/api/v1/proposals/{PROPOSAL_ID}/versions/3",
    summary="The proposal has no such version",
)

NO_CHECK = problem(404, "not-found", "no check 99", "/api/v1/checks/99", summary="No such check")

NO_LAYER = problem(
    404,
    "not-found",
    "no layer 'skoggrense'; known layers: buildings, cultural_environments, elevation, "
    "existing_kommuneplan, forest_mask, heritage_protected, intact_nature, mineral_deposits, "
    "municipal_heritage_plans, recreation_areas, state_recreation_areas, tettsteder, "
    "transport_hubs, tree_line, villrein_areas, villrein_corridors",
    "/api/v1/layers/skoggrense",
    summary="No such layer in the registry",
)

NO_FINDING = problem(
    404,
    "not-found",
    "no finding 99999",
    "/api/v1/forum/findings/99999/review",
    summary="No such finding",
)

NO_WEBHOOK = problem(
    404,
    "not-found",
    "no webhook 12",
    "/api/v1/webhooks/12",
    summary="No such webhook of this client",
)

BAD_CRS = problem(
    422,
    "unsupported-crs",
    "crs parameter 'EPSG:3857' is not offered for output; use one of CRS84, EPSG:25832, EPSG:25833",
    "/api/v1/municipalities",
    summary="The output CRS is not offered",
)

NOT_YOUR_MUNICIPALITY = problem(
    403,
    "forbidden",
    "the key 'Gol planavdeling' (planner, 3324) may not submit for 3326",
    "/api/v1/proposals",
    summary="The key is scoped to another municipality",
)

# Problems the document adds to every operation of a kind (see app.openapi).
MISSING_KEY = problem(
    401,
    "unauthorized",
    "this endpoint needs an API key: send 'Authorization: Bearer <key>'",
    summary="No API key was sent",
)

INVALID_KEY = problem(
    401,
    "unauthorized",
    "the API key is not valid (unknown or revoked)",
    summary="The API key is unknown, revoked or malformed",
)

IDEMPOTENCY_CONFLICT = problem(
    409,
    "idempotency",
    "this Idempotency-Key was used for a different request; use a new key for a new request",
    summary="The Idempotency-Key was used for another request",
)

IDEMPOTENCY_IN_PROGRESS = problem(
    409,
    "idempotency-in-progress",
    "a request with this Idempotency-Key is being processed; try again shortly for its answer",
    summary="The first request with this Idempotency-Key is still being processed: retry "
    "after Retry-After seconds for its answer",
)
