"""Example payloads for the OpenAPI document, one module per resource, and helpers that put
them into `responses=`.

The examples are real answers of the service, shortened: the Hemsedal kommuneplan
`samples/hemsedal-kpa-2026.geojson` (3326_KPA2026) checked against the demo layers, and the
Kongsberg sample for G3. Routers reference them as `ex.NAME` (`from app import
openapi_examples as ex`); app.schemas attaches the model examples and app.openapi adds what
every operation shares (API key security, 401/403, problem schema). No example here changes
what an endpoint does. The imports below are the package's names (ruff's F401 is off here).
"""

from app.openapi_examples.checks import (
    CHECK,
    CHECK_FAILED,
    CHECK_QUEUED,
    CHECK_REQUEST,
    CHECK_REQUEST_EXAMPLES,
    CHECK_RUNNING,
    CHECK_V2,
    COMPARE,
    EMPTY_SUMMARY,
    FINDING_G1_CONFLICT,
    FINDING_G1_WARNING,
    FINDING_G2_WARNING,
    FINDING_G4_OK,
    FINDING_G5_INFO,
    FINDINGS_GEOJSON,
    G1_ACTION,
    G1_PARAGRAPH,
    LAYER_VERSIONS,
    NOT_CHECKED,
    QUICK_CHECK,
    REPORT_BAD_ATTACH,
    RULE_SET,
    RULES,
    SUMMARY,
)
from app.openapi_examples.common import (
    CRS84_URI,
    EPSG_URI,
    GEOJSON,
    HTML,
    JSON,
    PDF,
    ProblemExample,
    at,
    binary_response,
    example_response,
    geojson_response,
    join_descriptions,
    link,
    problem,
    problem_content,
    problems,
)
from app.openapi_examples.forum import (
    AGENDA_BAD_RANGE,
    AGENDA_HTML,
    FORUM_BAD_SEVERITY,
    FORUM_FINDING,
    FORUM_FINDING_PAGE,
    FORUM_RESOLVED_PAGE,
    REPORT_HTML,
    REVIEW,
    REVIEW_INVALID,
    REVIEW_REQUEST,
    SAKSNUMMER,
    SAKSNUMMER_INVALID,
    SAKSNUMMER_REQUEST,
)
from app.openapi_examples.health import HEALTHY, NOT_READY, READY
from app.openapi_examples.land_account import (
    BAD_DATE,
    LAND_ACCOUNT,
    LAND_ACCOUNT_QUEUED,
    LAND_ACCOUNT_RESERVES,
    LAND_ACCOUNT_SUMMARY,
    NO_LAND_ACCOUNT,
)
from app.openapi_examples.layers import (
    BAD_BBOX,
    DEPOSIT_GEOMETRY,
    DEPOSIT_PROPERTIES,
    LAYER,
    LAYER_FILE_INVALID,
    LAYER_ITEMS,
    LAYER_RASTER,
    LAYER_UPLOAD_BODY,
    LAYER_UPLOAD_GEOJSON,
    LAYER_VERSION_HISTORY,
    LAYER_VERSION_RASTER,
    LAYER_VERSION_VECTOR,
    RASTER_HAS_NO_ITEMS,
)
from app.openapi_examples.municipalities import MUNICIPALITIES, MUNICIPALITY, NO_MUNICIPALITY
from app.openapi_examples.ogcapi import (
    NO_COLLECTION,
    NO_ITEM,
    OGC_BAD_CRS,
    OGC_BAD_FORMAT,
    OGC_COLLECTION,
    OGC_COLLECTIONS,
    OGC_CONFORMANCE,
    OGC_ITEM,
    OGC_ITEMS,
    OGC_LANDING,
    OGC_UNKNOWN_PARAMETER,
)
from app.openapi_examples.proposals import (
    IDENTICAL_UPLOAD,
    PROPOSAL,
    PROPOSAL_FEATURES,
    PROPOSAL_PAGE,
    PROPOSAL_PUBLISHED,
    PROPOSAL_SUMMARY,
    PUBLISHED_AT,
    SHA_V1,
    SHA_V2,
    UPLOADED_AT,
    UPLOADED_AT_V2,
    VERSION,
    VERSION_1,
    VERSION_2,
)
from app.openapi_examples.rechecks import (
    IMPACT,
    NO_LAYER_VERSION,
    NOT_CURRENT_VERSION,
    RECHECK,
    RECHECK_QUEUED,
)
from app.openapi_examples.shared import (
    BAD_CRS,
    IDEMPOTENCY_CONFLICT,
    IDEMPOTENCY_IN_PROGRESS,
    INVALID_KEY,
    MISSING_KEY,
    NO_CHECK,
    NO_FINDING,
    NO_LAYER,
    NO_PROPOSAL,
    NO_VERSION,
    NO_WEBHOOK,
    NOT_YOUR_MUNICIPALITY,
)
from app.openapi_examples.uploads import (
    BINARY,
    PROPOSAL_ID,
    PROPOSAL_UPLOAD_BODY,
    UPLOAD_BODY,
    UPLOAD_FORMAT,
    UPLOAD_GEOJSON,
    UPLOAD_INVALID,
    UPLOAD_MEDIA_TYPE,
    UPLOAD_NOT_JSON,
    UPLOAD_PROBLEMS,
    UPLOAD_TOO_LARGE,
    file_body,
)
from app.openapi_examples.webhooks import (
    DELIVERIES,
    DELIVERY,
    DELIVERY_PENDING,
    DELIVERY_REDELIVERED,
    NO_DELIVERY,
    WEBHOOK,
    WEBHOOK_CREATE,
    WEBHOOK_CREATED,
    WEBHOOK_INVALID,
    WEBHOOK_UNTRUSTED_HOST,
)
from app.openapi_examples.wms import (
    WMS_CAPABILITIES,
    WMS_DESCRIPTION,
    WMS_EXCEPTION,
    WMS_FEATURE_INFO,
    WMS_GETMAP_URL,
    WMS_OPENAPI,
)
