"""The land account (arealregnskap): each computation per municipality, its areas and findings.

A computation (`land_account`) records when it ran, what asked for it, the method, rule set
and layer versions it used, and its totals; it is never updated, so the accounts over time
are the indicator's series. Its areas (`land_account_area`) are the adopted areas measured,
with their unbuilt part as geometry; its findings (`land_account_finding`) are the rule
engine's findings on the reserves.

Revision ID: 0015_land_account
Revises: 0014_layer_rechecks
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision: str = "0015_land_account"
down_revision: str | None = "0014_layer_rechecks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SRID = 25832


def upgrade() -> None:
    op.create_table(
        "land_account",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "kommunenummer",
            sa.String(4),
            sa.ForeignKey("municipality.kommunenummer"),
            nullable=False,
        ),
        sa.Column(
            "computed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("trigger", sa.Text(), nullable=False),
        sa.Column("method_id", sa.Text(), nullable=False),
        sa.Column("method_version", sa.Text(), nullable=False),
        sa.Column("method_checksum", sa.String(64), nullable=False),
        sa.Column("rule_set_id", sa.Text(), nullable=False),
        sa.Column("rule_set_version", sa.Text(), nullable=False),
        sa.Column(
            "rule_set_checksum",
            sa.String(64),
            sa.ForeignKey("rule_set_text.checksum", name="fk_land_account_rule_set_text"),
            nullable=False,
        ),
        sa.Column("layer_versions", postgresql.JSONB(), nullable=False),
        sa.Column("totals", postgresql.JSONB(), nullable=False),
        sa.Column("notes", postgresql.JSONB(), nullable=False),
    )
    op.create_index(
        "ix_land_account_kommune_time", "land_account", ["kommunenummer", "computed_at"]
    )
    op.create_table(
        "land_account_area",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey("land_account.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("feature_key", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("planidentifikasjon", sa.Text(), nullable=True),
        sa.Column("arealformal", sa.Integer(), nullable=False),
        sa.Column("arealbruksstatus", sa.SmallInteger(), nullable=True),
        sa.Column("purpose_group", sa.String(32), nullable=False),
        sa.Column("is_reserve", sa.Boolean(), nullable=False),
        sa.Column("area_m2", sa.Float(), nullable=False),
        sa.Column("built_m2", sa.Float(), nullable=False),
        sa.Column("unbuilt_m2", sa.Float(), nullable=False),
        sa.Column("building_count", sa.Integer(), nullable=False),
        sa.Column("lots", sa.Integer(), nullable=True),
        sa.Column("conflicts", postgresql.JSONB(), nullable=False),
        sa.Column("conflict_m2", sa.Float(), nullable=False),
        sa.Column(
            "geom",
            Geometry("MULTIPOLYGON", srid=SRID, spatial_index=False),
            nullable=True,
        ),
        sa.UniqueConstraint("account_id", "position", name="uq_land_account_area_position"),
    )
    op.create_index("ix_land_account_area_account_id", "land_account_area", ["account_id"])
    op.create_index(
        "ix_land_account_area_geom", "land_account_area", ["geom"], postgresql_using="gist"
    )
    op.create_table(
        "land_account_finding",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey("land_account.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "area_id",
            sa.BigInteger(),
            sa.ForeignKey("land_account_area.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("rule_id", sa.String(16), nullable=False),
        sa.Column("check", sa.String(64), nullable=False),
        sa.Column("paragraph", sa.Text(), nullable=False),
        sa.Column("severity", sa.String(8), nullable=False),
        sa.Column("layer_refs", postgresql.JSONB(), nullable=False),
        sa.Column("measures", postgresql.JSONB(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("suggested_action", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.Column("area_m2", sa.Float(), nullable=False),
        sa.Column("geom", Geometry("GEOMETRY", srid=SRID, spatial_index=False), nullable=True),
        sa.CheckConstraint(
            "severity IN ('conflict', 'warning', 'unknown', 'info', 'ok')",
            name="ck_land_account_finding_severity",
        ),
    )
    op.create_index("ix_land_account_finding_account_id", "land_account_finding", ["account_id"])
    op.create_index("ix_land_account_finding_area_id", "land_account_finding", ["area_id"])
    op.create_index(
        "ix_land_account_finding_geom", "land_account_finding", ["geom"], postgresql_using="gist"
    )


def downgrade() -> None:
    op.drop_table("land_account_finding")
    op.drop_table("land_account_area")
    op.drop_table("land_account")
