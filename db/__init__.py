"""The database: ORM models, engine and sessions, migrations; used by app/, layers/ and bench/."""
