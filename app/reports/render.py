"""Rendering reports: Jinja2 templates to HTML, and HTML to PDF with WeasyPrint."""

from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from app import __version__
from app.reports import formatting
from spatial.rules.model import SEVERITIES
from spatial.rules.text import thousands


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
    )
    return env


def render_html(template: str, **context: Any) -> str:
    """Render one of the report templates."""
    return templates().get_template(template).render(**context)


def html_to_pdf(html: str, base_url: str) -> bytes:
    """Lay out an HTML report on A4 pages; relative links resolve against base_url."""
    # Imported here: WeasyPrint loads Pango at import, which the rest of the service never needs.
    from weasyprint import HTML

    return HTML(string=html, base_url=base_url, url_fetcher=_data_urls_only).write_pdf()


def _data_urls_only(url: str, timeout: int = 10, ssl_context=None) -> dict:  # noqa: ANN001
    """Give WeasyPrint the report's embedded images and nothing else.

    The reports embed their maps as data: URLs; fetching any other URL would let text in a
    report make the service send requests on its own network (SSRF, OWASP A10).
    """
    from weasyprint.urls import default_url_fetcher

    if not url.startswith("data:"):
        raise ValueError(f"reports load no external resources ({url[:80]})")
    return default_url_fetcher(url, timeout=timeout, ssl_context=ssl_context)
