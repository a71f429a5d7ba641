"""Test set-up: a real PostGIS database, migrated and loaded once per session.

Tests under tests/unit/ need no database and run without one (`pytest tests/unit`); every
other test is marked `db` when collected and gets the database fixtures below.
"""

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from app.access import create_api_key
from app.db import get_engine, get_sessionmaker
from app.land_account import compute_land_accounts
from app.main import create_app
from app.settings import Settings, get_settings
from layers.municipalities import load_administrative_units
from migrations.runner import upgrade
from tests.live import serve
from tests.webhook_receivers import Receiver

# The webhook tests' receivers listen on loopback, which production refuses (SSRF); the
# refusal itself is tested with this setting overridden.
os.environ.setdefault("AREALSJEKK_WEBHOOK_ALLOW_PRIVATE_NETWORKS", "true")
# Starlette's TestClient sends `Host: testserver`; production trusts only configured hosts.
os.environ.setdefault("AREALSJEKK_TRUSTED_HOSTS", '["127.0.0.1", "localhost", "::1", "testserver"]')
# Tests never fetch Kartverket's tiles: the map page uses the service's own base map.
os.environ.setdefault("AREALSJEKK_BASEMAP_URL", "offline")

PROPOSAL_TABLES = ("plan_proposal", "proposal_version", "plan_feature")
LAYER_TABLES = ("layer_version", "layer_feature")


UNIT_TESTS = Path(__file__).resolve().parent / "unit"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test outside tests/unit/ as a database test."""
    for item in items:
        if UNIT_TESTS not in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.db)


@pytest.fixture(scope="session", autouse=True)
def database(request) -> Iterator[None]:
    """Migrate the test database to head and load the boundaries once, if any test needs it."""
    if not any(item.get_closest_marker("db") for item in request.session.items):
        yield
        return
    if "AREALSJEKK_DATABASE_URL" not in os.environ:
        pytest.exit("AREALSJEKK_DATABASE_URL is not set: run the tests with `make test`", 2)
    upgrade(get_settings().database_url)
    with get_sessionmaker()() as session:
        load_administrative_units(session)
    yield
    get_engine().dispose()


@pytest.fixture(autouse=True)
def clean_tables(request) -> Iterator[None]:
    """Give every database test empty proposal and layer tables (layers kept under keep_layers)."""
    yield
    if request.node.get_closest_marker("db") is None:
        return
    tables = (
        "plan_proposal, idempotency_record, webhook, land_account, procrastinate_jobs, "
        "procrastinate_workers"
    )
    if request.node.get_closest_marker("keep_layers") is None:
        tables += ", layer_version"
    # The live server's and the workers' threads read these
    # tables while TRUNCATE locks them all: PostgreSQL may pick the TRUNCATE as a deadlock
    # victim, and a second try finds the readers done.
    for attempt in range(5):
        try:
            with get_engine().begin() as connection:
                connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            return
        except OperationalError:
            if attempt == 4:
                raise
            time.sleep(0.2)


@pytest.fixture
def app():
    """A fresh application; tests may override dependencies on it."""
    application = create_app()
    yield application
    application.dependency_overrides.clear()


@pytest.fixture(scope="session")
def api_keys(database) -> dict[str, str]:
    """One API key per role (and scope) the tests use, created once."""
    specs = {
        "admin": ("admin", None),
        "forum": ("forum", None),
        "planner_3326": ("planner", "3326"),
        "planner_3303": ("planner", "3303"),
        "case_3326": ("case_system", "3326"),
        "case_county": ("case_system", None),
    }
    with get_sessionmaker()() as session:
        session.execute(text("TRUNCATE api_key RESTART IDENTITY CASCADE"))
        session.commit()
        return {
            name: create_api_key(session, f"test {name}", role, kommunenummer)[1]
            for name, (role, kommunenummer) in specs.items()
        }


# Answers are in bokmål unless the client asks for English (app.language). The API tests
# assert on the English texts; tests of the bokmål texts send their own Accept-Language.
ENGLISH = {"Accept-Language": "en"}


@pytest.fixture
def client(app, api_keys) -> Iterator[TestClient]:
    """An HTTP client for the application, sending the admin API key."""
    with TestClient(app, headers=ENGLISH) as test_client:
        test_client.headers["Authorization"] = f"Bearer {api_keys['admin']}"
        yield test_client


@pytest.fixture
def anonymous(app) -> Iterator[TestClient]:
    """An HTTP client that sends no API key."""
    with TestClient(app, headers=ENGLISH) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def live_server() -> Iterator[str]:
    """Serve the app over real HTTP on a free loopback port, for clients like OWSLib and GDAL."""
    with serve(create_app()) as url:
        yield url


@pytest.fixture
def override_settings(app):
    """Return a function that replaces settings fields for this test's app."""

    def apply(**changes: object) -> Settings:
        settings = get_settings().model_copy(update=changes)
        app.dependency_overrides[get_settings] = lambda: settings
        return settings

    return apply


def row_counts(tables: tuple[str, ...] = PROPOSAL_TABLES) -> dict[str, int]:
    """Count the rows of the given tables (default: the proposal tables)."""
    with get_engine().connect() as connection:
        return {
            table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in tables
        }


@pytest.fixture
def receivers() -> Iterator:
    """Start webhook receivers (on loopback ports) on demand; stop them after the test."""
    started: list[Receiver] = []

    def start() -> Receiver:
        started.append(Receiver())
        return started[-1]

    yield start
    for receiver in started:
        receiver.server.shutdown()


@pytest.fixture
def accounts() -> dict[str, int]:
    """Compute the land accounts of Ål (3328: a cabin reserve above the tree line) and
    Drammen (3301: no adopted reserves) from the demo layers; their ids by kommunenummer."""
    ids = {}
    for number in ("3328", "3301"):
        (ids[number],) = compute_land_accounts(get_settings(), number, trigger="test")
    return ids
