"""The migrated schema: matches the ORM models, and every geometry column is indexed."""

import json

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
    tables |= {"land_account_area", "land_account_finding"}
    assert {c.f_table_name for c in columns} == tables
    assert all(c.srid == 25832 for c in columns)
    assert [c.f_table_name for c in columns if not c.indexed] == []


def test_migration_0009_keys_stored_areas_as_uploads_are_keyed(client):
    """Areas stored before area keys get the keys an upload now gets: lokalId (flat or in
    identifikasjon), passed over where shared, then feltnavn, feature id, position; their
    findings' names are their old keys."""
    from tests.plans import cabin_area, collection, encode  # a DB test's helpers

    areas = [cabin_area(f"BFR{i}", lon=8.40 + 0.01 * i) for i in range(4)]
    areas[0]["properties"]["lokalId"] = "flat-0"
    areas[1]["properties"]["identifikasjon"] = {"lokalId": "nested-1"}
    areas[2]["properties"]["lokalId"] = "shared"
    areas[3]["properties"]["lokalId"] = "shared"
    response = client.post("/api/v1/proposals", content=encode(collection(*areas)))
    assert response.status_code == 201, response.text
    client.post(f"{response.json()['links'][0]['href']}/checks")
    query = text("SELECT lokal_id, area_key FROM plan_feature ORDER BY position")
    with get_engine().connect() as connection:
        uploaded = connection.execute(query).all()
    assert [key for _, key in uploaded] == ["flat-0", "nested-1", "BFR2", "BFR3"]
    findings = text(
        "SELECT id, plan_feature_keys, plan_feature_names, fingerprint FROM check_finding "
        "WHERE plan_feature_ids <> '[]' ORDER BY id"
    )
    with get_engine().connect() as connection:
        checked = connection.execute(findings).all()
    assert {key for row in checked for key in row.plan_feature_keys} >= {"flat-0", "nested-1"}
    config = alembic_config(get_settings().database_url)
    get_engine().dispose()
    command.downgrade(config, "0008_rule_set_text")
    # As stored before: keyed by feltnavn, fingerprints made from those keys.
    with get_engine().begin() as connection:
        for row in checked:
            connection.execute(
                text(
                    "UPDATE check_finding SET plan_feature_keys = CAST(:names AS jsonb), "
                    "fingerprint = 'old' WHERE id = :id"
                ),
                {"names": json.dumps(row.plan_feature_names), "id": row.id},
            )
    get_engine().dispose()
    command.upgrade(config, "head")
    with get_engine().connect() as connection:
        assert connection.execute(query).all() == uploaded
        assert connection.execute(findings).all() == checked


def test_migration_0013_gives_waiting_work_its_jobs(client, override_settings):
    """Checks a process left queued and pending webhook deliveries, from before the job
    queue, get their jobs when the queue's tables are created (nothing re-queues at start)."""
    from tests.plans import cabin_area, collection, encode  # a DB test's helpers

    override_settings(sync_check_max_features=0)  # every check waits for a worker
    response = client.post("/api/v1/proposals", content=encode(collection(cabin_area("BFR1"))))
    assert response.status_code == 201, response.text
    queued = client.post(f"{response.json()['links'][0]['href']}/checks")
    assert queued.status_code == 202, queued.text
    config = alembic_config(get_settings().database_url)
    get_engine().dispose()
    command.downgrade(config, "0012_tile_cache")
    with get_engine().begin() as connection:
        connection.execute(text("UPDATE plan_check SET status = 'running'"))
    command.upgrade(config, "head")
    with get_engine().connect() as connection:
        jobs = connection.execute(
            text("SELECT task_name, lock, args, status::text FROM procrastinate_jobs")
        ).all()
    check_id = queued.json()["id"]
    assert [tuple(job) for job in jobs] == [
        ("run_check", f"check:{check_id}", {"check_id": check_id}, "todo")
    ]
