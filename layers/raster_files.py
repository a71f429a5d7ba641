"""Whether the raster files (COGs) the database records for raster layers are on disk.

The database holds each raster layer version's file name; the file itself lives in the
raster directory (AREALSJEKK_RASTER_DIR, a volume in the container image). A lost volume
must show as "not ready" and as a named layer in errors, never as a 500 or an empty map.
Messages name the layer and the file name, not the directory, which is the operator's.
"""

from pathlib import Path

from sqlalchemy.orm import Session

from layers.loader import current_versions
from spatial.errors import ArealsjekkError
from spatial.messages import Text


class RasterFileMissingError(ArealsjekkError):
    """A raster layer version's file is not in the raster directory (the service cannot use
    the layer until the file is restored or the layer loaded again)."""


def raster_file_missing(layer_id: str, version: int, file_name: str) -> RasterFileMissingError:
    """The error for a layer version whose raster file is missing, naming layer and file."""
    return RasterFileMissingError(
        Text(
            f"rasterfila til kartlaget {layer_id} (versjon {version}) mangler i "
            f"rasterkatalogen: {file_name}; gjenopprett fila eller last kartlaget på nytt",
            f"the raster file of layer {layer_id} (version {version}) is missing from the "
            f"raster directory: {file_name}; restore the file or load the layer again",
        )
    )


def missing_raster_files(session: Session, raster_dir: Path) -> dict[str, str]:
    """Return {layer id: file name} for the current raster layer versions whose file is not
    in `raster_dir` (empty when all are there)."""
    return {
        layer_id: version.raster_file
        for layer_id, version in sorted(current_versions(session).items())
        if version.raster_file and not (raster_dir / version.raster_file).is_file()
    }


def ensure_raster_files(session: Session, raster_dir: Path) -> None:
    """Raise RasterFileMissingError naming the first current raster layer whose file is not
    in `raster_dir` (a check must not start that would fail on it)."""
    for layer_id, version in sorted(current_versions(session).items()):
        if version.raster_file and not (raster_dir / version.raster_file).is_file():
            raise raster_file_missing(layer_id, version.version, version.raster_file)
