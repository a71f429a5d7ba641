"""Guideline layers: versions with provenance and vector features.

Revision ID: 0002_layers
Revises: 0001_initial
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002_layers"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SRID = 25832


def upgrade() -> None:
    op.create_table(
        "layer_version",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("layer_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("checksum", sa.String(64), nullable=False),
        sa.Column("feature_count", sa.Integer(), nullable=False),
        sa.Column(
            "extent",
            geoalchemy2.Geometry("POLYGON", srid=SRID, spatial_index=False),
            nullable=False,
        ),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("source_date", sa.Date(), nullable=True),
        sa.Column("licence", sa.Text(), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("raster_file", sa.Text(), nullable=True),
        sa.Column("details", postgresql.JSONB(), nullable=False),
        sa.Column(
            "loaded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.UniqueConstraint("layer_id", "version", name="uq_layer_version_number"),
        sa.CheckConstraint("version >= 1", name="ck_layer_version_positive"),
    )
    op.create_index("ix_layer_version_extent", "layer_version", ["extent"], postgresql_using="gist")

    op.create_table(
        "layer_feature",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column(
            "layer_version_id",
            sa.Integer(),
            sa.ForeignKey("layer_version.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("source_fid", sa.Text(), nullable=True),
        sa.Column("attributes", postgresql.JSONB(), nullable=False),
        sa.Column(
            "geom",
            geoalchemy2.Geometry("GEOMETRY", srid=SRID, spatial_index=False),
            nullable=False,
        ),
    )
    op.create_index("ix_layer_feature_layer_version_id", "layer_feature", ["layer_version_id"])
    op.create_index("ix_layer_feature_geom", "layer_feature", ["geom"], postgresql_using="gist")


def downgrade() -> None:
    op.drop_table("layer_feature")
    op.drop_table("layer_version")
