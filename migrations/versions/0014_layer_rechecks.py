"""Re-checks after a layer changes: one batch per request, and the checks it queued.

A batch (`layer_recheck`) names the layer version it re-checks against and how far the
rules reach into that layer; its job (`recheck_layer`, app/jobs.py) finds the features that
changed since the previous version, queues a check of every current proposal version within
reach of them and records the counts. Each such check links back to its batch
(`plan_check.recheck_id`), which is how the version's impact is read. At most one batch per
layer version is waiting or running at a time (a partial unique index).

Revision ID: 0014_layer_rechecks
Revises: 0013_job_queue
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014_layer_rechecks"
down_revision: str | None = "0013_job_queue"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "layer_recheck",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "layer_version_id",
            sa.Integer(),
            sa.ForeignKey("layer_version.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("layer_id", sa.String(64), nullable=False),
        sa.Column("layer_version", sa.Integer(), nullable=False),
        sa.Column("previous_version", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("requested_by", sa.Text(), nullable=False),
        sa.Column("reach_m", sa.Float(), nullable=True),
        sa.Column("proposal_versions", sa.Integer(), nullable=True),
        sa.Column("details", postgresql.JSONB(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'done', 'failed')", name="ck_layer_recheck_status"
        ),
    )
    op.create_index("ix_layer_recheck_layer_version_id", "layer_recheck", ["layer_version_id"])
    op.create_index(
        "uq_layer_recheck_pending",
        "layer_recheck",
        ["layer_id", "layer_version"],
        unique=True,
        postgresql_where=sa.text("status IN ('queued', 'running')"),
    )
    op.add_column("plan_check", sa.Column("recheck_id", sa.Integer(), nullable=True))
    op.create_foreign_key(
        "fk_plan_check_recheck",
        "plan_check",
        "layer_recheck",
        ["recheck_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_index("ix_plan_check_recheck_id", "plan_check", ["recheck_id"])


def downgrade() -> None:
    op.drop_index("ix_plan_check_recheck_id", table_name="plan_check")
    op.drop_constraint("fk_plan_check_recheck", "plan_check", type_="foreignkey")
    op.drop_column("plan_check", "recheck_id")
    op.drop_index("uq_layer_recheck_pending", table_name="layer_recheck")
    op.drop_index("ix_layer_recheck_layer_version_id", table_name="layer_recheck")
    op.drop_table("layer_recheck")
