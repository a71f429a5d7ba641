"""The migrated schema: matches the ORM models, and every geometry column is indexed."""

from alembic import command
from sqlalchemy import text

from app.db import get_engine
from app.settings import get_settings
from migrations.runner import alembic_config


def test_migrations_match_the_models():
    """Alembic autogenerate finds nothing to change (models and migrations agree)."""
    command.check(alembic_config(get_settings().database_url))


def test_every_geometry_column_has_a_spatial_index():
    """Each geometry column in the public schema has a GiST index on it."""
    query = text(
        """
        SELECT g.f_table_name, g.f_geometry_column, g.srid,
               EXISTS (
                 SELECT 1 FROM pg_index i
                 JOIN pg_class c ON c.oid = i.indexrelid
                 JOIN pg_am am ON am.oid = c.relam
                 JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
                 WHERE i.indrelid = (quote_ident(g.f_table_name))::regclass
                   AND a.attname = g.f_geometry_column AND am.amname = 'gist'
               ) AS indexed
        FROM geometry_columns g WHERE g.f_table_schema = 'public'
        """
    )
    with get_engine().connect() as connection:
        columns = connection.execute(query).all()
    tables = {"municipality", "county", "plan_feature", "layer_version", "layer_feature"}
    tables.add("check_finding")
    assert {c.f_table_name for c in columns} == tables
    assert all(c.srid == 25832 for c in columns)
    assert [c.f_table_name for c in columns if not c.indexed] == []
