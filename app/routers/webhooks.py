"""Webhooks for case systems: register callback URLs, see their deliveries, send one again."""

import secrets
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator
from sqlalchemy import select

from app import openapi_examples as ex
from app.db import SessionDep
from app.dependencies import INT4_MAX, SettingsDep
from app.errors import StateConflictError
from app.security import Principal, require_roles
from app.urls import absolute, public_base_url
from app.webhooks import EVENTS, redeliver, refused_target
from db.models import WebhookDeliveryOrm, WebhookOrm
from spatial.errors import InvalidInputError, NotFoundError, Problem
from spatial.messages import Text

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])
IntegratorDep = Annotated[Principal, Depends(require_roles("case_system", "admin"))]
WebhookIdPath = Annotated[int, Path(ge=1, le=INT4_MAX, description="webhook id", examples=[1])]
DeliveryIdPath = Annotated[int, Path(ge=1, le=INT4_MAX, description="delivery id", examples=[7])]


class WebhookCreate(BaseModel):
    """A webhook to register."""

    model_config = ConfigDict(json_schema_extra={"examples": [ex.WEBHOOK_CREATE]})

    url: HttpUrl = Field(description="where to POST events", examples=["https://sak.example/hook"])
    events: list[str] = Field(
        default_factory=lambda: list(EVENTS),
        description=f"events to send, among {list(EVENTS)}; all when left out",
        examples=[list(EVENTS)],
    )
    secret: str | None = Field(
        None, min_length=16, description="shared secret for signatures; generated if left out"
    )

    @field_validator("events")
    @classmethod
    def _known_events(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(EVENTS))
        if unknown or not value:
            raise ValueError(f"events must be among {list(EVENTS)}; unknown: {unknown}")
        return list(dict.fromkeys(value))  # each event once, in the order given


class WebhookPublic(BaseModel):
    """A registered webhook (the secret is shown only when it is created)."""

    model_config = ConfigDict(json_schema_extra={"examples": [ex.WEBHOOK_CREATED]})

    id: int
    url: str
    events: list[str]
    active: bool
    created_at: datetime
    secret: str | None = None


class DeliveryPublic(BaseModel):
    """One delivery of an event to a webhook."""

    model_config = ConfigDict(json_schema_extra={"examples": [ex.DELIVERY]})

    id: int
    event: str
    status: str
    attempts: int = Field(description="attempts since it was queued or last re-sent")
    redeliveries: int = Field(0, description="how often it was re-sent on request")
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    created_at: datetime
    delivered_at: datetime | None
    payload: dict[str, Any]


def _public(hook: WebhookOrm, secret: str | None = None) -> WebhookPublic:
    return WebhookPublic(
        id=hook.id,
        url=hook.url,
        events=hook.events,
        active=hook.active,
        created_at=hook.created_at,
        secret=secret,
    )


def _own(session: SessionDep, principal: Principal, webhook_id: int) -> WebhookOrm:
    hook = session.get(WebhookOrm, webhook_id)
    # Another client's webhook is reported as missing, not as forbidden: ids leak nothing.
    if hook is None or (hook.api_key_id != principal.key_id and principal.role != "admin"):
        raise NotFoundError(
            Text(f"finner ingen webhook nr. {webhook_id}", f"no webhook {webhook_id}")
        )
    return hook


@router.post(
    "",
    response_model=WebhookPublic,
    status_code=201,
    responses={
        201: ex.example_response(
            ex.WEBHOOK_CREATED, "Registered; keep the secret", location="URL of the webhook"
        ),
        **ex.problems(ex.WEBHOOK_INVALID, ex.WEBHOOK_UNTRUSTED_HOST),
    },
)
def register_webhook(
    body: WebhookCreate,
    session: SessionDep,
    principal: IntegratorDep,
    settings: SettingsDep,
    request: Request,
    response: Response,
) -> WebhookPublic:
    """Register a URL for events (check.completed, finding.reviewed, proposal.published);
    the signing secret is returned once."""
    refused = refused_target(str(body.url), settings.webhook_allow_private_networks)
    if refused is not None:
        # The reason names addresses and RFCs: kept as written, inside a bokmål sentence.
        reason = Text(f"adressen kan ikke brukes for webhook ({refused})", f"url: {refused}")
        raise InvalidInputError(reason, [Problem(refused, field="url")])
    # Links in this webhook's payloads start here when AREALSJEKK_PUBLIC_URL is unset; a Host
    # that is not trusted is refused (400) rather than leaving every later payload's links
    # relative (OWASP, "Testing for Host Header Injection").
    base_url = public_base_url(request, settings)
    secret = body.secret or secrets.token_urlsafe(32)
    hook = WebhookOrm(
        api_key_id=principal.key_id,
        url=str(body.url),
        secret=secret,
        events=body.events,
        base_url=base_url,
    )
    session.add(hook)
    session.commit()
    response.headers["Location"] = absolute(base_url, f"{router.prefix}/{hook.id}")
    return _public(hook, secret)


@router.get(
    "", response_model=list[WebhookPublic], responses={200: ex.example_response([ex.WEBHOOK])}
)
def list_webhooks(session: SessionDep, principal: IntegratorDep) -> list[WebhookPublic]:
    """List this client's webhooks."""
    hooks = session.execute(
        select(WebhookOrm).where(WebhookOrm.api_key_id == principal.key_id).order_by(WebhookOrm.id)
    ).scalars()
    return [_public(hook) for hook in hooks]


@router.delete(
    "/{webhook_id}",
    status_code=204,
    responses={204: {"description": "Removed"}, **ex.problems(ex.NO_WEBHOOK)},
)
def delete_webhook(
    webhook_id: WebhookIdPath, session: SessionDep, principal: IntegratorDep
) -> None:
    """Remove a webhook and its delivery log."""
    session.delete(_own(session, principal, webhook_id))
    session.commit()


@router.get(
    "/{webhook_id}/deliveries",
    response_model=list[DeliveryPublic],
    responses={
        200: ex.example_response(ex.DELIVERIES, "The deliveries, newest first"),
        **ex.problems(ex.at(ex.NO_WEBHOOK, "/api/v1/webhooks/12/deliveries")),
    },
)
def list_deliveries(
    webhook_id: WebhookIdPath, session: SessionDep, principal: IntegratorDep
) -> list[DeliveryPublic]:
    """List a webhook's deliveries, newest first, with attempts and the last answer."""
    hook = _own(session, principal, webhook_id)
    rows = session.execute(
        select(WebhookDeliveryOrm)
        .where(WebhookDeliveryOrm.webhook_id == hook.id)
        .order_by(WebhookDeliveryOrm.id.desc())
    ).scalars()
    return [DeliveryPublic.model_validate(row, from_attributes=True) for row in rows]


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/redeliver",
    response_model=DeliveryPublic,
    status_code=202,
    responses={
        202: ex.example_response(ex.DELIVERY_REDELIVERED, "Queued again; sent by the next round"),
        **ex.problems(
            ex.at(ex.NO_DELIVERY, "/api/v1/webhooks/1/deliveries/99/redeliver"),
            ex.DELIVERY_PENDING,
        ),
    },
)
def redeliver_delivery(
    webhook_id: WebhookIdPath,
    delivery_id: DeliveryIdPath,
    session: SessionDep,
    principal: IntegratorDep,
) -> DeliveryPublic:
    """Send a delivered or given-up delivery again, with the same delivery id and body
    (receivers de-duplicate by X-Arealsjekk-Delivery) and a fresh set of attempts; each
    re-send carries `X-Arealsjekk-Redelivery: <n>`."""
    hook = _own(session, principal, webhook_id)
    # Locked: a round that is sending it now cannot record its outcome in between.
    delivery = session.get(WebhookDeliveryOrm, delivery_id, with_for_update=True)
    if delivery is None or delivery.webhook_id != hook.id:
        raise NotFoundError(
            Text(
                f"webhook nr. {webhook_id} har ingen levering nr. {delivery_id}",
                f"webhook {webhook_id} has no delivery {delivery_id}",
            )
        )
    if delivery.status == "pending":
        raise StateConflictError(
            Text(
                f"levering nr. {delivery_id} er ikke ferdig ennå (den sendes eller prøves igjen); "
                "den kan sendes på nytt når den er levert eller gitt opp",
                f"delivery {delivery_id} is not finished yet (being sent or retried); "
                "it can be sent again once delivered or given up",
            )
        )
    redeliver(session, delivery)
    session.commit()
    return DeliveryPublic.model_validate(delivery, from_attributes=True)
