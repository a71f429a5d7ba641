"""Checks of proposal versions and their findings.

Revision ID: 0003_checks
Revises: 0002_layers
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003_checks"
down_revision: str | None = "0002_layers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "plan_check",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "proposal_version_id",
            sa.Integer(),
            sa.ForeignKey("proposal_version.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("rule_set_id", sa.Text(), nullable=False),
        sa.Column("rule_set_version", sa.Text(), nullable=False),
        sa.Column("rule_set_checksum", sa.String(64), nullable=False),
        sa.Column("requested_layer_versions", postgresql.JSONB(), nullable=True),
        sa.Column("layer_versions", postgresql.JSONB(), nullable=True),
        sa.Column("timings_ms", postgresql.JSONB(), nullable=True),
        sa.Column("summary", postgresql.JSONB(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'done', 'failed')", name="ck_plan_check_status"
        ),
    )
    op.create_index("ix_plan_check_proposal_version_id", "plan_check", ["proposal_version_id"])

    op.create_table(
        "check_finding",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column(
            "check_id",
            sa.Integer(),
            sa.ForeignKey("plan_check.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.String(16), nullable=False),
        sa.Column("check", sa.String(64), nullable=False),
        sa.Column("paragraph", sa.Text(), nullable=False),
        sa.Column("severity", sa.String(8), nullable=False),
        sa.Column("plan_feature_ids", postgresql.JSONB(), nullable=False),
        sa.Column("plan_feature_keys", postgresql.JSONB(), nullable=False),
        sa.Column("layer_refs", postgresql.JSONB(), nullable=False),
        sa.Column("measures", postgresql.JSONB(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("suggested_action", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.Column(
            "geom",
            geoalchemy2.Geometry("GEOMETRY", srid=25832, spatial_index=False),
            nullable=True,
        ),
        sa.CheckConstraint(
            "severity IN ('conflict', 'warning', 'unknown', 'info', 'ok')",
            name="ck_check_finding_severity",
        ),
        sa.UniqueConstraint("check_id", "position", name="uq_check_finding_position"),
    )
    op.create_index("ix_check_finding_check_id", "check_finding", ["check_id"])
    op.create_index("ix_check_finding_geom", "check_finding", ["geom"], postgresql_using="gist")


def downgrade() -> None:
    op.drop_table("check_finding")
    op.drop_table("plan_check")
