"""Conflict reports per check and forum agendas: gather the data, draw maps, render HTML/PDF."""
