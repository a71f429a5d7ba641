"""Fixed features the sample plans in samples/ rely on, and where those plans lie (EPSG:25832)."""

from shapely.geometry import box

# Where the sample plans in samples/ lie: random features keep out of these boxes.
SAMPLE_AREAS = [
    box(473_000, 6_749_000, 478_200, 6_752_200),  # hemsedal-kpa-2026, north-east valley side
    box(473_700, 6_745_800, 475_000, 6_747_000),  # hemsedal-kpa-2026, LSF1
    box(466_900, 6_745_300, 472_700, 6_752_200),  # hemsedal-kpa-demo (the quick tour)
    box(534_300, 6_618_000, 537_000, 6_620_600),  # kongsberg-kpa-boliger
    box(569_000, 6_663_600, 570_900, 6_665_000),  # hole-steinsletta-regulering
    box(567_000, 6_622_300, 568_300, 6_623_300),  # drammen-stasjon-regulering
]

# Adopted cabin areas in Hemsedal's current kommuneplan: BFR1 and BFR2 are repeated as
# existing areas in samples/hemsedal-kpa-2026.geojson; "Storeli" is the adopted part of
# that plan's expansion BFR13, which reaches above the tree line.
HEMSEDAL_ADOPTED_CABINS = {
    "Fjellstølen hyttefelt": [
        (473880, 6749627),
        (473684, 6749671),
        (473485, 6749685),
        (473511, 6749823),
        (473520, 6749973),
        (473720, 6749964),
        (473915, 6749915),
        (473889, 6749777),
    ],
    "Grøndalsli hyttefelt": [
        (474956, 6749552),
        (474781, 6749566),
        (474611, 6749615),
        (474617, 6749726),
        (474644, 6749848),
        (474819, 6749834),
        (474989, 6749785),
        (474983, 6749674),
    ],
    "Storeli hyttefelt": [
        (476718, 6750877),
        (476500, 6751000),
        (476282, 6751123),
        (476319, 6751217),
        (476381, 6751297),
        (476608, 6751192),
        (476816, 6751051),
        (476780, 6750957),
    ],
}
# A B-valued recreation area on the mountainside above the new cabin area BFR10.
HEMSEDAL_RECREATION = (477_850, 6_751_600, 1_100)
# The regional gravel deposit on the Numedalslågen valley floor north of Kongsberg.
KONGSBERG_DEPOSIT = (535_600, 6_619_300, 700, 260, -76)
# Steinsletta, selected cultural landscape (UKL), about 3 x 2 km at 10.25 E 60.12 N.
STEINSLETTA = (569_470, 6_665_430, 1_500, 1_000, 8)
# A grave mound (gravhaug) just outside the Hole plan's housing area BFS2.
HOLE_GRAVHAUG = (569_950, 6_664_115, 12)
# A regional cultural environment at Tuv, partly covered by the quick-tour sample's H570_1.
TUV_KULTURMILJO = box(468_990, 6_746_180, 469_850, 6_746_800)
