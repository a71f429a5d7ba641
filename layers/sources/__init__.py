"""Readers for guideline data in the forms the agencies distribute it."""
