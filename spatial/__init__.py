"""Spatial domain code of Arealsjekk: input parsing, geometry, CRS. Never imports FastAPI."""
