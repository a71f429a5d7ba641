"""Imports every rule module so its class registers itself; add new rule modules here."""

from spatial.rules import (  # noqa: F401
    g1_tree_line,
    g2_nature,
    g3_minerals,
    g4_heritage,
    g5_mobility,
)
