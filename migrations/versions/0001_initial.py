"""Initial schema: municipalities, county, plan proposals, versions and features.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SRID = 25832  # canonical CRS, ETRS89 / UTM 32N


def _geom() -> geoalchemy2.Geometry:
    return geoalchemy2.Geometry("MULTIPOLYGON", srid=SRID, spatial_index=False)


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")

    op.create_table(
        "municipality",
        sa.Column("kommunenummer", sa.String(4), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("region", sa.Text(), nullable=False),
        sa.Column("centrality_class", sa.SmallInteger(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column(
            "loaded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("geom", _geom(), nullable=False),
        sa.CheckConstraint("kommunenummer ~ '^[0-9]{4}$'", name="ck_municipality_kommunenummer"),
        sa.CheckConstraint("centrality_class BETWEEN 1 AND 6", name="ck_municipality_centrality"),
    )
    op.create_index("ix_municipality_geom", "municipality", ["geom"], postgresql_using="gist")

    op.create_table(
        "county",
        sa.Column("fylkesnummer", sa.String(2), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column(
            "loaded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("geom", _geom(), nullable=False),
    )
    op.create_index("ix_county_geom", "county", ["geom"], postgresql_using="gist")

    op.create_table(
        "plan_proposal",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "kommunenummer",
            sa.String(4),
            sa.ForeignKey("municipality.kommunenummer"),
            nullable=False,
        ),
        sa.Column("planidentifikasjon", sa.String(16), nullable=False),
        sa.Column("plantype", sa.SmallInteger(), nullable=False),
        sa.Column("planstatus", sa.SmallInteger(), nullable=True),
        sa.Column("plannavn", sa.Text(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.UniqueConstraint("kommunenummer", "planidentifikasjon", name="uq_plan_proposal_planid"),
    )

    op.create_table(
        "proposal_version",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "proposal_id",
            sa.Integer(),
            sa.ForeignKey("plan_proposal.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("plantype", sa.SmallInteger(), nullable=False),
        sa.Column("planstatus", sa.SmallInteger(), nullable=True),
        sa.Column("plannavn", sa.Text(), nullable=True),
        sa.Column("source_format", sa.Text(), nullable=False),
        sa.Column("source_crs", sa.Text(), nullable=False),
        sa.Column("source_filename", sa.Text(), nullable=True),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("feature_count", sa.Integer(), nullable=False),
        sa.Column("report", postgresql.JSONB(), nullable=False),
        sa.Column(
            "uploaded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.UniqueConstraint("proposal_id", "version", name="uq_proposal_version_number"),
        sa.CheckConstraint("version >= 1", name="ck_proposal_version_positive"),
    )

    op.create_table(
        "plan_feature",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column(
            "version_id",
            sa.Integer(),
            sa.ForeignKey("proposal_version.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Text(), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("arealformal", sa.SmallInteger(), nullable=True),
        sa.Column("arealbruksstatus", sa.SmallInteger(), nullable=True),
        sa.Column("feltnavn", sa.Text(), nullable=True),
        sa.Column("hensynssone", sa.SmallInteger(), nullable=True),
        sa.Column("hensynssone_navn", sa.Text(), nullable=True),
        sa.Column("properties", postgresql.JSONB(), nullable=False),
        sa.Column("geom", _geom(), nullable=False),
        sa.UniqueConstraint("version_id", "position", name="uq_plan_feature_position"),
        sa.CheckConstraint(
            "kind IN ('planomrade', 'arealformal', 'hensynssone')", name="ck_plan_feature_kind"
        ),
    )
    op.create_index("ix_plan_feature_version_id", "plan_feature", ["version_id"])
    op.create_index("ix_plan_feature_geom", "plan_feature", ["geom"], postgresql_using="gist")


def downgrade() -> None:
    op.drop_table("plan_feature")
    op.drop_table("proposal_version")
    op.drop_table("plan_proposal")
    op.drop_table("county")
    op.drop_table("municipality")
