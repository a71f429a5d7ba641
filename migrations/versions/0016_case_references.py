"""Case references and redeliveries: saksnummer/journalpostId, a webhook's base URL.

A case system (sak/arkiv) names its case (`saksnummer`, Noark 5 saksår/sekvensnummer) and
record (`journalpostId`) when it uploads a version or asks for a check; both are kept with
the version and the check and echoed wherever the check goes (API, webhook, report, agenda).
The forum's own case number stays on `plan_proposal.saksnummer`. A webhook keeps the base
URL it was registered through, for absolute links when AREALSJEKK_PUBLIC_URL is not set, and
a delivery counts how often it was sent again on request.

Revision ID: 0016_case_references
Revises: 0015_land_account
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_case_references"
down_revision: str | None = "0015_land_account"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("proposal_version", "plan_check"):
        op.add_column(table, sa.Column("saksnummer", sa.Text(), nullable=True))
        op.add_column(table, sa.Column("journalpost_id", sa.Text(), nullable=True))
    # The proposal listing filters on them.
    op.create_index("ix_proposal_version_saksnummer", "proposal_version", ["saksnummer"])
    op.create_index("ix_plan_check_saksnummer", "plan_check", ["saksnummer"])
    op.add_column("webhook", sa.Column("base_url", sa.Text(), nullable=True))
    op.add_column(
        "webhook_delivery",
        sa.Column("redeliveries", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_column("webhook_delivery", "redeliveries")
    op.drop_column("webhook", "base_url")
    op.drop_index("ix_plan_check_saksnummer", table_name="plan_check")
    op.drop_index("ix_proposal_version_saksnummer", table_name="proposal_version")
    for table in ("plan_check", "proposal_version"):
        op.drop_column(table, "journalpost_id")
        op.drop_column(table, "saksnummer")
