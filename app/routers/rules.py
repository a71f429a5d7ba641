"""The rule set: every rule with its paragraph, text, parameters and their reasons."""

from typing import Any

from fastapi import APIRouter

from app import openapi_examples as ex
from app.check_runner import get_rule_set
from app.dependencies import SettingsDep

router = APIRouter(prefix="/api/v1/rules", tags=["rules"])


@router.get(
    "",
    responses={
        200: ex.example_response(
            ex.RULES, "The rule set document with its checksum (G1 shown, shortened)"
        )
    },
)
def get_rules(settings: SettingsDep) -> dict[str, Any]:
    """Return the rule set in use: id, version, checksum and each rule's parameters."""
    rule_set = get_rule_set(settings)
    return {**rule_set.document, "checksum": rule_set.checksum}
