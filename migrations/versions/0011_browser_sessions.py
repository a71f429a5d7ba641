"""Browser sessions are kept on the server, so signing out ends them everywhere.

The pages' session cookie was a MAC over the API key's id and the time of sign-in: valid
until it aged out, even after «Logg ut», and tied to a secret each process drew for itself.
A session is now a row: the cookie holds a random token, the row only its SHA-256, with the
key it signs in, when it expires and when it was ended (OWASP Session Management Cheat
Sheet: "session expiration", "manual session expiration").

Revision ID: 0011_browser_sessions
Revises: 0010_forum_continuity
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_browser_sessions"
down_revision: str | None = "0010_forum_continuity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "browser_session",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column(
            "api_key_id",
            sa.Integer(),
            sa.ForeignKey("api_key.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("browser_session")
