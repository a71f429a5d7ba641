"""The real schemas the demo layers are written in.

Each demo layer is written as the agency distributes it: its source layers under their real
names, the real field names and the real code values (NGU's "Regional betydning",
Naturbase's "SvaertViktigFriluftslivsomraade", INON's "v"/"1"/"2", ...). The builders work
in Arealsjekk's internal attributes; this module renames them and turns each internal value
back into the real code the layer config maps onto it (the first one listed in its
`values:`). Loading the demo therefore goes through the same configured mapping, source
layers and `--set` constants as a real download (layers/README.md).
"""

from dataclasses import dataclass, field
from typing import Any

from layers.registry import LayerConfig

# A feature as the builders make it: internal attribute -> internal value.
Properties = dict[str, Any]


@dataclass(frozen=True)
class DemoSourceLayer:
    """One source layer of a demo download: its real name and which features it holds."""

    name: str
    # the layer-config attributes this source layer gets with --set (not written as fields)
    constants: dict[str, str] = field(default_factory=dict)
    # internal attribute -> real field name, where this layer differs from the layer's fields
    fields: dict[str, str] = field(default_factory=dict)

    def holds(self, properties: Properties) -> bool:
        """Whether a feature belongs here: its constant attributes have this layer's values."""
        return all(properties.get(name) == value for name, value in self.constants.items())


@dataclass(frozen=True)
class DemoSchema:
    """How one layer's demo data is written: real field names and source layers."""

    fields: dict[str, str]
    source_layers: tuple[DemoSourceLayer, ...]

    @property
    def multi_layer(self) -> bool:
        """Whether the download has several source layers (written as a zip of them)."""
        return len(self.source_layers) > 1


def _single(layer_name: str, fields: dict[str, str]) -> DemoSchema:
    return DemoSchema(fields, (DemoSourceLayer(layer_name),))


SCHEMAS: dict[str, DemoSchema] = {
    "tettsteder": _single(
        "tettsted",
        {"name": "tettstednavn", "tettsted_id": "tettstednummer", "population": "totalbefolkning"},
    ),
    "mineral_deposits": DemoSchema(
        {
            "name": "navnRastoffobj",
            "deposit_id": "identRastoffobj",
            "importance": "rastoffBetydning",
            "resource_type": "materialType",
        },
        (
            DemoSourceLayer("SandGrusOmr", {"resource_type": "grus"}),
            DemoSourceLayer("PukkOmr", {"resource_type": "pukk"}),
        ),
    ),
    "heritage_protected": DemoSchema(
        {"name": "navn", "heritage_id": "kulturminneId", "vernetype": "vernetype"},
        (
            DemoSourceLayer("lokalitet", {"category": "lokalitet"}),
            DemoSourceLayer("enkeltminne", {"category": "enkeltminne"}),
            DemoSourceLayer("sikringssone", {"category": "sikringssone"}),
            DemoSourceLayer(
                "kulturmiljoer_kulturmiljo",
                {"category": "fredet kulturmiljø"},
                {"heritage_id": "objid"},
            ),
        ),
    ),
    "cultural_environments": DemoSchema(
        {"name": "navn"},
        (
            DemoSourceLayer("Natur_KulturlandskapUtvalgte", {"category": "utvalgt kulturlandskap"}),
            DemoSourceLayer("kula", {"category": "nasjonal interesse"}),
            DemoSourceLayer("regionale_kulturmiljoer", {"category": "regional interesse"}),
        ),
    ),
    "municipal_heritage_plans": _single(
        "kulturminneplaner",
        {"name": "navn", "kommunenummer": "kommunenummer", "plan_name": "plannavn"},
    ),
    "recreation_areas": _single(
        "Natur_KartlagteFriluftslivsomr", {"name": "omraadenavn", "value": "omraadeverdi"}
    ),
    "state_recreation_areas": _single("Natur_FriStatsikra", {"name": "omraadeNavn"}),
    "villrein_areas": DemoSchema(
        {"name": "omraadenavn", "function": "funksjon"},
        (
            DemoSourceLayer("villrein_leveomrade", {"category": "leveområde"}),
            DemoSourceLayer("villrein_funksjonsomrade", {"category": "funksjonsområde"}),
        ),
    ),
    "villrein_corridors": _single(
        "villrein_trekk", {"name": "navn", "villrein_area": "omraadenavn"}
    ),
    "intact_nature": _single("statusPolygon", {"zone": "vsone"}),
    # FKB-AR5's object type; its GML (AR5 4.5) and FileGDB field is arealtype (real-sources §10)
    "forest_mask": _single("ArealressursFlate", {"arealtype": "arealtype"}),
    "existing_kommuneplan": _single(
        "KpArealformålOmråde",
        {
            "kommunenummer": "kommunenummer",
            "planidentifikasjon": "planidentifikasjon",
            "arealformal": "arealformål",
            "arealbruksstatus": "arealbruksstatus",
        },
    ),
    # Matrikkelen - Bygningspunkt, FileGDB/GML layer bygning (layers/config/buildings.yaml)
    "buildings": _single(
        "bygning",
        {
            "bygningsnummer": "bygningsnummer",
            "bygningstype": "bygningstype",
            "bygningsstatus": "bygningsstatus",
            "kommunenummer": "kommunenummer",
        },
    ),
}


def real_value(config: LayerConfig, attribute: str, value: Any) -> Any:
    """The real code the config maps onto an internal value (the first listed), else itself."""
    values = config.attributes[attribute].values
    return next((real for real, internal in values.items() if internal == value), value)


def real_properties(
    config: LayerConfig, schema: DemoSchema, layer: DemoSourceLayer, properties: Properties
) -> Properties:
    """A feature's internal attributes written as the source layer's real fields and codes."""
    unknown = set(properties) - set(config.attributes)
    if unknown:
        raise ValueError(f"{config.id}: attributes {sorted(unknown)} are not in the layer config")
    fields = {**schema.fields, **layer.fields}
    real: Properties = {}
    for name, value in properties.items():
        if name in layer.constants and name not in fields:
            continue  # no field holds it: the source layer says it (--set), as in the real data
        if name not in fields:
            raise ValueError(f"{config.id}: no real field name for attribute '{name}'")
        real[fields[name]] = real_value(config, name, value)
    return real


def source_layer_of(
    config: LayerConfig, schema: DemoSchema, properties: Properties
) -> DemoSourceLayer:
    """The source layer a feature is written to (the one whose constants it has)."""
    for layer in schema.source_layers:
        if layer.holds(properties):
            return layer
    raise ValueError(f"{config.id}: no source layer holds a feature with {properties}")
