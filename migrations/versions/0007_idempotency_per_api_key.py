"""Idempotency records belong to an API key (by id) and are purged by age.

They were scoped by a hash of the credential header, so a revoked key could still replay its
answers. The old records cannot be tied to a key id; they are retry caches that expire within
a day, so they are dropped rather than carried over.

Revision ID: 0007_idempotency_per_api_key
Revises: 0006_layer_feature_indexes
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_idempotency_per_api_key"
down_revision: str | None = "0006_layer_feature_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("DELETE FROM idempotency_record")
    op.drop_constraint("uq_idempotency_scope_key", "idempotency_record", type_="unique")
    op.drop_column("idempotency_record", "scope")
    op.add_column(
        "idempotency_record",
        sa.Column(
            "api_key_id",
            sa.Integer(),
            sa.ForeignKey("api_key.id", ondelete="CASCADE"),
            nullable=False,
        ),
    )
    op.create_unique_constraint(
        "uq_idempotency_api_key_key", "idempotency_record", ["api_key_id", "key"]
    )
    op.create_index("ix_idempotency_record_created_at", "idempotency_record", ["created_at"])


def downgrade() -> None:
    op.execute("DELETE FROM idempotency_record")
    op.drop_index("ix_idempotency_record_created_at", table_name="idempotency_record")
    op.drop_constraint("uq_idempotency_api_key_key", "idempotency_record", type_="unique")
    op.drop_column("idempotency_record", "api_key_id")
    op.add_column("idempotency_record", sa.Column("scope", sa.Text(), nullable=False))
    op.create_unique_constraint("uq_idempotency_scope_key", "idempotency_record", ["scope", "key"])
