"""A check keeps the rule set it runs: the text as read, stored once under its checksum.

A queued check used to record the rule set's checksum and then load the configured rule set
again when it ran, so a check queued (or resumed after a restart) across a change of the rule
set file recorded one rule set and ran another. Checks now name a row of rule_set_text.

Checks made before this migration name rule sets whose text was never stored: the foreign
key is added NOT VALID, so those rows stay as they are while every new check must name a
stored text.

Revision ID: 0008_rule_set_text
Revises: 0007_idempotency_per_api_key
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_rule_set_text"
down_revision: str | None = "0007_idempotency_per_api_key"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rule_set_text",
        sa.Column("checksum", sa.String(64), primary_key=True),
        sa.Column("rule_set_id", sa.Text(), nullable=False),
        sa.Column("rule_set_version", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "checksum = encode(sha256(convert_to(text, 'UTF8')), 'hex')",
            name="ck_rule_set_text_checksum",
        ),
    )
    op.execute(
        "ALTER TABLE plan_check ADD CONSTRAINT fk_plan_check_rule_set_text "
        "FOREIGN KEY (rule_set_checksum) REFERENCES rule_set_text (checksum) NOT VALID"
    )


def downgrade() -> None:
    op.drop_constraint("fk_plan_check_rule_set_text", "plan_check", type_="foreignkey")
    op.drop_table("rule_set_text")
