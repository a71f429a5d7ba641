"""Arealsjekk: checks Buskerud plan proposals against Buskerudplanen's land-use guidelines."""

__version__ = "0.1.0"
