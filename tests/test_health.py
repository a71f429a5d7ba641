from app.migrate import head_revision


def test_healthz_answers_while_the_process_is_up(client):
    """/healthz needs nothing but the process."""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_readyz_reports_database_and_migration_head(client):
    """/readyz is ready when the database is reachable and migrated to the code's head."""
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["checks"]["database"] == "reachable"
    assert body["checks"]["migrations_current"] == head_revision() == "0001_initial"


def test_readyz_is_503_when_the_database_is_unreachable(app, client, monkeypatch):
    """An unreachable database makes the service not ready (503), not an error page."""
    from sqlalchemy import create_engine

    from app.routers import health

    broken = create_engine("postgresql+psycopg://nobody@/nowhere?host=/nonexistent-socket-dir")
    monkeypatch.setattr(health, "get_engine", lambda: broken)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "unreachable"
