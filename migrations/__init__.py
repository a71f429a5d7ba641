"""Alembic migrations of the Arealsjekk schema."""
