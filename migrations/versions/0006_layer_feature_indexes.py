"""Indexes for reading layer features: (version, geometry) in one GiST, attributes in a GIN.

Every read of layer features names one layer version and a box. With an index on each
column alone, PostgreSQL picked the version's b-tree and tested the box on every feature
of the version (all 50,000 heritage features for a municipality-sized box); the two-column
GiST finds the features of that version in the box directly. btree_gist supplies the GiST
operator class for the integer column (a trusted extension: the database owner may create
it). Reads that keep only some attribute values (`attributes @> ...`, e.g. the protected
cultural environments among the heritage features) are answered by the GIN index instead of
reading every feature in the box.

Revision ID: 0006_layer_feature_indexes
Revises: 0005_access_and_integration
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006_layer_feature_indexes"
down_revision: str | None = "0005_access_and_integration"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.create_index(
        "ix_layer_feature_version_geom",
        "layer_feature",
        ["layer_version_id", "geom"],
        postgresql_using="gist",
    )
    op.drop_index("ix_layer_feature_geom", table_name="layer_feature")
    op.create_index(
        "ix_layer_feature_attributes",
        "layer_feature",
        ["attributes"],
        postgresql_using="gin",
        postgresql_ops={"attributes": "jsonb_path_ops"},
    )


def downgrade() -> None:
    op.drop_index("ix_layer_feature_attributes", table_name="layer_feature")
    op.create_index("ix_layer_feature_geom", "layer_feature", ["geom"], postgresql_using="gist")
    op.drop_index("ix_layer_feature_version_geom", table_name="layer_feature")
