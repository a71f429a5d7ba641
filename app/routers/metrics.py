"""GET /metrics: Prometheus metrics of this process and of the job queue (app.metrics).

Not part of the API description. When AREALSJEKK_METRICS_TOKEN is set the scraper must send
`Authorization: Bearer <token>` (Prometheus: `authorization: {credentials: …}` in the scrape
config); the token is compared in constant time (hmac.compare_digest), so the time of a
refusal does not tell how much of a guess was right.
"""

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, Header
from fastapi.responses import Response
from prometheus_client.exposition import choose_encoder

from app.access import AuthenticationError
from app.dependencies import SettingsDep
from app.metrics import API_REGISTRY
from spatial.messages import Text

METRICS_PATH = "/metrics"

router = APIRouter(include_in_schema=False)


def _bearer(authorization: str | None) -> str | None:
    scheme, _, credentials = (authorization or "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else None


def require_metrics_token(
    settings: SettingsDep,
    authorization: Annotated[str | None, Header()] = None,
) -> None:
    """Refuse the scrape (401) unless it carries the metrics token, when one is configured."""
    if settings.metrics_token is None:
        return
    expected = settings.metrics_token.get_secret_value().encode()
    given = (_bearer(authorization) or "").encode()
    if not hmac.compare_digest(given, expected):
        raise AuthenticationError(
            Text(
                "metrikkene krever tokenet i AREALSJEKK_METRICS_TOKEN "
                "(Authorization: Bearer <token>)",
                "the metrics need the token set in AREALSJEKK_METRICS_TOKEN "
                "(Authorization: Bearer <token>)",
            )
        )


@router.get(METRICS_PATH, dependencies=[Depends(require_metrics_token)])
def metrics(accept: Annotated[str | None, Header()] = None) -> Response:
    """Serve the metrics in the exposition format the scraper asks for (text or OpenMetrics)."""
    encoder, content_type = choose_encoder(accept)
    # A synchronous endpoint: the database-derived gauges are read while encoding, in a
    # worker thread rather than on the event loop.
    return Response(
        encoder(API_REGISTRY),
        media_type=content_type,
        headers={"Cache-Control": "no-store"},
    )
