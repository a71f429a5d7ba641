"""The service's database engine and the per-request session dependency."""

import logging
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends
from sqlalchemy import Engine
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from app.settings import get_settings
from db.session import engine_for, sessionmaker_for

logger = logging.getLogger(__name__)


def get_engine() -> Engine:
    """Return the engine for the configured database (created once per URL)."""
    settings = get_settings()
    return engine_for(settings.database_url, settings.db_pool_size)


def get_sessionmaker() -> sessionmaker[Session]:
    """Return the session factory bound to the engine."""
    return sessionmaker_for(get_engine())


def get_session() -> Iterator[Session]:
    """Yield a session for one request and close it afterwards."""
    session = get_sessionmaker()()
    try:
        yield session
    finally:
        try:
            session.close()
        except (OperationalError, InterfaceError):
            # The connection died after the answer was decided (a database restart): the
            # server has already rolled back what was open, and the pool drops the connection.
            # Raising here would break an answer that is already on its way to the client.
            logger.warning("database connection lost while closing a session")


SessionDep = Annotated[Session, Depends(get_session)]
