"""Database engine and sessions."""

import logging
from collections.abc import Iterator
from functools import lru_cache
from typing import Annotated

from fastapi import Depends
from sqlalchemy import Engine, create_engine
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from app.settings import get_settings
from spatial.json_text import loads_exact

logger = logging.getLogger(__name__)


@lru_cache
def get_engine() -> Engine:
    """Create the engine lazily, so forked workers and tests each get their own pool."""
    settings = get_settings()
    return create_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        pool_pre_ping=True,  # survive a database restart without restarting the service
        # Layer feature attributes are jsonb; a check reads thousands of them.
        json_deserializer=loads_exact,
    )


@lru_cache
def get_sessionmaker() -> sessionmaker[Session]:
    """Return the session factory bound to the engine."""
    return sessionmaker(bind=get_engine(), expire_on_commit=False)


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
