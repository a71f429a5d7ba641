"""Operator commands: `arealsjekk migrate | load-municipalities | setup | serve`."""

import typer
import uvicorn

from app.db import get_sessionmaker
from app.migrate import upgrade
from app.settings import get_settings
from layers.municipalities import load_administrative_units

app = typer.Typer(help="Arealsjekk operator commands.", no_args_is_help=True)


@app.command()
def migrate() -> None:
    """Migrate the database to the newest schema (alembic upgrade head)."""
    upgrade(get_settings().database_url)
    typer.echo("database migrated to head")


@app.command("load-municipalities")
def load_municipalities() -> None:
    """Load Buskerud's 18 municipalities and the county boundary (Kartverket, CC BY 4.0)."""
    with get_sessionmaker()() as session:
        result = load_administrative_units(session)
    typer.echo(
        f"loaded {result.municipalities} municipalities and {result.counties} county boundary"
    )


@app.command()
def setup() -> None:
    """Migrate the database and load the base data (idempotent)."""
    migrate()
    load_municipalities()


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    port: int = typer.Option(8000, help="port to listen on"),
    workers: int = typer.Option(1, help="worker processes"),
) -> None:
    """Serve the API with uvicorn."""
    uvicorn.run("app.main:app", host=host, port=port, workers=workers, proxy_headers=True)


def main() -> None:
    """Entry point of the `arealsjekk` console script."""
    app()
