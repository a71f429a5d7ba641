import gc

from app.settings import get_settings
from migrations.runner import head_revision


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
    assert body["checks"]["migrations_current"] == head_revision() is not None


def test_readyz_is_503_when_the_database_is_unreachable(app, client, monkeypatch):
    """An unreachable database makes the service not ready (503), not an error page."""
    from sqlalchemy import create_engine

    from app.routers import health

    broken = create_engine("postgresql+psycopg://nobody@/nowhere?host=/nonexistent-socket-dir")
    monkeypatch.setattr(health, "get_engine", lambda: broken)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "unreachable"


def test_api_docs_are_served_without_a_cdn(client):
    """Swagger UI and its assets come from the service itself, and the OpenAPI is valid JSON."""
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    assert "/api/v1/docs/static/swagger-ui-bundle.js" in page.text
    assert "cdn" not in page.text.lower()
    assert client.get("/api/v1/docs/static/swagger-ui-bundle.js").status_code == 200
    spec = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/proposals" in spec["paths"]


def test_startup_tunes_the_garbage_collector(client):
    """The running service collects generation 0 as rarely as configured (large uploads)."""
    assert gc.get_threshold()[0] == get_settings().gc_generation0_threshold > 700
    assert gc.get_freeze_count() > 0


def test_probes_answer_head_too(anonymous):
    """Load balancers and monitors often probe with HEAD."""
    for path in ("/healthz", "/readyz"):
        response = anonymous.head(path)
        assert response.status_code == 200 and response.content == b""
