"""Service configuration, read from environment variables (and an optional .env file)."""

import re
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import (
    Field,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import SettingsConfigDict

from db.settings import DatabaseSettings

# basemap_url's value for the base map drawn by this service (the WMS layer `basemap`).
OFFLINE_BASEMAP = "offline"
LOOPBACK = ("127.0.0.1", "localhost", "::1")


class Settings(DatabaseSettings):
    """All settings of the service; every field can be set as AREALSJEKK_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="AREALSJEKK_", env_file=".env", extra="ignore")

    # database_url and db_pool_size come from DatabaseSettings (db/settings.py).
    # Raster layers are stored here as Cloud Optimized GeoTIFFs, one file per version.
    raster_dir: Path = Path(".local/rasters")

    # Upload limits (SPEC §Non-functional, security): refuse before parsing where we can.
    max_upload_bytes: PositiveInt = 20 * 1024 * 1024
    max_upload_features: PositiveInt = 20_000
    max_upload_vertices: PositiveInt = 500_000
    # Zipped Shapefiles are checked before anything is unpacked (zip bombs, traversal).
    max_zip_members: PositiveInt = 100
    max_unpacked_bytes: PositiveInt = 64 * 1024 * 1024
    max_compression_ratio: float = Field(200.0, gt=1)
    # How far (m) a plan feature may reach outside the county boundary before it is
    # rejected; the shipped boundary is exact but plans are drawn on other base maps.
    outside_county_tolerance_m: float = Field(200.0, ge=0)
    # A self-intersecting polygon is repaired only if make_valid keeps its area within
    # this relative difference; otherwise the intent of the drawing is unclear.
    repair_max_area_change: float = Field(0.01, ge=0, le=1)

    # Rule set file; empty means the shipped layers/rules/buskerudplanen-2026.yaml.
    rule_set_file: Path | None = None
    # Land-account method file; empty means the shipped layers/rules/arealregnskap-2026.yaml.
    land_account_method_file: Path | None = None
    # Versions with more areas than this are checked as a background job (202 + status URL).
    sync_check_max_features: PositiveInt = 300

    # `arealsjekk worker` (app/jobs.py): jobs run at once per worker process (checks are
    # CPU-bound: scale with processes; webhook rounds mostly wait on the network), how often
    # a worker says it is alive, and after how long without that its jobs go to another.
    worker_concurrency: PositiveInt = 2
    worker_heartbeat_s: float = Field(10.0, gt=0)
    worker_stalled_after_s: float = Field(30.0, gt=0)

    # Webhook deliveries: per-request timeout, attempts before giving up, the first retry
    # delay (doubled each time), and how often a delivery round looks again while sending.
    webhook_timeout_s: float = Field(5.0, gt=0)
    webhook_max_attempts: PositiveInt = 6
    webhook_backoff_s: float = Field(2.0, gt=0)
    webhook_poll_s: float = Field(1.0, gt=0)
    # Webhook URLs must reach public addresses: the service would otherwise POST, on a
    # client's behalf, to loopback, private or link-local hosts (SSRF: the database,
    # cloud metadata). An on-premises case system on the internal network needs this on.
    webhook_allow_private_networks: bool = False
    # Deliveries run concurrently, at most this many at once in all and per webhook URL host,
    # so one slow or dead receiver does not hold up the others.
    webhook_concurrency: PositiveInt = 8
    webhook_concurrency_per_host: PositiveInt = 2

    # Largest WIDTH/HEIGHT a WMS GetMap may ask for.
    wms_max_size: PositiveInt = 4096
    # Most layers one GetMap/GetFeatureInfo may name (LAYERS, QUERY_LAYERS).
    wms_max_layers: PositiveInt = 50
    # Maps are rendered in a pool of worker processes; a render that runs past the time
    # limit is killed with its process (Mapnik cannot be interrupted inside a thread) and the
    # pool refilled. A request that waits longer than the queue limit for a free renderer
    # is answered 503 (ServerBusy) rather than tying up a server thread.
    wms_render_processes: PositiveInt = 2
    wms_render_timeout_s: float = Field(10.0, gt=0)
    wms_queue_timeout_s: float = Field(5.0, gt=0)

    # The map page's base map: an XYZ tile template ({z}/{x}/{y}, or {z}/{y}/{x} as in
    # Kartverket's WMTS REST cache), or "offline" (or empty) for the WMS layer `basemap` drawn
    # by this service from its own terrain model and municipalities (tests, air-gapped use).
    # The CSP's img-src allows the template's origin and no other.
    basemap_url: str = (
        "https://cache.kartverket.no/v1/wmts/1.0.0/topo/default/webmercator/{z}/{y}/{x}.png"
    )
    basemap_attribution: str = "© Kartverket"

    # Absolute links (OGC API, WMS capabilities, agenda, webhooks) are built from this base
    # URL, e.g. https://arealsjekk.bfk.no. When it is empty they are built from the request's
    # Host header, but only for the hosts listed in trusted_hosts (a forged Host must not
    # end up in links that clients follow: OWASP "Host header injection"); other hosts get 400.
    public_url: str | None = None
    trusted_hosts: list[str] = ["127.0.0.1", "localhost", "::1"]

    # Web clients on other origins (app.cors): the origins (scheme://host[:port]) whose
    # scripts may call /api/v1, e.g. ["https://sak.drammen.kommune.no"]; "*" for any. Default
    # none. The public read services (WMS, OGC API, tiles) answer every origin regardless.
    cors_origins: list[str] = []
    # How long caches may keep answers of the public read services before revalidating
    # (app.http_cache); the data change when layers or proposals change.
    public_cache_max_age_s: NonNegativeInt = 60
    # Most megabytes of tiles kept in the tile cache (app.tiles.cache), all layers together:
    # past it the oldest are deleted, so requests for ever new tiles cannot fill the database.
    tile_cache_max_mb: PositiveFloat = 1024.0

    # Browser sign-in (POST /api/v1/session): the absolute lifetime of a session (OWASP
    # Session Management Cheat Sheet, "absolute timeout"); «Logg ut» ends one before that.
    session_max_age_s: PositiveInt = 12 * 3600

    # Idempotency records are replayed for this long after the request, then forgotten.
    idempotency_ttl_s: PositiveInt = 24 * 3600

    # Behind a municipality's login proxy (e.g. oauth2-proxy with OIDC), the request header
    # that names the signed-in user (X-Forwarded-User, X-Auth-Request-User, X-Forwarded-Email);
    # reviews record it. Unset, the header is ignored: anyone could send it. Set it only when
    # the service is reachable through the proxy alone, which overwrites the header.
    user_header: str | None = None

    # Caps on what one uploaded feature may store (names, free text, original attributes).
    max_text_length: PositiveInt = 1000
    max_feature_property_bytes: PositiveInt = 1024 * 1024
    max_feature_property_keys: PositiveInt = 1000
    # Reading and validating one upload may take at most this long (parsing hostile files).
    upload_time_budget_s: float = Field(15.0, gt=0)

    # Reading a kommuneplan allocates a container per coordinate pair; with Python's default
    # generation-0 threshold (700) the collector keeps walking every object in the process
    # while a large plan is read. The service, `arealsjekk check` and bench/engine.py freeze
    # what start-up allocated and collect generation 0 after this many allocations instead
    # (measured on the benchmark plans: bench/README.md, "Garbage collection"); 0 leaves
    # Python's collector untouched.
    gc_generation0_threshold: NonNegativeInt = 50_000

    # Logs (app.observability): one JSON object per line (the image's setting) or readable
    # text lines (development); the threshold is a logging level name.
    log_format: Literal["json", "text"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    # GET /metrics (app.metrics) answers only `Authorization: Bearer <this token>` when set;
    # unset, it answers anyone, so keep it off the public ingress.
    metrics_token: SecretStr | None = None

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _log_words(cls, value: object, info: ValidationInfo) -> object:
        # `info`, `JSON`: case is not what an operator means to set.
        if not isinstance(value, str):
            return value
        word = value.strip()
        return word.upper() if info.field_name == "log_level" else word.lower()

    default_page_limit: PositiveInt = 50
    max_page_limit: PositiveInt = 1000

    @model_validator(mode="after")
    def _check_page_limits(self) -> "Settings":
        if self.default_page_limit > self.max_page_limit:
            raise ValueError("default_page_limit must not exceed max_page_limit")
        return self

    @field_validator("basemap_url")
    @classmethod
    def _check_basemap_url(cls, value: str) -> str:
        value = value.strip()
        if value.lower() in ("", OFFLINE_BASEMAP):
            return OFFLINE_BASEMAP
        parts = urlsplit(value)
        if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in LOOPBACK):
            raise ValueError("basemap_url must be an https URL template, or 'offline'")
        if not parts.netloc or not all(f"{{{k}}}" in value for k in ("z", "x", "y")):
            raise ValueError("basemap_url must be a tile template with {z}, {x} and {y}")
        return value

    @property
    def tile_cache_max_bytes(self) -> int:
        """The tile cache's limit in bytes."""
        return int(self.tile_cache_max_mb * 1024 * 1024)

    @property
    def basemap_origin(self) -> str | None:
        """The scheme and host the map page loads base-map tiles from; None when offline."""
        if self.basemap_url == OFFLINE_BASEMAP:
            return None
        parts = urlsplit(self.basemap_url)
        return f"{parts.scheme}://{parts.netloc}"

    @field_validator("user_header")
    @classmethod
    def _check_user_header(cls, value: str | None) -> str | None:
        if not value:
            return None
        # A header field name is an RFC 9110 §5.1 token.
        if not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}", value):
            raise ValueError("user_header must be a header name such as X-Forwarded-User")
        return value

    @field_validator("cors_origins")
    @classmethod
    def _check_cors_origins(cls, values: list[str]) -> list[str]:
        origins = []
        for value in values:
            value = value.strip().rstrip("/")
            parts = urlsplit(value)
            if value != "*" and (
                parts.scheme not in ("http", "https")
                or not parts.netloc
                or parts.path
                or parts.query
                or parts.fragment
            ):
                raise ValueError(
                    "cors_origins must list origins such as https://host[:port], or '*'"
                )
            # Browsers send Origin with a lowercase scheme and host (RFC 6454 §6.1).
            origins.append(value if value == "*" else f"{parts.scheme}://{parts.netloc}".lower())
        return origins

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
            raise ValueError("public_url must be an absolute http(s) URL such as https://host")
        return value.rstrip("/")


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings (tests clear the cache to change them)."""
    return Settings()
