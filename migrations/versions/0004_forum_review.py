"""Regional plan forum: a review status per finding and the history of its changes.

Revision ID: 0004_forum_review
Revises: 0003_checks
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_forum_review"
down_revision: str | None = "0003_checks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = "('open', 'discussed', 'accepted', 'change_required', 'objection')"


def upgrade() -> None:
    op.create_table(
        "finding_review",
        sa.Column(
            "finding_id",
            sa.BigInteger(),
            sa.ForeignKey("check_finding.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("reviewer", sa.Text(), nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(f"status IN {STATUSES}", name="ck_finding_review_status"),
    )

    op.create_table(
        "finding_review_event",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column(
            "finding_id",
            sa.BigInteger(),
            sa.ForeignKey("check_finding.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("from_status", sa.String(16), nullable=False),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("reviewer", sa.Text(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            f"from_status IN {STATUSES} AND to_status IN {STATUSES}",
            name="ck_finding_review_event_status",
        ),
    )
    op.create_index("ix_finding_review_event_finding_id", "finding_review_event", ["finding_id"])


def downgrade() -> None:
    op.drop_table("finding_review_event")
    op.drop_table("finding_review")
