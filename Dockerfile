# Arealsjekk service image. Multi-stage: build a virtualenv, copy it into a slim runtime
# that runs as a non-root user. The wheels of shapely, pyproj, pyogrio and rasterio bundle
# GEOS, PROJ and GDAL, so no system GIS packages are needed.
# Run against any PostGIS 3 database:
#   docker build -t arealsjekk .
#   docker run -p 8000:8000 -e AREALSJEKK_DATABASE_URL=postgresql+psycopg://user:pw@host/db arealsjekk

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
WORKDIR /src
COPY pyproject.toml README.md ./
COPY app ./app
COPY spatial ./spatial
COPY layers ./layers
COPY db ./db
COPY migrations ./migrations
RUN /opt/venv/bin/pip install .

FROM python:3.11-slim-bookworm AS runtime
# WeasyPrint (PDF reports) needs Pango and a font.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 arealsjekk \
 && useradd --system --uid 10001 --gid arealsjekk --no-create-home arealsjekk
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1
USER arealsjekk
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
# Migrations and base data are idempotent; with several replicas run `arealsjekk setup`
# once as a separate job and start the replicas with `arealsjekk serve` only.
CMD ["sh", "-c", "arealsjekk setup && exec arealsjekk serve --host 0.0.0.0 --port 8000"]
