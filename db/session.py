"""Database engines and session factories, without any web framework."""

from functools import lru_cache

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from spatial.json_text import loads_exact


@lru_cache
def engine_for(database_url: str, pool_size: int) -> Engine:
    """Create (once per URL and pool size) the engine, so forked workers and tests get their own."""
    return create_engine(
        database_url,
        pool_size=pool_size,
        pool_pre_ping=True,  # survive a database restart without restarting the service
        # Layer feature attributes are jsonb; a check reads thousands of them.
        json_deserializer=loads_exact,
    )


@lru_cache
def sessionmaker_for(engine: Engine) -> sessionmaker[Session]:
    """Return the session factory bound to an engine."""
    return sessionmaker(bind=engine, expire_on_commit=False)
