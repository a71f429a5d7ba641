# Arealsjekk service image. Multi-stage: build a virtualenv from the lock file, copy it into a
# slim runtime that runs as a non-root user (uid 10001). The wheels of shapely, pyproj,
# pyogrio and rasterio bundle GEOS, PROJ and GDAL, so no system GIS packages are needed.
# Built and tested on every CI run by scripts/container-test.sh (podman).
#
#   docker build -t arealsjekk .
#   # API: migrates and loads the municipalities (idempotent), then serves on :8000
#   docker run -p 8000:8000 -v arealsjekk-rasters:/var/lib/arealsjekk/rasters \
#     -e AREALSJEKK_DATABASE_URL=postgresql+psycopg://user:pw@host/db arealsjekk
#   # Worker: executes the queued jobs (checks, webhook deliveries, re-checks); same image,
#   # same database and raster volume, no HTTP port (so no health check)
#   docker run --no-healthcheck -v arealsjekk-rasters:/var/lib/arealsjekk/rasters \
#     -e AREALSJEKK_DATABASE_URL=... arealsjekk arealsjekk worker
#   # Demo layers (writes the rasters into the volume): ... arealsjekk arealsjekk demo-data
#
# Raster layers (COGs of elevation, tree_line and derived products) live in the volume
# /var/lib/arealsjekk/rasters (AREALSJEKK_RASTER_DIR); the database records their file names,
# so every API and worker container must mount the same volume (or a copy of it).

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
WORKDIR /src
# The pinned dependencies first: this layer is reused as long as the lock file is unchanged.
COPY requirements.lock ./
RUN /opt/venv/bin/pip install -r requirements.lock
COPY pyproject.toml README.md ./
COPY app ./app
COPY spatial ./spatial
COPY layers ./layers
COPY db ./db
COPY migrations ./migrations
RUN /opt/venv/bin/pip install --no-deps .

FROM python:3.11-slim-bookworm AS runtime
# WeasyPrint (PDF reports) needs Pango and a font.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*
# The user's home holds the rasters volume and the caches (fontconfig writes its cache
# under XDG_CACHE_HOME; without a writable one every PDF logs "No writable cache directories").
RUN groupadd --system --gid 10001 arealsjekk \
 && useradd --system --uid 10001 --gid arealsjekk --home-dir /var/lib/arealsjekk \
      --no-create-home --shell /usr/sbin/nologin arealsjekk \
 && install -d -o 10001 -g 10001 -m 0750 \
      /var/lib/arealsjekk /var/lib/arealsjekk/rasters /var/lib/arealsjekk/.cache
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 \
    HOME=/var/lib/arealsjekk XDG_CACHE_HOME=/var/lib/arealsjekk/.cache \
    AREALSJEKK_RASTER_DIR=/var/lib/arealsjekk/rasters \
    AREALSJEKK_LOG_FORMAT=json
WORKDIR /var/lib/arealsjekk
VOLUME /var/lib/arealsjekk/rasters
# Numeric, so that Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
USER 10001:10001
EXPOSE 8000
# Liveness (/healthz), not readiness (/readyz): a restart cannot bring back a database or a
# raster file, so an orchestrator that restarts unhealthy containers must not act on those;
# readiness is for the load balancer (the Kubernetes readinessProbe uses /readyz).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
  CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('AREALSJEKK_PORT', '8000'), timeout=4)"
# Migrations and base data are idempotent; with several replicas run `arealsjekk setup`
# once as a separate job and start the replicas with `arealsjekk serve` only.
# AREALSJEKK_HOST and AREALSJEKK_PORT change the listening address (e.g. with host networking).
CMD ["sh", "-c", "arealsjekk setup && exec arealsjekk serve --host \"${AREALSJEKK_HOST:-0.0.0.0}\" --port \"${AREALSJEKK_PORT:-8000}\""]
