"""Loading Buskerud's municipality and county boundaries (Kartverket, CC BY 4.0) into PostGIS."""

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import geopandas as gpd
import shapely
import yaml
from geoalchemy2.shape import from_shape
from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from db.models import CountyOrm, MunicipalityOrm
from spatial.crs import CANONICAL_SRID
from spatial.geometry import as_multipolygon

DATA_DIR = Path(str(resources.files("layers").joinpath("data")))
MUNICIPALITIES_FILE = DATA_DIR / "boundaries" / "buskerud_kommuner_2024_wgs84.geojson"
COUNTY_FILE = DATA_DIR / "boundaries" / "buskerud_fylke_2024_epsg25833.geojson"
ATTRIBUTES_FILE = DATA_DIR / "buskerud_municipalities.yaml"
SOURCE = "Kartverket, administrative enheter 2024, CC BY 4.0"


@dataclass(frozen=True)
class LoadResult:
    """Counts of what a boundary load wrote."""

    municipalities: int
    counties: int


def _read_canonical(path: Path) -> gpd.GeoDataFrame:
    frame = gpd.read_file(path, engine="pyogrio")
    if frame.crs is None:
        raise ValueError(f"{path.name}: the file does not declare its CRS")
    frame = frame.to_crs(epsg=CANONICAL_SRID)
    frame["geometry"] = shapely.make_valid(frame.geometry.values)
    return frame


def load_administrative_units(session: Session) -> LoadResult:
    """Upsert the 18 municipalities and the county boundary; safe to run repeatedly."""
    attributes = yaml.safe_load(ATTRIBUTES_FILE.read_text("utf-8"))["municipalities"]
    municipalities = _read_canonical(MUNICIPALITIES_FILE)
    missing = set(municipalities["kommunenummer"]) ^ set(attributes)
    if missing:
        raise ValueError(
            f"{ATTRIBUTES_FILE.name} and {MUNICIPALITIES_FILE.name} disagree on municipalities: "
            f"{sorted(missing)}"
        )
    for row in municipalities.itertuples():
        extra = attributes[row.kommunenummer]
        values = {
            "name": row.kommunenavn,
            "region": extra["region"],
            "centrality_class": extra["centrality_class"],
            "source": SOURCE,
            "geom": from_shape(as_multipolygon(row.geometry), srid=CANONICAL_SRID),
            "loaded_at": func.now(),
        }
        session.execute(
            insert(MunicipalityOrm)
            .values(kommunenummer=row.kommunenummer, **values)
            .on_conflict_do_update(index_elements=["kommunenummer"], set_=values)
        )
    county = _read_canonical(COUNTY_FILE)
    for row in county.itertuples():
        values = {
            "name": row.fylkesnavn,
            "source": SOURCE,
            "geom": from_shape(as_multipolygon(row.geometry), srid=CANONICAL_SRID),
            "loaded_at": func.now(),
        }
        session.execute(
            insert(CountyOrm)
            .values(fylkesnummer=row.fylkesnummer, **values)
            .on_conflict_do_update(index_elements=["fylkesnummer"], set_=values)
        )
    session.commit()
    return LoadResult(municipalities=len(municipalities), counties=len(county))
