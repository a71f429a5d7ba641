"""Rendered map tiles are kept in PostgreSQL, shared by every replica of the service.

Vector tiles (MVT from ST_AsMVT) and raster tiles (PNG from the WMS renderer) of the OGC API
– Tiles and XYZ endpoints are stored per layer, tile matrix set and tile with the stamp of
what they were made from; a request whose current stamp differs renders the tile anew, and
tiles of an older stamp are deleted (app/tiles/cache.py).

Revision ID: 0012_tile_cache
Revises: 0011_browser_sessions
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_tile_cache"
down_revision: str | None = "0011_browser_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tile_cache",
        sa.Column("kind", sa.String(8), primary_key=True),
        sa.Column("layer", sa.String(64), primary_key=True),
        sa.Column("tile_matrix_set", sa.String(32), primary_key=True),
        sa.Column("z", sa.SmallInteger(), primary_key=True),
        sa.Column("x", sa.Integer(), primary_key=True),
        sa.Column("y", sa.Integer(), primary_key=True),
        sa.Column("stamp", sa.String(64), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    )
    op.create_index("ix_tile_cache_layer_stamp", "tile_cache", ["kind", "layer", "stamp"])
    op.create_index("ix_tile_cache_created_at", "tile_cache", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_tile_cache_created_at", table_name="tile_cache")
    op.drop_index("ix_tile_cache_layer_stamp", table_name="tile_cache")
    op.drop_table("tile_cache")
