"""Database access, one module per resource; no FastAPI imports here."""
