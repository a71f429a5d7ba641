"""Where the database is: the settings every package that talks to PostGIS shares."""

from functools import lru_cache

from pydantic import Field, PositiveInt
from pydantic_settings import BaseSettings, SettingsConfigDict


class DatabaseSettings(BaseSettings):
    """Database connection settings, read as AREALSJEKK_DATABASE_URL and AREALSJEKK_DB_POOL_SIZE."""

    model_config = SettingsConfigDict(env_prefix="AREALSJEKK_", env_file=".env", extra="ignore")

    database_url: str = Field(
        "postgresql+psycopg://arealsjekk@localhost:5432/arealsjekk",
        description="SQLAlchemy URL of the PostGIS database",
    )
    db_pool_size: PositiveInt = 5


@lru_cache
def get_database_settings() -> DatabaseSettings:
    """Read the database settings once."""
    return DatabaseSettings()
