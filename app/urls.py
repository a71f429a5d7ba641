"""Absolute URLs for links that clients follow, from configuration rather than the Host header.

A Host header is whatever the client sent: echoed into OGC API links, WMS capabilities or
agenda links it would let anyone point other clients at a host of their choosing (OWASP,
"Testing for Host Header Injection"). Links are therefore built from
AREALSJEKK_PUBLIC_URL, or, when that is not set, from a Host on the trusted_hosts list.
"""

import re

from fastapi import Request

from app.settings import Settings
from spatial.errors import ArealsjekkError, Problem
from spatial.messages import Text

# The problem type of an UntrustedHostError (app.errors), which is never replayed
# (app.idempotency).
UNTRUSTED_HOST_SLUG = "untrusted-host"


class UntrustedHostError(ArealsjekkError):
    """The request's Host header is not a trusted host, and no public URL is configured."""


# RFC 9110 §7.2 / RFC 3986 §3.2.2: Host is a name or an [IPv6] literal with an optional port.
# Anything else (user@, paths, a second colon) is no host at all, so it is never trusted.
_HOST = re.compile(r"(?:\[(?P<literal>[0-9a-f:.]+)\]|(?P<name>[a-z0-9._-]+))(?::[0-9]{1,5})?")


def _hostname(host_header: str) -> str | None:
    found = _HOST.fullmatch(host_header.strip().lower())
    if found is None:
        return None
    return found["literal"] or found["name"]


def public_base_url(request: Request, settings: Settings) -> str:
    """Return the service's base URL without a trailing slash, e.g. https://host/prefix."""
    if settings.public_url:
        return settings.public_url
    host = request.headers.get("host", "")
    trusted = {h.strip().lower().strip("[]") for h in settings.trusted_hosts}
    if "*" not in trusted and (_hostname(host) or "") not in trusted:
        shown = host[:100]
        raise UntrustedHostError(
            Text(
                f"Host-headeren «{shown}» er ikke en godkjent vert; driftsansvarlig setter "
                "AREALSJEKK_PUBLIC_URL (eller AREALSJEKK_TRUSTED_HOSTS) til adressen klientene "
                "bruker",
                f"the Host header '{shown}' is not a trusted host; the operator sets "
                "AREALSJEKK_PUBLIC_URL (or AREALSJEKK_TRUSTED_HOSTS) for the address clients use",
            ),
            [Problem(Text("vert som ikke er godkjent", "untrusted host"), field="Host")],
        )
    return str(request.base_url).rstrip("/")


def absolute(base_url: str | None, path: str) -> str:
    """Join a base URL (no trailing slash) and an absolute path; the path alone without one."""
    if not base_url or not path.startswith("/"):
        return path
    return base_url.rstrip("/") + path


def base_url_or_none(request: Request, settings: Settings) -> str | None:
    """Return the base URL for absolute links, or None when the Host is not to be trusted."""
    try:
        return public_base_url(request, settings)
    except UntrustedHostError:
        # A Location header may stay relative (RFC 9110 §10.2.2); an untrusted Host may not
        # become a link.
        return None
