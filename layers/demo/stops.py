"""The demo's transport hubs written as NSR distributes them: a NeTEx stop place export.

Entur publishes the Nasjonalt stoppestedsregister as NeTEx XML (Nordic NeTEx profile,
"stops"): a `PublicationDelivery` whose `SiteFrame` lists `stopPlaces/StopPlace`, each with
an `NSR:StopPlace:<n>` id, a version, `Name`, `Centroid/Location` in WGS84 degrees,
`TransportMode` and `StopPlaceType`. The demo is written in that structure, so
`arealsjekk demo-data` loads it through the NeTEx reader (layers/sources/netex.py) and the
`readers.netex` map of layers/config/transport_hubs.yaml, as an operator loads Entur's file.
"""

from pathlib import Path
from xml.etree.ElementTree import Comment, Element, SubElement, indent, tostring

from layers.demo.base import DEMO_LICENCE, DEMO_NOTE, DEMO_SOURCE, DEMO_SOURCE_DATE, Feature, lonlat
from layers.registry import LayerConfig
from layers.sources.stops import NETEX_NAMESPACE, reader_settings

# The version string of NSR's exports (NeTEx 1.15, Nordic profile for stops).
NETEX_VERSION = "1.15:NO-NeTEx-stops:1.4"
# Internal hub type -> NSR StopPlaceType and TransportMode. NSR has no type for a small bus
# hub: a bus terminal is busStation whatever its size (Nordic NeTEx profile), which the
# config reads as regionalt knutepunkt.
STOP_PLACES = {
    "jernbanestasjon": ("railStation", "rail"),
    "regionalt knutepunkt": ("busStation", "bus"),
}


def netex_xml(config: LayerConfig, features: list[Feature]) -> bytes:
    """The hubs as a NeTEx PublicationDelivery with one StopPlace each (deterministic bytes)."""
    settings = reader_settings(config, "netex")
    if settings is None:
        raise ValueError(f"{config.id}: the layer config has no readers.netex")
    # A default namespace written as a plain attribute: no global prefix registry touched.
    root = Element("PublicationDelivery", {"xmlns": NETEX_NAMESPACE, "version": NETEX_VERSION})
    root.append(Comment(f" {DEMO_SOURCE}; licence: {DEMO_LICENCE} "))
    SubElement(root, "PublicationTimestamp").text = f"{DEMO_SOURCE_DATE.isoformat()}T00:00:00"
    SubElement(root, "ParticipantRef").text = "NSR"
    SubElement(root, "Description").text = DEMO_NOTE
    frame = SubElement(
        SubElement(root, "dataObjects"),
        "SiteFrame",
        {"modification": "new", "version": "1", "id": "NSR:SiteFrame:1"},
    )
    locale = SubElement(SubElement(frame, "FrameDefaults"), "DefaultLocale")
    SubElement(locale, "TimeZone").text = "Europe/Oslo"
    SubElement(locale, "DefaultLanguage").text = "no"
    places = SubElement(frame, "stopPlaces")
    for number, (point, properties) in enumerate(features, start=1):
        hub_type = properties["hub_type"]
        if hub_type not in STOP_PLACES:
            raise ValueError(f"{config.id}: no NSR stop place type written for '{hub_type}'")
        stop_type, mode = STOP_PLACES[hub_type]
        if settings.hub_types.get(stop_type) != hub_type:
            raise ValueError(
                f"{config.id}: readers.netex does not read '{stop_type}' as '{hub_type}'"
            )
        lon, lat = lonlat(point.x, point.y)
        place = SubElement(places, "StopPlace", {"version": "1", "id": f"NSR:StopPlace:{number}"})
        SubElement(place, "Name", {"lang": "nor"}).text = properties["name"]
        location = SubElement(SubElement(place, "Centroid"), "Location")
        # Seven decimals are about a centimetre, the precision of the other demo layers.
        SubElement(location, "Longitude").text = f"{lon:.7f}"
        SubElement(location, "Latitude").text = f"{lat:.7f}"
        SubElement(place, "TransportMode").text = mode
        SubElement(place, "StopPlaceType").text = stop_type
    indent(root, space="  ")
    body = tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'.encode()


def write_netex(path: Path, config: LayerConfig, features: list[Feature]) -> Path:
    """Write the hubs to path as a NeTEx XML file; return the path."""
    path.write_bytes(netex_xml(config, features))
    return path
