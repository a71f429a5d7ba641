"""Rendering reports: Jinja2 templates to HTML (PDF layout: app.reports.pdf)."""

from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from app import __version__
from app.reports import formatting, maps
from spatial.figures import fmt_daa, fmt_pct, thousands
from spatial.rules.model import SEVERITIES


@lru_cache
def templates() -> Environment:
    """Return the Jinja2 environment of app/templates with the Norwegian format filters."""
    env = Environment(
        loader=PackageLoader("app", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        date=formatting.fmt_date,
        datetime=formatting.fmt_datetime,
        long_date=formatting.fmt_long_date,
        thousands=thousands,
        daa=fmt_daa,
        reserves=lambda count: f"{thousands(count)} {'reserve' if count == 1 else 'reserver'}",
        pct=fmt_pct,
        km=lambda metres: formatting.fmt_number(metres / 1000, 1),
        severity=formatting.SEVERITY_LABELS.__getitem__,
        count=formatting.fmt_severity_count,
        review=formatting.REVIEW_LABELS.__getitem__,
    )
    env.globals.update(
        SEVERITIES=SEVERITIES,
        SEVERITY_LABELS=formatting.SEVERITY_LABELS,
        REVIEW_LABELS=formatting.REVIEW_LABELS,
        app_version=__version__,
        north_arrow=maps.NORTH_ARROW_URI,
        draft_label=formatting.DRAFT_LABEL,
    )
    return env


def render_html(template: str, **context: Any) -> str:
    """Render one of the report templates."""
    return templates().get_template(template).render(**context)
