"""Imports every rule module so its class registers itself; add new rule modules here."""

from spatial.rules import g1_tree_line  # noqa: F401
