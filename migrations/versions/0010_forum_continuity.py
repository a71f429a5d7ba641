"""The forum's work follows a plan across versions, and reviews record who made them.

A check remembers the check it was compared with (the proposal's previous finished check),
and each finding whether it is new, unchanged or changed since then and which finding it
continues; a review carried over from an earlier version says from which. Reviews and
their history record the name of the API key and, behind a login proxy, the user. A
proposal may carry the forum's case number (saksnummer) for the meeting agenda.

Revision ID: 0010_forum_continuity
Revises: 0009_area_keys
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_forum_continuity"
down_revision: str | None = "0009_area_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COMPARISONS = "('new', 'unchanged', 'changed')"


def upgrade() -> None:
    op.add_column(
        "plan_check",
        sa.Column(
            "previous_check_id",
            sa.Integer(),
            sa.ForeignKey("plan_check.id", name="fk_plan_check_previous", ondelete="SET NULL"),
            nullable=True,
        ),
    )
    op.add_column("check_finding", sa.Column("comparison", sa.String(10), nullable=True))
    op.create_check_constraint(
        "ck_check_finding_comparison", "check_finding", f"comparison IN {COMPARISONS}"
    )
    op.add_column(
        "check_finding",
        sa.Column(
            "previous_finding_id",
            sa.BigInteger(),
            sa.ForeignKey(
                "check_finding.id", name="fk_check_finding_previous", ondelete="SET NULL"
            ),
            nullable=True,
        ),
    )
    op.create_index("ix_check_finding_fingerprint", "check_finding", ["check_id", "fingerprint"])
    for table in ("finding_review", "finding_review_event"):
        op.add_column(table, sa.Column("carried_from_version", sa.Integer(), nullable=True))
        op.add_column(table, sa.Column("key_name", sa.Text(), nullable=True))
        op.add_column(table, sa.Column("user_name", sa.Text(), nullable=True))
    op.add_column("plan_proposal", sa.Column("saksnummer", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("plan_proposal", "saksnummer")
    for table in ("finding_review_event", "finding_review"):
        op.drop_column(table, "user_name")
        op.drop_column(table, "key_name")
        op.drop_column(table, "carried_from_version")
    op.drop_index("ix_check_finding_fingerprint", table_name="check_finding")
    op.drop_column("check_finding", "previous_finding_id")
    op.drop_constraint("ck_check_finding_comparison", "check_finding", type_="check")
    op.drop_column("check_finding", "comparison")
    op.drop_column("plan_check", "previous_check_id")
