"""Base and guideline layers: configuration, loaders and the data shipped with the project."""
